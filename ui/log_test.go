package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// Tests of the kernel triage in the Log view and the Overview's crash
// summary, driven through Update.

const markerLine = "dumpfixture: marker 0xC0FFEE hello from tiny guest"

// flat is the screen as plain words, so text that wraps under a label
// still reads as one sentence.
func flat(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }

// logOf returns the root's Log view.
func logOf(m *Model) *logView { return m.views[m.viewIndex("log")].(*logView) }

func TestLogViewShowsTheKernelLog(t *testing.T) {
	d := openDemo(t)
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	if lv.text == nil {
		t.Fatalf("the log was not read:\n%s", ansi.Strip(screen(m)))
	}
	// The rows are vmcore-dmesg's lines, as the engine formats them.
	k, err := kernel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := k.Log(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range recs {
		want = append(want, strings.Split(model.DmesgLine(r), "\n")...)
	}
	if len(lv.text.rows) != len(want) {
		t.Fatalf("%d rows, vmcore-dmesg prints %d lines", len(lv.text.rows), len(want))
	}
	for i, w := range want {
		if got := lv.text.row(i); got != drawable(w) {
			t.Fatalf("row %d is %q, want %q", i, got, w)
		}
	}
	// It opens on the newest record; the gutter names level and caller,
	// the last row the selected record's fields.
	s := ansi.Strip(screen(m))
	if lv.cursor != len(want)-1 {
		t.Fatalf("cursor on row %d, want the last (%d)", lv.cursor, len(want)-1)
	}
	for _, w := range []string{"warn   T1  [    1.402019] " + markerLine, "Kernel log · 109 records, 110 lines",
		"seq 108 · level 4 warn · facility 1 · caller T32 (task 32)", "line 110 of 110"} {
		if !strings.Contains(s, w) {
			t.Errorf("the screen lacks %q:\n%s", w, s)
		}
	}
	// The level shows as a word and as a pen: warnings in the warning pen.
	if !strings.Contains(screen(m), m.c.St.warn.Paint("warn   T1  ")) {
		t.Error("a warning's gutter is not drawn in the warning pen")
	}
	press(t, m, "d")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "\n[    1.402019] "+markerLine) {
		t.Errorf("d does not leave vmcore-dmesg's lines alone:\n%s", s)
	}
	press(t, m, "l", "l")
	if lv.xoff != 16 || !strings.Contains(ansi.Strip(screen(m)), "\n"+markerLine[1:]) || !strings.Contains(lv.Status(), "from column 17") {
		t.Errorf("l l: offset %d, status %q", lv.xoff, lv.Status())
	}
	press(t, m, "h", "h", "d", "g")
	if lv.cursor != 0 || lv.top != 0 || lv.xoff != 0 {
		t.Fatalf("h h g: cursor %d top %d offset %d", lv.cursor, lv.top, lv.xoff)
	}
	press(t, m, "pgdown")
	if page := lv.bodyRows(); lv.cursor != page || lv.top != page {
		t.Fatalf("pgdown: cursor %d top %d, want %d", lv.cursor, lv.top, page)
	}
	press(t, m, "G")
	if lv.cursor != len(want)-1 {
		t.Fatalf("G: cursor %d", lv.cursor)
	}
}

func TestLogViewSearch(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	press(t, m, "g")
	typeLine(t, m, "/CLOCKSOURCE:")
	first := lv.cursor
	if !strings.Contains(lv.text.row(first), "clocksource:") {
		t.Fatalf("/CLOCKSOURCE: selects %q", lv.text.row(first))
	}
	press(t, m, "n")
	if lv.cursor <= first || !strings.Contains(lv.text.row(lv.cursor), "clocksource:") {
		t.Fatalf("n goes to row %d %q", lv.cursor, lv.text.row(lv.cursor))
	}
	press(t, m, "N")
	if lv.cursor != first {
		t.Fatalf("N goes to row %d, want %d", lv.cursor, first)
	}
	// N from the first match wraps to the last one.
	press(t, m, "N")
	last := lv.cursor
	for i := last + 1; i < len(lv.text.rows); i++ {
		if strings.Contains(lv.text.row(i), "clocksource:") {
			t.Fatalf("N from the first match goes to row %d, but row %d matches later", last, i)
		}
	}
	typeLine(t, m, "/no such text anywhere")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "no match for no such text anywhere") {
		t.Fatalf("no status for a failed search:\n%s", lastLines(s, 2))
	}
}

