package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/ui/render"
)

// The Log view's level filter and its reports: f shows only records of a
// level and worse (KERN_WARNING and worse, KERN_ERR and worse, …); the
// reports the crash analysis found in the log (every oops, warning,
// lockup, stall and the panic, model.CrashAnalysis.Reports) are marked in
// a gutter, ] and [ move between them, and p goes to the one that crashed
// the kernel. The filter builds the list of visible rows once, when it
// changes (a comparison a record); the views' cursor and scrolling work
// on visible rows.

// logLevels are the levels f cycles through: everything, then warnings
// and worse, errors and worse, critical and worse, emergencies.
var logLevels = []int{-1, 4, 3, 2, 0}

// logReports is what the reports job returns.
type logReports struct {
	reports []model.CrashReportRef
}

// startReports reads the crash analysis's reports (the analysis is made
// once for the session: the Overview's made it already, or this does).
func (v *logView) startReports() tea.Cmd {
	c := v.c
	var cmd tea.Cmd
	v.repJob, cmd = startJob(c.Ctx, "reports", func(ctx context.Context, progress func(done, total uint64)) (any, error) {
		return c.engineCall(ctx, progress, func(ctx context.Context, k *kernel.Kernel) (any, error) {
			a, err := k.Crash(ctx)
			if err != nil {
				return nil, err
			}
			return logReports{reports: a.Reports}, nil
		})
	})
	return cmd
}

// reportsDone takes the reports, and goes to a record asked for before
// the log was read.
func (v *logView) reportsDone(d jobDoneMsg) tea.Cmd {
	switch {
	case d.cancelled():
		v.repErr = errors.New("finding the reports was cancelled")
	case d.err != nil:
		v.repErr = d.err
	default:
		r, _ := d.val.(logReports)
		v.reports = r.reports
	}
	v.layoutHead()
	return nil
}

// count is how many rows are visible.
func (v *logView) count() int {
	if v.vis != nil {
		return len(v.vis)
	}
	return len(v.text.rows)
}

// rowAt is the row of the log that visible row i shows.
func (v *logView) rowAt(i int) int {
	if v.vis != nil {
		return int(v.vis[i])
	}
	return i
}

// setLevel shows the records of level l and worse (-1: all), keeping
// the cursor on the same record when it stays visible, else on the next
// visible one.
func (v *logView) setLevel(l int) {
	if v.text == nil {
		v.level = l
		return
	}
	row := 0
	if v.count() > 0 {
		row = v.rowAt(v.cursor)
	}
	v.level = l
	v.vis = nil
	if l >= 0 {
		v.vis = make([]int32, 0, len(v.text.rows)/4)
		for i, r := range v.text.rows {
			// Records without a level (a log_buf without one) stay.
			if lv := v.text.recs[r.rec].Level; lv <= l {
				v.vis = append(v.vis, int32(i))
			}
		}
	}
	v.cursor = v.visibleFrom(row)
	v.layoutHead()
	v.scrollToCursor()
}

// visibleFrom is the first visible row at or after log row r (the last
// one when none is).
func (v *logView) visibleFrom(r int) int {
	if v.vis == nil {
		return clamp(r, 0, max(len(v.text.rows)-1, 0))
	}
	i := sort.Search(len(v.vis), func(i int) bool { return int(v.vis[i]) >= r })
	return clamp(i, 0, max(len(v.vis)-1, 0))
}

// cycleLevel moves f's filter to the next level.
func (v *logView) cycleLevel() {
	i := 0
	for k, l := range logLevels {
		if l == v.level {
			i = k
		}
	}
	v.setLevel(logLevels[(i+1)%len(logLevels)])
}

// levelText names the filter: "all levels", "warn and worse".
func levelText(l int) string {
	if l < 0 {
		return "all levels"
	}
	if l == 0 {
		return "emerg only"
	}
	return levelName(l) + " and worse"
}

// rowOfSeq is the first row of the record with sequence number seq (or
// the first record after it).
func (v *logView) rowOfSeq(seq uint64) int {
	recs := v.text.recs
	ri := sort.Search(len(recs), func(i int) bool { return recs[i].Seq >= seq })
	rows := v.text.rows
	return sort.Search(len(rows), func(i int) bool { return int(rows[i].rec) >= ri })
}

// jumpToSeq shows the record with sequence number seq near the top.
func (v *logView) jumpToSeq(seq uint64) {
	if v.text == nil || v.count() == 0 {
		return
	}
	v.cursor = v.visibleFrom(v.rowOfSeq(seq))
	v.top = max(v.cursor-2, 0)
	v.scrollToCursor()
}

