package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// overview says what the dump is and why the kernel crashed, in the rows
// and words of `dumpscope triage` and `info` (package present): first the
// crash analysis (crash.go; a job started when the view is first shown),
// leading with the crash signature and the verdict, then what the headers
// say (present.InfoRows), the frames by state once the root has counted
// them, and the problems found while opening. Only the layout, the colours
// and the links (enter: a report opens in the Log view, the task in Tasks,
// a CPU in CPUs) are the Overview's own.
type overview struct {
	c     *Common
	keys  OverviewKeys
	list  listModel
	links map[int]tea.Cmd
	crash crashState
	w     int
}

func newOverview(c *Common) *overview {
	o := &overview{c: c, keys: OverviewKeys{NavKeys: newNavKeys(), Open: bind([]string{"enter"}, "enter", "open (a report, the task, a CPU)")}, list: newList()}
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

// SetSize lays the text out again when the width changes (long values
// wrap).
func (o *overview) SetSize(w, h int) {
	o.list.setSize(w, h)
	if w != o.w {
		o.w = w
		o.rebuild()
	}
}

// Show reads the crash analysis the first time, and again after a cancel.
func (o *overview) Show() tea.Cmd {
	cmd := o.crash.start(o.c)
	o.rebuild()
	return cmd
}

// Cancel stops reading the crash analysis.
func (o *overview) Cancel() bool { return o.crash.job.stop() }

// Status shows the crash analysis's progress.
func (o *overview) Status() string {
	if o.crash.job.running() {
		return fmt.Sprintf("analysing the crash: %d pages read (esc cancels)", o.crash.job.doneN)
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
	case themeMsg, countedMsg, infoMsg:
		o.rebuild()
	case tea.KeyPressMsg:
		if key.Matches(msg, o.keys.Open) {
			if cmd := o.links[o.list.cursor]; cmd != nil {
				return cmd
			}
			return status("nothing to open here: enter opens a report, the crashing task or a CPU")
		}
		o.list.handleKey(msg)
	case tea.MouseMsg:
		o.list.mouse(msg, msg.Mouse().Y)
	}
	return nil
}

// rebuild lays out the text with the current theme.
func (o *overview) rebuild() {
	st, in := o.c.St, o.c.Info
	var p page
	rows := present.InfoRows(in)
	// Values start two cells after the longest label, as `info` aligns
	// them (the analysis's labels are shorter than "crash kernel loaded").
	col := labelColumn + 2
	for _, r := range rows {
		col = max(col, min(render.Width(r.Key)+4, 32))
	}
	o.crash.lines(&p, st, in.Arch, o.c.S.Name(), col, o.w)
	p.title(st, "What this dump is", "  (the headers, as `dumpscope info` prints them)")
	for _, r := range rows {
		p.add(labelledAt(st, col, r.Key, r.Value, o.w)...)
	}
	p.add(o.pageLines(st, col)...)
	p.title(st, fmt.Sprintf("problems (%d)", len(in.Warnings)), "  (found while opening)")
	if len(in.Warnings) == 0 {
		p.add(render.Line{st.ok.Span("  ✓ none found while opening"), st.dim.Span(" (Verify checks every page)")})
	}
	dir := dumpDir(in)
	for _, pr := range in.Warnings {
		p.add(problemLine(st, pr, dir))
	}
	o.list.setLines(p.lines)
	o.links = p.links
}

// pageLines are the "pages" row of `info`, one line per state with its
// share drawn as a bar of the state's glyph; the count column is as wide
// as the largest count.
func (o *overview) pageLines(st *styles, col int) []render.Line {
	label := st.label.Span("  " + render.Pad("pages", col-3) + " ")
	indent := render.Text(strings.Repeat(" ", col))
	switch {
	case o.c.Counting:
		return []render.Line{{label, st.dim.Span("counting…")}}
	case o.c.CountErr != nil:
		return labelledAt(st, col, "pages", "not counted: "+errText(o.c.CountErr), o.w)
	}
	rows := present.StateRows(o.c.Info.Pages)
	if len(rows) == 0 {
		return []render.Line{{label, st.value.Span(present.Counts(o.c.Info.Pages)), st.dim.Span("  (the headers give no counts)")}}
	}
	stateW, countW := 0, 0
	for _, r := range rows {
		stateW = max(stateW, len(r.State))
		countW = max(countW, len(fmt.Sprint(r.Count)))
	}
	var out []render.Line
	for i, r := range rows {
		g := present.StateGlyph(r.State)
		bar := strings.Repeat(g, clamp(int(r.Percent/5+0.5), 1, 20))
		l := render.Line{label}
		if i > 0 {
			l = render.Line{indent}
		}
		out = append(out, append(l, st.states[r.State].Span(g+" "), st.label.Span(render.Pad(string(r.State), stateW+1)),
			st.value.Span(fmt.Sprintf("%*d %6.2f%%  ", countW, r.Count, r.Percent)), st.states[r.State].Span(bar)))
	}
	return out
}

// dumpDir is the folder of the dump's first file, which problem
// locations are named relative to ("" for a name that is not a path).
func dumpDir(in model.Info) string {
	if len(in.Files) == 0 {
		return ""
	}
	if !filepath.IsAbs(in.Files[0]) {
		return "" // named as the user gave it: relative already, or not a path
	}
	return filepath.Dir(in.Files[0])
}

// problemLine draws a problem: severity glyph and word, code, where
// (files relative to dir), what.
func problemLine(st *styles, p model.Problem, dir string) render.Line {
	pn := severityPen(st, p.Severity)
	return render.Line{pn.Span("  " + render.Pad(present.SeverityMark(p.Severity)+" "+string(p.Severity), 10)), st.value.Span(p.Code.String()),
		st.dim.Span("  " + present.Where(p, dir) + ": "), st.value.Span(p.Message)}
}