func TestLogTextRows(t *testing.T) {
	recs := []model.LogRecord{
		{Seq: 7, TimestampNS: 1_500_000_000, Level: 3, Facility: 0, Caller: "C1", Text: "first line\nsecond\tline\n"},
		{Seq: 8, TimestampNS: 2_000_001_000, Level: -1, Facility: -1, Text: "bell\a cr\r high\xff"},
	}
	lt, err := newLogText(context.Background(), recs, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[    1.500000] first line", "second  line", "", `[    2.000001] bell\x07 cr\x0d high\xff`}
	if len(lt.rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(lt.rows), len(want))
	}
	for i, w := range want {
		if got := lt.row(i); got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
	}
	if lt.callerW != 2 || !lt.levels {
		t.Errorf("callerW %d levels %v", lt.callerW, lt.levels)
	}
	if got := recordDetail(recs[0]); got != "seq 7 · level 3 err · facility 0 · caller C1 (CPU 1)" {
		t.Errorf("detail %q", got)
	}
	if got := recordDetail(recs[1]); got != "seq 8" {
		t.Errorf("detail without level and facility: %q", got)
	}
	// Search wraps around in both directions.
	for _, tc := range []struct {
		q    string
		from int
		dir  searchDir
		want int
	}{{"line", 0, searchNew, 0}, {"line", 0, searchNext, 1}, {"line", 3, searchNext, 0}, {"line", 0, searchPrev, 1}, {"BELL", 3, searchNew, 3}} {
		i, ok, err := lt.search(context.Background(), strings.ToLower(tc.q), nil, tc.from, tc.dir, func(uint64, uint64) {})
		if err != nil || !ok || i != tc.want {
			t.Errorf("search %q from %d dir %d: %d %v %v, want %d", tc.q, tc.from, tc.dir, i, ok, err, tc.want)
		}
	}
	if _, ok, _ := lt.search(context.Background(), "absent", nil, 0, searchNew, func(uint64, uint64) {}); ok {
		t.Error("search finds text that is not there")
	}
	// Continuation lines have no gutter.
	m := newTestModel(t, openDemo(t), 80, 24, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	lv.text, lv.cursor, lv.top = lt, 0, 0
	lv.layoutHead()
	s := ansi.Strip(screen(m))
	for _, w := range []string{"\nerr    C1 [    1.500000] first line", "\n          second  line", "\n          [    2.000001] bell"} {
		if !strings.Contains(s, w) {
			t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
}

// TestLogViewSaysWhatIsMissing opens dumps whose log cannot be read: the
// view names the missing structure and what would have kept it.
func TestLogViewSaysWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump func(t testing.TB) reader.Dump
		want []string
	}{
		{"no log symbols", smallELF, []string{"cannot be read from this dump", "missing the kernel log",
			"VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_first_idx)", "to keep it kernels before 3.5"}},
		{"no VMCOREINFO", hugeELF, []string{"because the dump has no VMCOREINFO",
			"to keep it the kernel writes it into kdump's /proc/vmcore and makedumpfile keeps it"}},
		{"AIX", aixDump, []string{"kernel triage reads x86_64 and i386 kernels; this dump is ppc64"}},
		{"split part", func(t testing.TB) reader.Dump { return openFixture(t, "x86_64/mdf-lzo-d31-split1of8.kdump") },
			[]string{"missing the kernel log (printk ring buffer): virtual 0xffffffff80a1a010",
				"is not_in_dump: in a split part that was not given", "to keep it open every part of a split set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, tc.dump(t), 120, 40, "dark")
			typeLine(t, m, ":view log")
			s := flat(screen(m))
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("the Log view lacks %q:\n%s", w, ansi.Strip(screen(m)))
				}
			}
			press(t, m, "j", "G", "l", "d") // keys do nothing without a log
			// A search or a report jump says there is no log, and why,
			// not that it is still being read.
			if m.active != m.viewIndex("log") {
				return // no Log view for this dump
			}
			typeLine(t, m, "/panic")
			if s := flat(screen(m)); strings.Contains(s, "not read yet") || !strings.Contains(s, "no log to search:") {
				t.Errorf("a search without a log says:\n%s", lastLines(ansi.Strip(screen(m)), 2))
			}
			press(t, m, "]")
			if s := flat(screen(m)); !strings.Contains(s, "no log: ") {
				t.Errorf("] without a log says:\n%s", lastLines(ansi.Strip(screen(m)), 2))
			}
		})
	}
}

