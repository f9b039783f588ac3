package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/ui/render"
)

// logView is the crashed kernel's log, read from memory through VMCOREINFO
// (the printk ring buffer, or the older log_buf): one row per line of
// vmcore-dmesg's output, with each record's level and caller in a gutter
// and the selected record's other fields on the last row. It opens on the
// newest record, where a crash prints. The log is read by a job the first
// time the view is shown; only the visible rows are formatted (logText),
// and `/` searches in a job.
type logView struct {
	c    *Common
	keys LogKeys

	load readJob
	text *logText // nil until read
	err  error    // why the log, or part of it, could not be read

	find              *job
	cursor, top, xoff int // cursor and top count visible rows (logjump.go)
	hideFields        bool

	// level shows records of this level and worse (-1: all); vis are the
	// rows it shows (nil: all).
	level int
	vis   []int32
	// reports are the reports the crash analysis found in the log (read
	// by repJob once the log is read); pending is a record to go to once
	// the log is read.
	repJob  *job
	reports []model.CrashReportRef
	repErr  error
	pending *uint64

	head []render.Line // the lines above the rows: title, and why the log is partial
	w, h int
}

// logRead is what the engine gives: the records read, and why it stopped
// when it did not read them all.
type logRead struct {
	recs []model.LogRecord
	err  error
}

// logLoaded is what the load job returns.
type logLoaded struct {
	text *logText
	err  error
}

// logHit is what a search job returns.
type logHit struct {
	row   int
	found bool
	query string
}

func newLogView(c *Common) *logView { return &logView{c: c, keys: newLogKeys(), level: -1} }

func (v *logView) Name() string      { return "log" }
func (v *logView) Title() string     { return "Log" }
func (v *logView) Keys() help.KeyMap { return v.keys }
func (v *logView) Init() tea.Cmd     { return nil }

func (v *logView) SetSize(w, h int) {
	v.w, v.h = w, h
	v.layoutHead()
	v.scrollToCursor()
}

// Show reads the log the first time the view is shown, and again after a
// cancelled read.
func (v *logView) Show() tea.Cmd {
	if v.text != nil || v.err != nil {
		return nil
	}
	c := v.c
	return v.load.start(c, "log", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		res, err := c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			recs, err := k.Log(ctx)
			return logRead{recs, err}, nil
		})
		if err != nil {
			return nil, err
		}
		r, _ := res.(logRead)
		t, err := newLogText(ctx, r.recs, progress)
		if err != nil {
			return nil, err
		}
		return logLoaded{text: t, err: r.err}, nil
	})
}

func (v *logView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobProgressMsg, jobDoneMsg:
		return v.jobMsg(msg)
	case themeMsg:
		v.layoutHead()
	case logJumpMsg:
		if v.text == nil {
			v.pending = &msg.seq
			return nil
		}
		v.jumpToSeq(msg.seq)
	}
	return nil
}

// jobMsg follows the load and search jobs.
func (v *logView) jobMsg(msg tea.Msg) tea.Cmd {
	cmd, _ := followJobs(msg, jobDone{v.load.job, v.logDone}, jobDone{v.repJob, v.reportsDone}, jobDone{v.find, v.findDone})
	return cmd
}

// logDone takes the log (or why it cannot be read), goes to the record
// asked for while it was read and starts the search for its reports.
func (v *logView) logDone(d jobDoneMsg) tea.Cmd {
	switch res, _ := d.val.(logLoaded); {
	case d.cancelled():
		v.load.cancelled = true
	case d.err != nil:
		v.err = d.err
	case len(res.text.rows) == 0 && res.err != nil:
		v.err = res.err // nothing was read: say why instead
	default:
		v.text, v.err = res.text, res.err
		v.cursor = max(len(v.text.rows)-1, 0)
		v.setLevel(v.level)
		if v.pending != nil {
			v.jumpToSeq(*v.pending)
			v.pending = nil
		}
	}
	v.layoutHead()
	v.scrollToCursor()
	if v.text != nil {
		return v.startReports()
	}
	return nil
}

// findDone goes to the match a search found, or says why there is none.
func (v *logView) findDone(d jobDoneMsg) tea.Cmd {
	hit, _ := d.val.(logHit)
	switch {
	case d.cancelled():
		return status("search cancelled")
	case d.err != nil:
		return errorCmd(d.err)
	case !hit.found:
		return status("no match for " + hit.query)
	}
	v.moveTo(hit.row)
	return nil
}

