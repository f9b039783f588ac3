package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// crashState is the Overview's crash analysis: the report of `dumpscope
// triage` (Session.Triage: why and where the kernel crashed, the crash
// signature, and which analyses the dump supports), read by a job when
// the Overview is first shown.
type crashState struct {
	job     readJob
	t       *model.Triage
	excerpt []model.LogRecord // the log records of the crash
	err     error
}

// triageRead is what the job returns: the report, and what the headers
// say once the engine is built (a VMCOREINFO recovered from memory names
// the release and the build).
type triageRead struct {
	t       *model.Triage
	excerpt []model.LogRecord
	info    model.Info
}

// lastLogLines is how many of the log's last records the Overview shows
// when no report in it crashed the kernel (a stopped or live system).
const lastLogLines = 10

// start reads the analysis unless it is read or being read.
func (cs *crashState) start(c *Common) tea.Cmd {
	if cs.t != nil || cs.err != nil {
		return nil
	}
	return cs.job.start(c, "crash analysis", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		ctx = pagesProgress(ctx, progress)
		// Where the engine cannot run (another architecture) every
		// analysis would fail for that one reason: say it once.
		k, err := c.kernel(ctx)
		if err != nil {
			return nil, err
		}
		t, err := c.S.Triage(ctx)
		if err != nil {
			return nil, err
		}
		r := triageRead{t: t, info: c.S.Info()}
		// The same analysis, made once: its log records of the crash, or
		// else the log's last records.
		if a, err := k.Crash(ctx); err == nil {
			r.excerpt = a.Excerpt
		}
		if len(r.excerpt) == 0 {
			if recs, _ := k.Log(ctx); len(recs) > 0 {
				r.excerpt = recs[max(len(recs)-lastLogLines, 0):]
			}
		}
		return r, nil
	})
}

// update takes the job's messages; ok is false for other jobs' messages.
// Once the report is read, the root is given the headers' facts again.
func (cs *crashState) update(msg tea.Msg) (tea.Cmd, bool) {
	return cs.job.follow(msg, func(d jobDoneMsg) tea.Cmd {
		switch {
		case d.cancelled():
			cs.job.cancelled = true
		case d.err != nil:
			cs.err = d.err
		default:
			r, _ := d.val.(triageRead)
			cs.t, cs.excerpt = r.t, r.excerpt
			return func() tea.Msg { return infoMsg{r.info} }
		}
		return nil
	})
}

// page is text being laid out for a list, with the links some lines
// carry: enter on such a line follows it.
type page struct {
	lines []render.Line
	links map[int]tea.Cmd
}

// add appends lines.
func (p *page) add(ls ...render.Line) { p.lines = append(p.lines, ls...) }

// link appends lines that all follow cmd.
func (p *page) link(cmd tea.Cmd, ls ...render.Line) {
	if p.links == nil {
		p.links = map[int]tea.Cmd{}
	}
	for _, l := range ls {
		p.links[len(p.lines)] = cmd
		p.lines = append(p.lines, l)
	}
}

// title adds a blank line and a section title with a dim note.
func (p *page) title(st *styles, s, note string) {
	p.add(render.Line{}, render.Line{st.title.Span(s), st.dim.Span(note)})
}

