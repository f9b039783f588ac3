package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"dumpscope/model"
	"dumpscope/present"
)

// Tests of the crash analysis in the Overview and of the Log view's
// level filter and report jumps, on the Debian panic dump (and on
// writer-made reports).

// TestOverviewLeadsWithTheSignature: on a real kdump of a panic, the
// Overview's first rows are the crash signature and the verdict; the
// panicking task's unwound stack stands beside the log's call trace with
// their agreement; the task, a CPU and a report open their views.
func TestOverviewLeadsWithTheSignature(t *testing.T) {
	s := debianSession(t, debianPanic)
	tr, err := s.Triage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := newSessionModel(t, s, 160, 60, "dark")
	ov := m.views[0].(*overview)
	lines := linesOf(ov.list)
	if len(lines) < 2 || flat(lines[0]) != "crash signature "+tr.Why.Signature.Title || flat(lines[1]) != "usable ✓ "+tr.Usable.Summary {
		t.Fatalf("the Overview does not lead with the signature and the verdict:\n%s", strings.Join(lines, "\n"))
	}
	text := strings.Join(lines, "\n")
	// The stacks side by side: the first unwound frame beside the log's
	// first frame, then the agreement.
	w := tr.Where
	first := fmt.Sprintf("  %s │   %s", present.UnwoundFrame(w.Unwound[0]), present.Frame(w.Trace[0]))
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(strings.Join(strings.Fields(l), " "), strings.Join(strings.Fields(first), " "))
	}) {
		t.Errorf("the stacks do not stand side by side (%q):\n%s", first, text)
	}
	for _, want := range []string{"Stack of PID 1 init", "stack unwound from memory by " + w.UnwoundFrom, "the log's call trace",
		"✓ agree: " + w.StackAgreement.Summary[:40], "Log of the crash", "Kernel panic - not syncing: " + tr.Why.PanicMessage,
		"Reports in the log (1)", "▶ ", "(the crash)", "panic_cpu", "tasks yes: the task list walks"} {
		if !strings.Contains(flat(text), flat(want)) {
			t.Errorf("the Overview lacks %q:\n%s", want, text)
		}
	}
	// enter on the task opens it in Tasks; ctrl+o comes back.
	at := func(prefix string) int {
		return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), prefix) })
	}
	ov.list.moveTo(at("task "))
	press(t, m, "enter")
	tv := tasksOf(m)
	if _, tk, _ := tv.current(); m.Active() != "tasks" || tk == nil || tk.Task != *w.Task {
		t.Fatalf("enter on the task opens %s at %+v, want task %s", m.Active(), tk, w.Task)
	}
	press(t, m, "ctrl+o")
	if m.Active() != "overview" || ov.list.cursor != at("task ") {
		t.Fatalf("ctrl+o returns to %s row %d", m.Active(), ov.list.cursor)
	}
	ov.list.moveTo(at("cpu 1 "))
	press(t, m, "enter")
	if cv := cpusOf(m); m.Active() != "cpus" || cv.cpus[cv.idx] != 1 {
		t.Fatalf("enter on cpu 1 opens %s", m.Active())
	}
	press(t, m, "backspace")
	// enter on the report opens it in the Log view, at its first record.
	ov.list.moveTo(at("▶ "))
	press(t, m, "enter")
	lv := logOf(m)
	cause := tr.Reports[slices.IndexFunc(tr.Reports, func(r model.CrashReportRef) bool { return r.Cause })]
	if m.Active() != "log" || lv.text == nil || lv.text.record(lv.rowAt(lv.cursor)).Seq != cause.FirstSeq {
		t.Fatalf("enter on the report opens %s at %v", m.Active(), lv.text != nil)
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "report 1 of 1: "+cause.Title+" (the crash)") {
		t.Errorf("the Log view does not name the report:\n%s", s)
	}
}