func (v *logView) key(msg tea.KeyPressMsg) tea.Cmd {
	k, page := v.keys, v.bodyRows()
	if v.text == nil {
		// The keys that go to records say there are none, and why.
		if v.err != nil && key.Matches(msg, k.NextReport, k.PrevReport, k.Crash, k.Level) {
			return status("no log: " + errText(v.err))
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.NextReport):
		return v.jumpReport(1)
	case key.Matches(msg, k.PrevReport):
		return v.jumpReport(-1)
	case key.Matches(msg, k.Crash):
		return v.jumpCrash()
	case key.Matches(msg, k.Level):
		v.cycleLevel()
		return status("showing " + levelText(v.level) + " (f: next level)")
	case key.Matches(msg, k.Up):
		v.moveTo(v.cursor - 1)
	case key.Matches(msg, k.Down):
		v.moveTo(v.cursor + 1)
	case key.Matches(msg, k.PageUp):
		v.top = max(v.top-page, 0)
		v.moveTo(v.cursor - page)
	case key.Matches(msg, k.PageDown):
		v.top = clamp(v.top+page, 0, max(v.count()-page, 0))
		v.moveTo(v.cursor + page)
	case key.Matches(msg, k.Top):
		v.moveTo(0)
	case key.Matches(msg, k.Bottom):
		v.moveTo(v.count() - 1)
	case key.Matches(msg, k.Left):
		v.xoff = max(v.xoff-8, 0)
	case key.Matches(msg, k.Right):
		v.xoff = min(v.xoff+8, max(v.text.maxW-8, 0))
	case key.Matches(msg, k.Fields):
		v.hideFields = !v.hideFields
	}
	return nil
}

func (v *logView) mouse(msg tea.MouseMsg) tea.Cmd {
	if v.text == nil {
		return nil
	}
	mo := msg.Mouse()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		switch mo.Button {
		case tea.MouseWheelUp:
			v.moveTo(v.cursor - 3)
		case tea.MouseWheelDown:
			v.moveTo(v.cursor + 3)
		}
	case tea.MouseClickMsg:
		if y := mo.Y - len(v.head); mo.Button == tea.MouseLeft && y >= 0 && y < v.bodyRows() && v.top+y < v.count() {
			v.moveTo(v.top + y)
		}
	}
	return nil
}

// bodyRows is how many log rows fit between the head and the detail row.
func (v *logView) bodyRows() int { return max(v.h-len(v.head)-1, 1) }

func (v *logView) moveTo(i int) {
	if v.text == nil {
		return
	}
	v.cursor = clamp(i, 0, v.count()-1)
	v.scrollToCursor()
}

func (v *logView) scrollToCursor() {
	if v.text == nil {
		return
	}
	v.top = scrolledTop(v.cursor, v.top, v.bodyRows(), v.count())
}

// layoutHead builds the lines above the rows for the current size, theme
// and content.
func (v *logView) layoutHead() {
	st := v.c.St
	if v.text == nil {
		v.head = nil
		return
	}
	title := fmt.Sprintf("Kernel log · %d records, %d lines", len(v.text.recs), len(v.text.rows))
	v.head = []render.Line{{st.title.Span(title), st.dim.Span(" · " + v.reportsHead() + " · d: gutter")}}
	if v.err != nil {
		why := whyLines(st, "the log is incomplete: reading stopped part-way", v.err, v.w)
		v.head = append(v.head, why[:min(len(why), max(v.h/3, 2))]...)
	}
}

func (v *logView) View() string {
	st := v.c.St
	if v.text == nil {
		return render.Block(render.Lines(v.placeholder(), v.w), v.w, v.h)
	}
	rows := render.Lines(v.head, v.w)
	gutter := v.gutterWidth()
	for i := v.top; i < v.count() && i < v.top+v.bodyRows(); i++ {
		rows = append(rows, v.rowLine(st, i, gutter))
	}
	for len(rows) < v.h-1 {
		rows = append(rows, "")
	}
	detail := ""
	if v.count() > 0 {
		row := v.rowAt(v.cursor)
		detail = "  " + recordDetail(v.text.record(row))
		if i := v.reportOf(int(v.text.rows[row].rec)); i >= 0 {
			detail += " · " + v.reportText(i)
		}
	} else if len(v.text.rows) > 0 {
		detail = "  no record of " + levelText(v.level) + " (f: next level)"
	}
	rows = append(rows[:max(v.h-1, 0)], render.Line{st.dim.Span(detail)}.Render(v.w, nil))
	return render.Block(rows, v.w, v.h)
}

