package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/open/opentest"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/ui/render"
)

// TestOverviewShowsInfoRows: the Overview shows the rows `dumpscope info`
// prints — present.InfoRows, the "pages" row, the problems — and the rows
// `dumpscope triage` prints (the signature, why, where, the verdict), with
// the same labels and values (issue 11: "info and
// the TUI Overview show the same labels for the same facts").
func TestOverviewShowsInfoRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump func(testing.TB) reader.Dump
	}{
		{"demo", openDemo}, {"kdump", func(t testing.TB) reader.Dump { d, _ := kdumpDump(t); return d }},
		{"AIX", aixDump}, {"huge", hugeELF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dump(t)
			m := newTestModel(t, d, 200, 60, "dark")
			ov := m.views[0].(*overview)
			var lines []string
			for _, l := range ov.list.lines {
				lines = append(lines, l.Plain())
			}
			s := flat(strings.Join(lines, "\n"))
			info, err := inspect.New(d).InfoWithCounts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := present.InfoRows(info)
			for _, r := range present.StateRows(info.Pages) {
				want = append(want, present.Row{Key: "", Value: fmt.Sprintf("%s %d", r.State, r.Count)})
			}
			want = append(want, present.Row{Key: fmt.Sprintf("problems (%d)", len(info.Warnings))})
			if tr := ov.crash.t; tr != nil {
				// In the Overview's order, each reason given once.
				mark := "✓ "
				if !tr.Usable.Ready {
					mark = "✗ "
				}
				sig := present.SignatureRows(tr.Why)
				rows := append([]present.Row{sig[0], {Key: "usable", Value: mark + tr.Usable.Summary}}, sig[1:]...)
				rows = append(rows, present.WhyRows(tr.Why)...)
				rows = append(rows, present.WhereRows(tr.Where)...)
				rows = append(rows, present.CPURows(tr.Where, info.Arch)...)
				rows = append(rows, present.VerdictRows(tr.Usable)...)
				var reasons present.Reasons
				for _, r := range rows {
					want = append(want, present.Row{Key: r.Key, Value: reasons.Shorten(r.Key, r.Value)})
				}
			} else if !strings.Contains(s, "no crash analysis: the kernel cannot be read from this dump") {
				t.Fatalf("neither a crash analysis nor why there is none on the %s dump", tc.name)
			}
			for _, r := range want {
				if row := flat(strings.TrimSpace(r.Key + " " + r.Value)); !strings.Contains(s, row) {
					t.Errorf("the Overview lacks the row %q:\n%s", row, strings.Join(lines, "\n"))
				}
			}
		})
	}
}

// countGate is a dump whose frame count waits until released: New and the
// first screens must not wait for it.
type countGate struct {
	reader.Dump
	release chan struct{}
}