// reportOf returns the index of the report record rec belongs to, or -1.
func (v *logView) reportOf(rec int) int {
	seq := v.text.recs[rec].Seq
	i := sort.Search(len(v.reports), func(i int) bool { return v.reports[i].FirstSeq > seq }) - 1
	if i >= 0 && seq <= v.reports[i].LastSeq {
		return i
	}
	return -1
}

// jumpReport goes to the next (dir 1) or previous (-1) report from the
// cursor; it returns the status to show.
func (v *logView) jumpReport(dir int) tea.Cmd {
	if msg := v.reportsMissing(); msg != "" {
		return status(msg)
	}
	// Reports are in the log's order: the next is the first that starts
	// after the cursor's row, the previous the last that starts before.
	cur := v.rowAt(v.cursor)
	at := -1
	for i, r := range v.reports {
		first := v.rowOfSeq(r.FirstSeq)
		if dir > 0 && first > cur {
			at = i
			break
		}
		if dir < 0 && first < cur {
			at = i
		}
	}
	if at < 0 {
		if dir > 0 {
			return status("no report after this line ([ goes back)")
		}
		return status("no report before this line (] goes on)")
	}
	v.jumpToSeq(v.reports[at].FirstSeq)
	return status(v.reportText(at))
}

// jumpCrash goes to the report that crashed the kernel, or the panic.
func (v *logView) jumpCrash() tea.Cmd {
	if msg := v.reportsMissing(); msg != "" {
		return status(msg)
	}
	at := -1
	for i, r := range v.reports {
		if r.Cause || (at < 0 && r.Panic) {
			at = i
		}
	}
	if at < 0 {
		return status("no report crashed the kernel: ] and [ go through the reports")
	}
	v.jumpToSeq(v.reports[at].FirstSeq)
	return status(v.reportText(at))
}

// reportsMissing says why there is no report to go to, or "".
func (v *logView) reportsMissing() string {
	switch {
	case v.text == nil && v.err != nil:
		return "no reports: " + errText(v.err)
	case v.text == nil:
		return "the log is not read yet"
	case v.repJob.running():
		return "finding the reports in the log… (esc cancels)"
	case v.repErr != nil:
		return "no reports: " + errText(v.repErr)
	case len(v.reports) == 0:
		return "the log holds no report (no oops, warning, lockup, stall or panic)"
	}
	return ""
}

// reportText describes report i: "report 2 of 3: kernel panic: sysrq
// triggered crash (the crash)".
func (v *logView) reportText(i int) string {
	r := v.reports[i]
	s := fmt.Sprintf("report %d of %d: %s", i+1, len(v.reports), present.OrDash(r.Title))
	if r.Cause {
		s += " (the crash)"
	}
	if !r.Complete {
		s += " (cut short)"
	}
	return s
}

// reportMark is the gutter's mark for a row of record rec at line sub:
// "┏"/"┃" for the report that crashed the kernel, "┌"/"│" for the others,
// "" outside reports.
func (v *logView) reportMark(st *styles, rec, sub int) render.Span {
	i := v.reportOf(rec)
	if i < 0 {
		return render.Text("  ")
	}
	first := v.text.recs[rec].Seq == v.reports[i].FirstSeq && sub == 0
	mark, pen := "│", st.warn
	switch {
	case v.reports[i].Cause && first:
		mark, pen = "┏", st.err
	case v.reports[i].Cause:
		mark, pen = "┃", st.err
	case first:
		mark = "┌"
	}
	return pen.Span(mark + " ")
}

// reportsHead is the head's note on the reports and the filter.
func (v *logView) reportsHead() string {
	var parts []string
	if v.level >= 0 {
		parts = append(parts, fmt.Sprintf("%s: %d of %d lines (f)", levelText(v.level), v.count(), len(v.text.rows)))
	} else {
		parts = append(parts, "f: filter by level")
	}
	switch {
	case v.repJob.running():
		parts = append(parts, "finding the reports…")
	case len(v.reports) > 0:
		parts = append(parts, fmt.Sprintf("%s (]/[ move, p: the crash)", present.Count(len(v.reports), "report")))
	}
	return strings.Join(parts, " · ")
}

// Commands adds :level.
func (v *logView) Commands() []Command {
	return []Command{{Name: "level", Args: "all|N|NAME", Help: "show log records of this level and worse (0 emerg … 7 debug; all: every record)", Run: func(a string) (tea.Cmd, error) {
		a = strings.ToLower(strings.TrimSpace(a))
		l := -1
		switch {
		case a == "all" || a == "":
		default:
			l = -2
			for i, n := range levelNames {
				if n == a || fmt.Sprint(i) == a {
					l = i
				}
			}
			if l == -2 {
				return nil, fmt.Errorf("no level %q (levels: all, 0-7, %s)", a, strings.Join(levelNames[:], ", "))
			}
		}
		v.setLevel(l)
		return nil, nil
	}}}
}