// openFixture opens a fixture (skipping without the fixtures).
func openFixture(t testing.TB, name string) reader.Dump {
	t.Helper()
	d, err := open.Open(dumptest.Fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// runUntilProgress runs cmd as run does, but stops at the first progress
// message of a job and returns the command that waits for the job's next
// message.
func runUntilProgress(t testing.TB, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case jobProgressMsg:
			return update(m, msg)
		default:
			queue = append(queue, update(m, msg))
		}
	}
	t.Fatal("no job reported progress")
	return nil
}

func TestLogViewCancelsAndReadsAgain(t *testing.T) {
	slow := newSlowDump(openDemo(t))
	views := []ViewSpec{{Name: "notes", New: func(c *Common) View { return newNotesView(c) }},
		{Name: "log", New: func(c *Common) View { return newLogView(c) }}}
	m := New(context.Background(), inspect.New(slow), Options{Theme: "dark", Views: views})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	run(t, m, m.Init())
	slow.armed.Store(true)
	wait := runUntilProgress(t, m, update(m, keyMsg("2")))
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "reading the kernel log from memory… (esc cancels)") ||
		!strings.Contains(s, "reading the log:") {
		t.Fatalf("no progress while the log is read:\n%s", s)
	}
	press(t, m, "esc")
	// The read under way ends (the engine stops at the next page).
	close(slow.release)
	run(t, m, wait)
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "reading the log was cancelled") {
		t.Fatalf("the cancel is not shown:\n%s", s)
	}
	press(t, m, "1", "2")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, markerLine) {
		t.Fatalf("showing the view again does not read the log:\n%s", s)
	}
}