// lines lays the analysis out in w cells, values from column col, in the
// words of `dumpscope triage` (package present): the signature and the
// verdict first, then why, where (with the panicking task's unwound stack
// beside the log's call trace, and the log's records of the crash), what
// the dump supports, the kernel's own
// variables, the reports of the log (each a link into the Log view), where
// VMCOREINFO came from, and what could not be read (each reason once;
// name, the dump's, is left out of the engine's messages).
func (cs *crashState) lines(p *page, st *styles, arch, name string, col, w int) {
	var reasons present.Reasons // each reason once (a dump without VMCOREINFO fails everything for it)
	row := func(r present.Row) { p.add(labelledAt(st, col, r.Key, reasons.Shorten(r.Key, r.Value), w)...) }
	switch {
	case cs.job.running():
		p.add(render.Line{st.title.Span("Crash analysis"), st.dim.Span(fmt.Sprintf("  reading… %d pages so far (esc cancels)", cs.job.doneN))})
		return
	case cs.job.cancelled:
		p.add(render.Line{st.title.Span("Crash analysis"), st.dim.Span("  cancelled; switch to another view and back to read it again")})
		return
	case cs.err != nil:
		p.add(whyLines(st, "no crash analysis: the kernel cannot be read from this dump", cs.err, w)...)
		return
	case cs.t == nil:
		p.add(render.Line{st.title.Span("Crash analysis"), st.dim.Span("  not read yet")})
		return
	}
	t := cs.t
	sig := present.SignatureRows(t.Why)
	p.add(labelledPen(st, st.title, col, sig[0].Key, reasons.Shorten(sig[0].Key, sig[0].Value), w)...)
	mark, pen := "✓ ", st.ok
	if !t.Usable.Ready {
		mark, pen = "✗ ", st.warn
	}
	p.add(labelledPen(st, pen, col, "usable", reasons.Shorten("usable", mark+t.Usable.Summary), w)...)

	p.title(st, "Why it crashed", "  (the signature's hash is the same for the same bug in another boot)")
	for _, r := range append(sig[1:], present.WhyRows(t.Why)...) {
		row(r)
	}
	p.title(st, "Where it crashed", "  (enter on the task or a CPU opens it)")
	linked := func(cmd tea.Cmd, r present.Row) {
		p.link(cmd, labelledAt(st, col, r.Key, reasons.Shorten(r.Key, r.Value), w)...)
	}
	for _, r := range present.WhereRows(t.Where) {
		switch {
		case r.Key == "task" && t.Where.Task != nil:
			linked(navigate("tasks", selectTaskMsg{*t.Where.Task}), r)
		case r.Key == "crashing cpu" && t.Where.CPU != nil:
			linked(navigate("cpus", selectCPUMsg{*t.Where.CPU}), r)
		default:
			row(r)
		}
	}
	for i, r := range present.CPURows(t.Where, arch) {
		linked(navigate("cpus", selectCPUMsg{t.Where.CPUs[i].CPU}), r)
	}
	stackLines(p, st, t.Where, w)
	if len(cs.excerpt) > 0 {
		title := "Log of the crash"
		if len(t.Reports) == 0 || t.Why.Verdict == model.CrashNone {
			title = "Last kernel log lines"
		}
		p.title(st, title, "  (enter opens it in the Log view)")
		for _, r := range cs.excerpt {
			for _, l := range strings.Split(model.DmesgLine(r), "\n") {
				p.link(navigate("log", logJumpMsg{seq: r.Seq}), render.Line{levelPen(st, r.Level).Span("  " + drawable(l))})
			}
		}
	}

	p.title(st, "What the dump supports", "  (each analysis tried with the reads it needs)")
	for _, r := range present.VerdictRows(t.Usable) {
		pen := st.value
		switch {
		case strings.HasPrefix(r.Value, "NO"):
			pen = st.err
		case strings.HasPrefix(r.Value, "no"):
			pen = st.warn
		}
		p.add(labelledPen(st, pen, col, r.Key, reasons.Shorten(r.Key, r.Value), w)...)
	}
	if len(t.Memory.Read) > 0 {
		p.title(st, "The kernel's variables", "  (read from memory beside the log)")
		for _, r := range present.MemoryRows(t.Memory) {
			row(r)
		}
	}
	if len(t.Reports) > 0 {
		p.title(st, fmt.Sprintf("Reports in the log (%d)", len(t.Reports)), "  (enter opens one in the Log view)")
		for _, r := range t.Reports {
			p.link(navigate("log", logJumpMsg{seq: r.FirstSeq}), reportLine(st, r, w))
		}
	}
	p.add(render.Line{})
	if t.VMCoreInfo.Source != model.VMCoreInfoFromNote && t.VMCoreInfo.Source != model.VMCoreInfoFromNone || t.VMCoreInfo.Search != nil {
		// (the verdict's vmcoreinfo row says the rest)
		row(present.Row{Key: "vmcoreinfo", Value: present.VMCoreInfoOrigin(t.VMCoreInfo)})
	}
	if s := t.VMCoreInfo.Search; s != nil {
		for _, c := range s.Candidates {
			row(present.CandidateRow(c))
		}
	}
	for _, n := range t.Notes {
		row(present.Row{Key: "note", Value: n})
	}
	for _, na := range present.NotAvailable(t.Problems, name) {
		row(present.Row{Key: "not available", Value: na})
	}
}