// TestLogViewJumpsToTheCrash: p goes to the report that crashed the
// kernel, the gutter marks its lines, f filters by level.
func TestLogViewJumpsToTheCrash(t *testing.T) {
	s := debianSession(t, debianPanic)
	a, err := s.Crash(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := newSessionModel(t, s, 160, 40, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	if len(lv.reports) != len(a.Reports) || len(a.Reports) == 0 {
		t.Fatalf("the Log view has %d reports, the analysis %d", len(lv.reports), len(a.Reports))
	}
	press(t, m, "g", "p")
	cause := a.Reports[slices.IndexFunc(a.Reports, func(r model.CrashReportRef) bool { return r.Cause })]
	rec := lv.text.record(lv.rowAt(lv.cursor))
	if rec.Seq != cause.FirstSeq {
		t.Fatalf("p goes to seq %d, the crash starts at %d", rec.Seq, cause.FirstSeq)
	}
	scr := ansi.Strip(screen(m))
	if !strings.Contains(scr, "┏ ") || !strings.Contains(scr, "┃ ") || !strings.Contains(scr, "Kernel panic - not syncing") {
		t.Errorf("the crash's lines are not marked:\n%s", scr)
	}
	press(t, m, "]")
	if !strings.Contains(ansi.Strip(screen(m)), "no report after this line") {
		t.Errorf("] after the last report:\n%s", lastLines(ansi.Strip(screen(m)), 3))
	}
	// f: warnings and worse; the cursor stays on the crash's first
	// visible line; every visible row is of that level or worse.
	press(t, m, "f")
	if lv.level != 4 || len(lv.vis) == 0 || len(lv.vis) >= len(lv.text.rows) {
		t.Fatalf("f filters level %d: %d of %d rows", lv.level, len(lv.vis), len(lv.text.rows))
	}
	for _, r := range lv.vis {
		if l := lv.text.recs[lv.text.rows[r].rec].Level; l > 4 {
			t.Fatalf("row %d of level %d is shown under warn and worse", r, l)
		}
	}
	if rec := lv.text.record(lv.rowAt(lv.cursor)); rec.Seq < cause.FirstSeq || rec.Seq > cause.LastSeq {
		t.Errorf("the cursor left the crash: seq %d", rec.Seq)
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, fmt.Sprintf("warn and worse: %d of %d lines", len(lv.vis), len(lv.text.rows))) {
		t.Errorf("the head does not say the filter:\n%s", s)
	}
	typeLine(t, m, ":level all")
	if lv.vis != nil || lv.level != -1 {
		t.Error(":level all keeps a filter")
	}
	typeLine(t, m, ":level nosuch")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, `no level "nosuch"`) {
		t.Errorf(":level nosuch:\n%s", lastLines(s, 2))
	}
}

// TestLogViewMovesBetweenReports: ] and [ go through several reports,
// p to the one that crashed the kernel, with a level filter too (a
// writer-made log: an oops, a warning, then the panic).
func TestLogViewMovesBetweenReports(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 30, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	recs := syntheticLog(400)
	lt, err := newLogText(context.Background(), recs, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	lv.text, lv.cursor, lv.top = lt, 0, 0
	lv.reports = []model.CrashReportRef{
		{Index: 0, Title: "BUG: kernel NULL pointer dereference in foo", FirstSeq: 100, LastSeq: 120, Complete: true},
		{Index: 1, Title: "WARNING in bar", FirstSeq: 200, LastSeq: 230, Complete: true},
		{Index: 2, Title: "kernel panic: Fatal exception", FirstSeq: 300, LastSeq: 302, Cause: true, Panic: true},
	}
	lv.setLevel(-1)
	seq := func() uint64 { return lv.text.record(lv.rowAt(lv.cursor)).Seq }
	for _, want := range []uint64{100, 200, 300} {
		press(t, m, "]")
		if seq() != want {
			t.Fatalf("] goes to seq %d, want %d", seq(), want)
		}
	}
	press(t, m, "[")
	if seq() != 200 {
		t.Fatalf("[ goes to seq %d, want 200", seq())
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "report 2 of 3: WARNING in bar") || !strings.Contains(s, "┌ ") {
		t.Errorf("the report is not named or marked:\n%s", s)
	}
	press(t, m, "G", "p")
	if seq() != 300 {
		t.Fatalf("p goes to seq %d, want the crash at 300", seq())
	}
	// With errors and worse only, ] lands on the first visible line of
	// each report (the synthetic levels cycle 0..7).
	typeLine(t, m, ":level err")
	press(t, m, "g", "]")
	if r := lv.text.record(lv.rowAt(lv.cursor)); r.Seq < 100 || r.Seq > 120 || r.Level > 3 {
		t.Fatalf("] under err and worse goes to seq %d level %d", r.Seq, r.Level)
	}
	// A jump asked for before the log is read happens once it is.
	send(t, m, logJumpMsg{seq: 250})
	if seq() < 250 {
		t.Fatalf("a jump to seq 250 goes to %d", seq())
	}
}