// TestCrashAnalysisInOverview: the Overview leads with the crash
// signature and the verdict, in triage's words, on dumps of every kind;
// a dump the engine cannot read says why once.
func TestCrashAnalysisInOverview(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump func(t testing.TB) reader.Dump
		want []string
	}{
		{"demo", openDemo, []string{"crash signature none: nothing crashed", "usable ✗ not ready for triage; not possible: memory, symbols",
			"crashing cpu nothing crashed: no panic line and no oops in the log", "kernel-log yes: 109 records",
			"kernel release 6.1.192", "crash time -",
			"build-id 2f6d32b0d6aa5b6ead34780c28e023bb4ad1cb1e", "cpu 0 rip 0xffffffff8034b94b - · rsp 0xffffffff80a03e58",
			"Last kernel log lines", "[ 1.402019] " + markerLine,
			"symbols NO: kallsyms: virtual 0xffffffff8082b098 (physical 0x82b098): pfn 0x82b is not_in_dump: the same reason as memory",
			"not available kallsyms: the same reason as symbols"}},
		{"paging fixture", pagingFixture, []string{"usable ✓ ready for triage; not possible: btf, tasks",
			"cpu 1 rip 0xffffffff8034b94b native_safe_halt+0x13/0x14 · rsp 0xffff8880001c7ed0", "[ 1.478323] dumpfixture: pattern holder"}},
		{"i386", func(t testing.TB) reader.Dump { return openFixture(t, "i386/qemu-elf-mini.vmcore") },
			[]string{"cpu 0 eip 0xc02a885e - · esp 0xc05f1ca0", "clocksource: Switched to clocksource refined-jiffies"}},
		{"AIX", aixDump, []string{"no crash analysis: the kernel cannot be read from this dump", "this dump is ppc64"}},
		{"no VMCOREINFO", hugeELF, []string{"vmcoreinfo NO: none: the dump has no VMCOREINFO note", "symbols NO: kallsyms: the same reason as kernel-log",
			"not available OSRELEASE, BUILD-ID, CRASHTIME, symbols and the kernel log; kallsyms; the kernel log: the same reason as kernel-log"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, tc.dump(t), 120, 60, "dark")
			s := flat(strings.Join(linesOf(m.views[0].(*overview).list), "\n"))
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("the Overview lacks %q:\n%s", w, strings.Join(linesOf(m.views[0].(*overview).list), "\n"))
				}
			}
			// Each reason is given once (issue 12 item 19: a dump without
			// VMCOREINFO said so three times).
			if n := strings.Count(s, "the dump has no VMCOREINFO:"); n > 1 {
				t.Errorf("the Overview says %d times that there is no VMCOREINFO:\n%s", n, s)
			}
		})
	}
}

// linesOf is a list's lines as plain text.
func linesOf(l listModel) []string {
	out := make([]string, len(l.lines))
	for i, line := range l.lines {
		out[i] = line.Plain()
	}
	return out
}

func TestCrashAnalysisCancels(t *testing.T) {
	slow := newSlowDump(openDemo(t))
	slow.armed.Store(true)
	m := New(context.Background(), inspect.New(slow), Options{Theme: "dark",
		Views: []ViewSpec{{Name: "overview", New: func(c *Common) View { return newOverview(c) }}}})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	wait := runUntilProgress(t, m, m.Init())
	if s := flat(screen(m)); !strings.Contains(s, "Crash analysis reading…") || !strings.Contains(s, "pages so far (esc cancels)") {
		t.Fatalf("no progress while the analysis is read:\n%s", ansi.Strip(screen(m)))
	}
	press(t, m, "esc")
	close(slow.release)
	run(t, m, wait)
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "cancelled; switch to another view and back to read it again") {
		t.Fatalf("the cancel is not shown:\n%s", s)
	}
}

// syntheticLog is n records of varied length, level and caller.
func syntheticLog(n int) []model.LogRecord {
	recs := make([]model.LogRecord, n)
	for i := range recs {
		recs[i] = model.LogRecord{Seq: uint64(i), TimestampNS: uint64(i) * 1_234_567, Level: i % 8, Facility: 0,
			Caller: fmt.Sprintf("T%d", i%977), Text: fmt.Sprintf("subsystem%d: message %d %s", i%31, i, strings.Repeat("x", i%90))}
	}
	return recs
}

func TestLogViewScrollsALargeLog(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view log")
	lv := logOf(m)
	lt, err := newLogText(context.Background(), syntheticLog(200_000), func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	lv.text, lv.cursor = lt, len(lt.rows)-1
	lv.layoutHead()
	lv.scrollToCursor()
	press(t, m, "pgup", "k")
	s := ansi.Strip(screen(m))
	checkScreen(t, screen(m), 120, 40)
	if !strings.Contains(s, "Kernel log · 200000 records") || !strings.Contains(s, fmt.Sprintf("line %d of 200000", lv.cursor+1)) {
		t.Fatalf("the large log is not shown:\n%s", s)
	}
	typeLine(t, m, "/message 12345 ")
	if !strings.Contains(lt.row(lv.cursor), "message 12345 ") {
		t.Fatalf("search in a large log selects %q", lt.row(lv.cursor))
	}
}