// reportLine is one report of the log: its class, title and header, the
// one that crashed the kernel marked.
func reportLine(st *styles, r model.CrashReportRef, w int) render.Line {
	mark, pen := "  ", st.value
	if r.Cause {
		mark, pen = "▶ ", st.err
	}
	text := r.Title
	if r.Cause {
		text += "  (the crash)"
	}
	if !r.Complete {
		text += "  (cut short)"
	}
	ts := fmt.Sprintf("[%5d.%06d] ", r.TimestampNS/1e9, r.TimestampNS%1e9/1e3)
	return render.Line{pen.Span("  " + mark), st.dim.Span(ts), pen.Span(text), st.dim.Span("  " + r.Header)}
}

// stackLines draws the crashing task's stack as memory unwinds it beside
// the call trace the log printed, and their agreement; without either,
// the text pointers on the crashing CPU's stack.
func stackLines(p *page, st *styles, where model.CrashWhere, w int) {
	var left, right []render.Line
	leftTitle := "stack unwound from memory"
	if where.UnwoundFrom != "" {
		leftTitle += " by " + where.UnwoundFrom
	}
	for _, f := range where.Unwound {
		pen := st.value
		if !f.Reliable {
			pen = st.dim
		}
		left = append(left, render.Line{pen.Span("  " + present.UnwoundFrame(f))})
	}
	div := -1
	if a := where.StackAgreement; a != nil && a.Divergence != nil {
		div = a.Divergence.LogIndex
	}
	for i, f := range where.Trace {
		pen, mark := st.value, "  "
		if !f.Reliable {
			pen = st.dim
		}
		if i == div {
			pen, mark = st.err, "✗ "
		}
		right = append(right, render.Line{pen.Span(mark + present.Frame(f))})
	}
	if len(left) == 0 && len(right) == 0 {
		if len(where.StackScan) > 0 {
			p.title(st, "stack (text pointers)", "  (a scan from the stack pointer up: stale return addresses show too)")
			for _, sw := range where.StackScan {
				p.add(render.Line{st.addr.Span("  " + sw.Addr.String()), st.dim.Span(": "), st.title.Span(sw.Symbol)})
			}
		}
		return
	}
	task := "the crashing task"
	if where.PID != nil {
		task = fmt.Sprintf("PID %d %s", *where.PID, present.Printable(where.Comm))
	}
	p.add(render.Line{}, render.Line{st.title.Span("Stack of " + task), st.dim.Span("  (the Tasks view unwinds every task)")})
	colW := 0
	for _, l := range left {
		colW = max(colW, render.Width(l.Plain()))
	}
	colW = max(colW, render.Width(leftTitle)+2)
	side := len(left) > 0 && len(right) > 0 && 2*colW+3 <= w
	head := func(s string) render.Line { return render.Line{st.label.Span("  " + s)} }
	switch {
	case side:
		p.add(render.Line{st.label.Span(render.Pad("  "+leftTitle, colW)), st.dim.Span(" │ "), st.label.Span("the log's call trace")})
		for i := 0; i < max(len(left), len(right)); i++ {
			var l render.Line
			if i < len(left) {
				l = append(l, left[i]...)
			}
			l = append(l, render.Text(strings.Repeat(" ", max(colW-render.Width(l.Plain()), 0))), st.dim.Span(" │ "))
			if i < len(right) {
				l = append(l, right[i]...)
			}
			p.add(l)
		}
	default:
		if len(left) > 0 {
			p.add(head(leftTitle))
			p.add(left...)
		}
		if len(right) > 0 {
			p.add(head("the log's call trace"))
			p.add(right...)
		}
	}
	if a := where.StackAgreement; a != nil {
		mark, pen := "✓ agree: ", st.ok
		if !a.Agree {
			mark, pen = "✗ disagree: ", st.err
		}
		for i, s := range render.Wrap(mark+a.Summary, max(w-4, 10)) {
			if i > 0 {
				pen = st.value
			}
			p.add(render.Line{pen.Span("  " + s)})
		}
	}
}

// labelledPen is labelledAt with the value in pen.
func labelledPen(st *styles, pen render.Pen, col int, label, value string, w int) []render.Line {
	out := labelledAt(st, col, label, value, w)
	for _, l := range out {
		l[len(l)-1].Pen = pen
	}
	return out
}
