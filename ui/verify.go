package ui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// verifyView runs reader.Verify on demand (every page decoded, the
// format's own checks) with progress and cancel, and lists the problems;
// enter opens a problem's frame in Memory or its offset in Layout.
type verifyView struct {
	c      *Common
	keys   VerifyKeys
	job    *job
	report *inspect.Report
	err    string
	list   listModel
	w, h   int
}

// summaryRows is the height of the summary above the problem list and
// detailRows that of the selected problem's full text below it.
const (
	summaryRows = 3
	detailRows  = 3
)

func newVerifyView(c *Common) *verifyView {
	k := VerifyKeys{NavKeys: newNavKeys(),
		Run:  bind([]string{"r"}, "r", "run verify"),
		Open: bind([]string{"enter"}, "enter", "open the problem's pfn / offset")}
	return &verifyView{c: c, keys: k, list: newList()}
}

func (v *verifyView) Name() string      { return "verify" }
func (v *verifyView) Title() string     { return "Verify" }
func (v *verifyView) Keys() help.KeyMap { return v.keys }
func (v *verifyView) Init() tea.Cmd     { return nil }

func (v *verifyView) SetSize(w, h int) {
	v.w, v.h = w, h
	v.list.setSize(w, max(h-summaryRows-detailRows, 1))
}

// run starts reader.Verify as a job.
func (v *verifyView) run() tea.Cmd {
	if v.job.running() {
		return status("verify is already running (esc cancels)")
	}
	v.report, v.err = nil, ""
	v.list.setLines(nil)
	s := v.c.S
	var cmd tea.Cmd
	v.job, cmd = startJob(v.c.Ctx, "verify", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		r, err := s.Verify(ctx, inspect.VerifyOptions{Progress: progress})
		if err != nil {
			return nil, err
		}
		// Verify read the dump whole, which completes what its headers
		// say (a container's problems): the root takes the new Info.
		return verified{r, s.Info()}, nil
	})
	return cmd
}

// verified is what the verify job returns.
type verified struct {
	report *inspect.Report
	info   model.Info
}

// done shows the report, and gives the root the Info verify completed.
func (v *verifyView) done(d jobDoneMsg) tea.Cmd {
	switch {
	case d.cancelled():
		v.err = "cancelled; r runs it again"
	case d.err != nil:
		v.err = errText(d.err)
	default:
		r, _ := d.val.(verified)
		v.report = r.report
		v.rebuild()
		return func() tea.Msg { return infoMsg{r.info} }
	}
	return nil
}

func (v *verifyView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobProgressMsg, jobDoneMsg:
		cmd, _ := v.job.follow(msg, v.done)
		return cmd
	case themeMsg:
		v.rebuild()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, v.keys.Run):
			return v.run()
		case key.Matches(msg, v.keys.Open):
			return v.open()
		}
		v.list.handleKey(msg)
	case tea.MouseMsg:
		v.list.mouse(msg, msg.Mouse().Y-summaryRows)
	}
	return nil
}

func (v *verifyView) rebuild() {
	if v.report == nil {
		return
	}
	st := v.c.St
	lines := make([]render.Line, 0, len(v.report.Problems))
	for _, p := range v.report.Problems {
		lines = append(lines, problemLine(st, p, dumpDir(v.c.Info)))
	}
	v.list.setLines(lines)
}

// open shows the selected problem's frame or file offset.
func (v *verifyView) open() tea.Cmd {
	if v.report == nil || len(v.report.Problems) == 0 {
		return nil
	}
	p := v.report.Problems[v.list.cursor]
	switch {
	case p.PFN != nil:
		return navigate("memory", gotoPhysMsg{addr: model.PFN(*p.PFN).Addr(v.c.pageSize())})
	case p.Offset != nil:
		return navigate("layout", locateMsg{file: p.File, off: int64(*p.Offset)})
	}
	return status("this problem names no frame or offset")
}

// Cancel stops a running verify.
func (v *verifyView) Cancel() bool { return v.job.stop() }

func (v *verifyView) View() string {
	st := v.c.St
	var head []string
	r := v.report
	switch {
	case v.job.running():
		pct := v.job.percent()
		head = []string{
			render.Line{st.title.Span("Verifying every page"), st.dim.Span(" (esc cancels)")}.Render(v.w, nil),
			render.Line{st.value.Span(progressBar(pct, min(v.w-30, 50))), st.value.Span(fmt.Sprintf(" %5.1f%%  %d of %d pages", pct, v.job.doneN, v.job.tot))}.Render(v.w, nil),
		}
	case v.err != "":
		head = []string{render.Line{st.err.Span("verify: " + v.err)}.Render(v.w, nil)}
	case r == nil:
		head = []string{
			render.Line{st.title.Span("Verify decodes every stored page and checks the dump's structures.")}.Render(v.w, nil),
			render.Line{st.dim.Span("Press "), st.key.Span("r"), st.dim.Span(" to run it (esc cancels); enter on a problem opens its pfn or offset.")}.Render(v.w, nil),
		}
	default:
		verdict := render.Line{st.ok.Span("✓ OK: no errors")}
		if !r.OK {
			verdict = render.Line{st.err.Span("✗ DAMAGED: errors found")}
		}
		verdict = append(verdict, st.dim.Span("   "+present.Count(r.Count(model.SeverityError), "error")+", "+
			present.Count(r.Count(model.SeverityWarning), "warning")+", "+present.Count(r.Count(model.SeverityNote), "note")))
		head = []string{
			verdict.Render(v.w, nil),
			render.Line{st.label.Span("pages checked "), st.value.Span(fmt.Sprint(r.PagesChecked)),
				st.label.Span("   bytes checked "), st.value.Span(present.Bytes(int64(r.BytesChecked))),
				st.dim.Span("   r runs it again")}.Render(v.w, nil),
		}
		if len(r.Problems) == 0 {
			head = append(head, render.Line{st.dim.Span("no problems to list")}.Render(v.w, nil))
		}
	}
	return render.Block(head, v.w, summaryRows) + "\n" + v.list.view(st, true) + "\n" + render.Block(v.details(st), v.w, detailRows)
}

// details shows the selected problem in full, wrapped.
func (v *verifyView) details(st *styles) []string {
	if v.report == nil || len(v.report.Problems) == 0 {
		return nil
	}
	p := v.report.Problems[v.list.cursor]
	sev := present.SeverityMark(p.Severity) + " " + string(p.Severity)
	out := []string{render.Line{severityPen(st, p.Severity).Span(sev + " "), st.title.Span(p.Code.String()),
		st.dim.Span("  " + present.Where(p, dumpDir(v.c.Info)))}.Render(v.w, nil)}
	for _, l := range render.Wrap(p.Message, v.w-2) {
		out = append(out, render.Line{st.value.Span("  " + l)}.Render(v.w, nil))
	}
	return out
}

// Search finds a problem by code or message.
func (v *verifyView) Search(q string, d searchDir) tea.Cmd {
	return searchStatus(q, v.list.search(q, d))
}

// Status shows the position in the problem list.
func (v *verifyView) Status() string {
	if v.report == nil || len(v.report.Problems) == 0 {
		return ""
	}
	return fmt.Sprintf("problem %d/%d", v.list.cursor+1, len(v.report.Problems))
}