// placeholder says why there are no rows yet: reading, cancelled, empty,
// or what is missing.
func (v *logView) placeholder() []render.Line {
	st := v.c.St
	switch {
	case v.load.running():
		return []render.Line{{st.dim.Span("reading the kernel log from memory… (esc cancels)")}}
	case v.load.cancelled:
		return []render.Line{{st.dim.Span("reading the log was cancelled; switch to another view and back to read it again")}}
	case v.err != nil:
		return whyLines(st, "the kernel log cannot be read from this dump", v.err, v.w)
	}
	return []render.Line{{st.dim.Span("the kernel log is empty")}}
}

// gutterWidth is the width of the level and caller columns (0 when hidden
// or when no record has either).
func (v *logView) gutterWidth() int {
	if v.hideFields {
		return 0
	}
	w := 0
	if v.text.levels {
		w += 7
	}
	if v.text.callerW > 0 {
		w += v.text.callerW + 1
	}
	return w
}

// rowLine draws visible row i: the report mark, the gutter (on a
// record's first line), then the text from the horizontal offset; the
// cursor row reversed.
func (v *logView) rowLine(st *styles, vi, gutter int) string {
	i := v.rowAt(vi)
	r := v.text.rows[i]
	rec := v.text.recs[r.rec]
	p := levelPen(st, rec.Level)
	var l render.Line
	if len(v.reports) > 0 {
		l = append(l, v.reportMark(st, int(r.rec), int(r.sub)))
	}
	if gutter > 0 {
		g := ""
		if r.sub == 0 {
			if v.text.levels {
				g = render.Pad(levelName(rec.Level), 7)
			}
			if v.text.callerW > 0 {
				g += render.Pad(rec.Caller, v.text.callerW+1)
			}
		}
		l = append(l, p.Span(render.Pad(g, gutter)))
	}
	text := v.text.row(i)
	if v.xoff > 0 {
		text = text[min(v.xoff, len(text)):]
	}
	l = append(l, p.Span(text))
	var sel *render.Pen
	if vi == v.cursor {
		sel = &st.selected
	}
	return l.Render(v.w, sel)
}

// unread says why there is no log text: it is still being read, or it
// cannot be (the view says why at length).
func (v *logView) unread() string {
	if v.err != nil {
		return "no log to search: " + errText(v.err)
	}
	return "the log is not read yet"
}

// Search finds text in the log's lines from the cursor on, in a job.
func (v *logView) Search(q string, dir searchDir) tea.Cmd {
	if v.text == nil {
		return status(v.unread())
	}
	v.find.stop()
	t, vis, from, query := v.text, v.vis, v.cursor, strings.ToLower(q)
	var cmd tea.Cmd
	v.find, cmd = startJob(v.c.Ctx, "search", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		row, found, err := t.search(ctx, query, vis, from, dir, progress)
		return logHit{row: row, found: found, query: q}, err
	})
	return cmd
}

// Cancel stops a search, the read, or the search for reports.
func (v *logView) Cancel() bool { return v.find.stop() || v.load.stop() || v.repJob.stop() }

// Status shows the position, or the work in progress.
func (v *logView) Status() string {
	switch {
	case v.load.running() && v.load.tot == 0:
		return fmt.Sprintf("reading the log: %d pages read (esc cancels)", v.load.doneN)
	case v.load.running():
		return fmt.Sprintf("indexing the log %.0f%% (esc cancels)", v.load.percent())
	case v.find.running():
		return fmt.Sprintf("searching %.0f%% (esc cancels)", v.find.percent())
	case v.text == nil || v.count() == 0:
		return ""
	}
	s := fmt.Sprintf("line %d of %d", v.rowAt(v.cursor)+1, len(v.text.rows))
	if v.xoff > 0 {
		s += fmt.Sprintf(", from column %d", v.xoff+1)
	}
	return s
}