func (g countGate) Counts(ctx context.Context) (model.StateCounts, error) {
	select {
	case <-g.release:
		return g.Dump.Counts(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestCountsAreAJob: opening does not count the frames (a bitmap scan on
// a large kdump); the header and the Overview say "counting…" until the
// count job is done, then show the counts.
func TestCountsAreAJob(t *testing.T) {
	g := countGate{Dump: openDemo(t), release: make(chan struct{})}
	m := New(context.Background(), inspect.New(g), Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 120, Height: 120})
	var later []tea.Cmd
	for _, c := range m.Init()().(tea.BatchMsg) {
		if c == nil {
			continue
		}
		// Every command but the count runs now; the count waits.
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case msg := <-done:
			run(t, m, func() tea.Msg { return msg })
		default:
			later = append(later, func() tea.Msg { return <-done })
		}
	}
	s := ansi.Strip(screen(m))
	if !strings.Contains(s, "present counting…") || !strings.Contains(flat(s), "pages counting…") {
		t.Fatalf("no \"counting…\" while the frames are counted:\n%s", s)
	}
	close(g.release)
	for _, c := range later {
		run(t, m, c)
	}
	s = ansi.Strip(screen(m))
	if !strings.Contains(s, "present 534/3094") || !strings.Contains(flat(s), "pages █ present 534") {
		t.Fatalf("the counts are not shown once counted:\n%s", s)
	}
}

// TestOnlyStreamsAreIndexed: opening a plain ELF or kdump file starts no
// index job; a flattened stream does (issue 11).
func TestOnlyStreamsAreIndexed(t *testing.T) {
	kd := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: 64, Pages: map[uint64][]byte{1: dumptest.Pattern(1, 4096)},
		Utsname: [6]string{"Linux", "h", "6.1.0", "#1", "x86_64", ""}, NrCPUs: 1}
	kb, _ := kd.Bytes()
	for _, tc := range []struct {
		name  string
		dump  func(testing.TB) reader.Dump
		index bool
	}{
		{"ELF", openDemo, false},
		{"kdump", func(t testing.TB) reader.Dump { return opentest.Bytes(t, "plain.kdump", kb) }, false},
		{"flattened", func(t testing.TB) reader.Dump { return opentest.Bytes(t, "stream.flat", dumptest.Flatten(kb, 4096)) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(context.Background(), inspect.New(tc.dump(t)), Options{Theme: "dark"})
			defer m.Close()
			run(t, m, m.Init())
			if got := m.index != nil; got != tc.index {
				t.Fatalf("index job started: %v, want %v", got, tc.index)
			}
			if !m.started || m.c.Counting {
				t.Fatalf("started %v, still counting %v", m.started, m.c.Counting)
			}
		})
	}
}

// TestAIXHidesTheLinuxViews: an AIX dump has no ELF notes, VMCOREINFO,
// CPU registers or Linux log, so those views are not offered; at 80
// columns every tab keeps its whole title or shows its number only,
// the farthest from the active one first
// (issue 12 item 22).
func TestAIXHidesTheLinuxViews(t *testing.T) {
	m := newTestModel(t, aixDump(t), 80, 24, "dark")
	var names []string
	for _, v := range m.views {
		names = append(names, v.Name())
	}
	if got := strings.Join(names, " "); got != "overview layout memory components verify" {
		t.Fatalf("views of an AIX dump: %s", got)
	}
	for _, tc := range []struct {
		dump   func(testing.TB) reader.Dump
		width  int
		active string
		want   string
	}{
		{aixDump, 80, "1", " 1 Overview   2 Layout   3 Memory   4 Components   5 Verify "},
		{openDemo, 80, "1", " 1 Overview  2 Layout 3 Notes 4 VMCOREINFO 5 CPUs 6 Tasks 7 Memory 8 Log 9"},
		{openDemo, 80, "4", "1 Overview 2 Layout 3 Notes  4 VMCOREINFO  5 CPUs 6 Tasks 7 Memory 8 Log 9"},
		{openDemo, 40, "6", "1 2 3 4 5 CPUs  6 Tasks  7 Memory 8 9"},
	} {
		m := newTestModel(t, tc.dump(t), tc.width, 24, "dark")
		press(t, m, tc.active)
		tabs := strings.Split(ansi.Strip(screen(m)), "\n")[1]
		if strings.TrimRight(tabs, " ") != strings.TrimRight(tc.want, " ") {
			t.Errorf("tabs at %d columns with view %s active:\n%q\nwant\n%q", tc.width, tc.active, tabs, tc.want)
		}
	}
}

// TestVerifyNamesFilesRelativeToTheDump: the problems of a dump opened by
// its full path name its files relative to the dump's folder (issue 12
// item 20).
func TestVerifyNamesFilesRelativeToTheDump(t *testing.T) {
	b, err := demoBytes()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "vmcore")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := open.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	m := newTestModel(t, d, 160, 40, "dark")
	typeLine(t, m, ":view verify")
	press(t, m, "r")
	s := ansi.Strip(screen(m))
	if !strings.Contains(s, "qemu-elf-layout  vmcore @0x20: ") || strings.Contains(s, dir) {
		t.Fatalf("the problems do not name the file relative to %s:\n%s", dir, s)
	}
}

// TestNoTimersWhileIdle: no code of the UI starts a timer that keeps
// running (a spinner, a progress ticker): jobs report progress from the
// work itself, so an idle UI wakes only for Bubble Tea's own frame ticker
// (FrameRate) (issue 12 item 23).
func TestNoTimersWhileIdle(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, timer := range []string{"time.NewTicker", "time.Tick(", "tea.Tick(", "tea.Every(", "time.AfterFunc", "spinner."} {
			if strings.Contains(string(b), timer) {
				t.Errorf("%s uses %s", f, timer)
			}
		}
	}
}

// TestPagesColumnsFitLargeCounts: the "pages" rows keep their columns
// for counts of any size (issue 12 item 19: a header claiming 2^52 frames
// pushed the columns apart).
func TestPagesColumnsFitLargeCounts(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	m.c.Info.Pages = model.StateCounts{model.StatePresent: 50847232, model.StateNotInDump: 4503599627016282, model.StateLost: 7}
	send(t, m, countedMsg{})
	ov := m.views[0].(*overview)
	var rows []string
	for _, l := range ov.list.lines {
		if p := l.Plain(); strings.Contains(p, "present ") || strings.Contains(p, "not_in_dump ") || strings.Contains(p, "lost ") {
			rows = append(rows, p)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("pages rows: %q", rows)
	}
	// The percentages stand in one column.
	col := func(r string) int { return render.Width(r[:strings.Index(r, "%")]) }
	for _, r := range rows {
		if col(r) != col(rows[0]) {
			t.Fatalf("the columns do not line up:\n%s", strings.Join(rows, "\n"))
		}
	}
	if !strings.Contains(rows[1], "4503599627016282") {
		t.Fatalf("the count is cut:\n%s", strings.Join(rows, "\n"))
	}
}
