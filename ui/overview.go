package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/ui/render"
)

// overview says what the dump is: first the crash summary the triage
// engine reads from the kernel's memory (a job started when the view is
// first shown), then what model.Info says (no I/O): format, architecture,
// kernel, crash time, page size, frames by state, codecs, CPUs, and the
// warnings found while opening it.
type overview struct {
	c     *Common
	keys  ListKeys
	list  listModel
	crash crashState
	w     int
}

func newOverview(c *Common) *overview {
	o := &overview{c: c, keys: ListKeys{newNavKeys()}, list: newList()}
	o.rebuild()
	return o
}

func (o *overview) Name() string      { return "overview" }
func (o *overview) Title() string     { return "Overview" }
func (o *overview) Init() tea.Cmd     { return nil }
func (o *overview) Keys() help.KeyMap { return o.keys }
func (o *overview) View() string      { return o.list.view(o.c.St, true) }
func (o *overview) Search(q string, d searchDir) tea.Cmd {
	return searchStatus(q, o.list.search(q, d))
}

// SetSize lays the text out again when the width changes (long reasons
// wrap).
func (o *overview) SetSize(w, h int) {
	o.list.setSize(w, h)
	if w != o.w {
		o.w = w
		o.rebuild()
	}
}

// Show reads the crash summary the first time, and again after a cancel.
func (o *overview) Show() tea.Cmd {
	cmd := o.crash.start(o.c)
	o.rebuild()
	return cmd
}

// Cancel stops reading the crash summary.
func (o *overview) Cancel() bool { return o.crash.job.stop() }

// Status shows the crash summary's progress.
func (o *overview) Status() string {
	if o.crash.job.running() {
		return fmt.Sprintf("reading the crash summary: %d pages read (esc cancels)", o.crash.job.doneN)
	}
	return ""
}

func (o *overview) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobProgressMsg, jobDoneMsg:
		cmd, ok := o.crash.update(msg)
		if ok {
			o.rebuild()
		}
		return cmd
	case themeMsg:
		o.rebuild()
	case tea.KeyPressMsg:
		o.list.handleKey(msg)
	case tea.MouseMsg:
		o.list.mouse(msg, msg.Mouse().Y)
	}
	return nil
}

// rebuild lays out the text with the current theme.
func (o *overview) rebuild() {
	st, in := o.c.St, o.c.Info
	var lines []render.Line
	title := func(s string) { lines = append(lines, render.Line{st.title.Span(s)}) }
	row := func(k, v string) {
		lines = append(lines, render.Line{st.label.Span("  " + render.Pad(k, 16)), st.value.Span(v)})
	}
	lines = append(lines, o.crash.lines(st, in.Arch, strings.Join(in.Files, " "), o.w)...)
	lines = append(lines, render.Line{})
	title("What this dump is")
	row("files", strings.Join(in.Files, " "))
	row("format", fmt.Sprintf("%s, %s container, %d file%s", in.Format, in.Container, in.Parts, plural(in.Parts)))
	row("architecture", fmt.Sprintf("%s, %s-endian", orDash(in.Arch), in.Endian))
	row("kernel release", orDash(in.OSRelease))
	ct := "- (not recorded)"
	if in.CrashTime != nil {
		ct = fmt.Sprintf("%s (%d)", time.Unix(*in.CrashTime, 0).UTC().Format("2006-01-02 15:04:05 UTC"), *in.CrashTime)
	}
	row("crash time", ct)
	row("page size", humanBytes(in.PageSize))
	kind := in.FrameKind
	if kind == "" {
		kind = "physical"
	}
	row("frames", fmt.Sprintf("%d (pfn 0x0-%#x), %s frame numbers", in.MaxPFN, max(in.MaxPFN, 1)-1, kind))
	codecs := make([]string, len(in.Compression))
	for i, c := range in.Compression {
		codecs[i] = string(c)
	}
	row("codecs", orDash(strings.Join(codecs, ", ")))
	row("cpus", fmt.Sprint(in.CPUs))
	row("vmcoreinfo", yesNo(in.VMCoreInfo))
	row("build-id", orDash(in.BuildID))
	if in.HeaderVersion != nil {
		row("header version", fmt.Sprint(*in.HeaderVersion))
	}
	row("flags", orDash(strings.Join(in.Flags, ", ")))
	for _, kv := range in.Details {
		row(kv.Key, kv.Value)
	}
	lines = append(lines, render.Line{})
	title("Frames by state (what the headers say; Memory shows every run)")
	var total uint64
	for _, n := range in.Pages {
		total += n
	}
	for _, s := range model.AllStates {
		n := in.Pages[s]
		if n == 0 {
			continue
		}
		pct := 100 * float64(n) / float64(max(total, 1))
		bar := strings.Repeat(stateGlyph(s), clamp(int(pct/5+0.5), 1, 20))
		lines = append(lines, render.Line{st.states[s].Span("  " + stateGlyph(s) + " "), st.label.Span(render.Pad(string(s), 13)),
			st.value.Span(fmt.Sprintf("%12d %6.2f%%  ", n, pct)), st.states[s].Span(bar)})
	}
	if len(in.Pages) == 0 {
		lines = append(lines, render.Line{st.dim.Span("  (the headers give no counts)")})
	}
	lines = append(lines, render.Line{})
	title(fmt.Sprintf("Warnings (%d)", len(in.Warnings)))
	if len(in.Warnings) == 0 {
		lines = append(lines, render.Line{st.ok.Span("  ✓ none found while opening"), st.dim.Span(" (Verify checks every page)")})
	}
	for _, p := range in.Warnings {
		lines = append(lines, problemLine(st, p))
	}
	o.list.setLines(lines)
}

// problemLine draws a problem: severity glyph and word, code, where, what.
func problemLine(st *styles, p model.Problem) render.Line {
	pn, sev := st.severity(p.Severity)
	return render.Line{pn.Span("  " + render.Pad(sev, 10)), st.value.Span(p.Code.String()), st.dim.Span("  " + strings.TrimSpace(p.Where()) + ": "), st.value.Span(p.Message)}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
