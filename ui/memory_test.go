package ui

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/themes"
)

// Tests of the Memory view: pages, runs, the minimap, find, and a dump
// whose frames reach 2^28.

// hexRowsOnScreen parses the hex rows on a screen: address → bytes.
func hexRowsOnScreen(s string) map[uint64][]byte {
	re := regexp.MustCompile(`(?m)(?:^|│)([0-9a-f]{8,16})  ((?:[0-9a-f]{2}  ?)+[0-9a-f]{2})  \|`)
	out := map[uint64][]byte{}
	for _, m := range re.FindAllStringSubmatch(ansi.Strip(s), -1) {
		var addr uint64
		fmt.Sscanf(m[1], "%x", &addr)
		var b []byte
		for _, f := range strings.Fields(m[2]) {
			var v byte
			fmt.Sscanf(f, "%02x", &v)
			b = append(b, v)
		}
		out[addr] = b
	}
	return out
}

func TestCommandPFNShowsThePage(t *testing.T) {
	d := openDemo(t)
	for _, arg := range []string{"0xa05", "2565"} {
		m := newTestModel(t, d, 120, 40, "dark")
		typeLine(t, m, ":pfn "+arg)
		if m.Active() != "memory" {
			t.Fatalf(":pfn shows %s, want memory", m.Active())
		}
		page := make([]byte, 4096)
		if _, err := d.ReadPage(0xa05, page, reader.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		rows := hexRowsOnScreen(screen(m))
		if len(rows) < 20 {
			t.Fatalf("only %d hex rows on screen:\n%s", len(rows), ansi.Strip(screen(m)))
		}
		for addr, b := range rows {
			off := addr - 0xa05000
			if addr < 0xa05000 || off+16 > 4096 {
				t.Fatalf("row %#x is outside pfn 0xa05", addr)
			}
			if !bytes.Equal(b, page[off:off+uint64(len(b))]) {
				t.Fatalf("row %#x shows % x, the page has % x", addr, b, page[off:off+uint64(len(b))])
			}
		}
		if !strings.Contains(ansi.Strip(screen(m)), "pfn 0xa05  phys 0xa05000-0xa05fff  █ present  codec none  stored 4096 B at file offset 0x6408") {
			t.Fatalf("page info missing:\n%s", ansi.Strip(screen(m)))
		}
	}
}

// memory returns the root's Memory view.
func memory(m *Model) *memoryView {
	for _, v := range m.views {
		if mv, ok := v.(*memoryView); ok {
			return mv
		}
	}
	return nil
}

func TestMemoryPagesAndRuns(t *testing.T) {
	m := newTestModel(t, smallELF(t), 120, 40, "dark")
	typeLine(t, m, ":view memory")
	mv := memory(m)
	// The view starts on the first readable frame.
	if mv.curPFN() != 1 {
		t.Fatalf("starts at pfn %s, want 0x1 (the first present frame)", mv.curPFN())
	}
	steps := []struct {
		key  string
		want model.PFN
	}{
		{"]", 2}, {"}", 3}, {"}", 0x10}, {"}", 0x11}, {"}", 0x11}, {"{", 0x10}, {"{", 3}, {"[", 2}, {"{", 1}, {"{", 0}, {"G", 0x12}, {"g", 0},
	}
	for _, s := range steps {
		press(t, m, s.key)
		if mv.curPFN() != s.want {
			t.Fatalf("after %s at pfn %s, want %s", s.key, mv.curPFN(), s.want)
		}
	}
	// States are named on screen, with their glyphs.
	typeLine(t, m, ":pfn 0x11")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "0 zero_fill") {
		t.Fatalf("zero_fill page not described:\n%s", s)
	}
	typeLine(t, m, ":pfn 5")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "· not_in_dump") || !strings.Contains(s, "no PT_LOAD covers it") {
		t.Fatalf("not_in_dump page not described:\n%s", s)
	}
}

func TestMemoryCursorMoves(t *testing.T) {
	m := newTestModel(t, smallELF(t), 80, 24, "dark")
	typeLine(t, m, ":phys 0x1000")
	mv := memory(m)
	press(t, m, "j", "j", "l", "l", "l", "k", "h")
	if mv.cur != 0x1012 {
		t.Fatalf("cursor at %#x, want 0x1012", mv.cur)
	}
	press(t, m, "pgdown")
	if want := uint64(0x1012 + mv.g.hexRows*16); mv.cur != want {
		t.Fatalf("pgdown: cursor at %#x, want %#x", mv.cur, want)
	}
	if mv.cur < mv.top || mv.cur >= mv.top+uint64(mv.g.hexRows*mv.g.bpr) {
		t.Fatalf("cursor %#x is off screen (top %#x)", mv.cur, mv.top)
	}
	// The byte under the cursor is described.
	typeLine(t, m, ":phys 0x1012")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "cursor 0x1012 = u8 0x6e 110 'n'") {
		t.Fatalf("cursor byte not described:\n%s", s)
	}
}

func TestMinimapMovesCellByCell(t *testing.T) {
	d := openDemo(t)
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":view memory")
	mv := memory(m)
	if mv.mm.sum == nil {
		t.Fatal("the minimap pass did not finish")
	}
	// The buckets count every frame once, by state.
	var total counts
	for _, b := range mv.mm.sum.buckets {
		for i := range b {
			total[i] += b[i]
		}
	}
	info := dumptest.InfoWithCounts(t, d)
	for i, s := range model.AllStates {
		if total[i] != info.Pages[s] {
			t.Errorf("minimap counts %d %s frames, the dump has %d", total[i], s, info.Pages[s])
		}
	}
	press(t, m, "m")
	if !mv.focusMap {
		t.Fatal("m did not focus the minimap")
	}
	start := mv.mm.cellOf(uint64(mv.curPFN()))
	press(t, m, "l", "l", "j")
	cell := start + 2 + mv.mm.cols
	if got := mv.mm.cellOf(uint64(mv.curPFN())); got != cell {
		t.Fatalf("cursor in cell %d, want %d", got, cell)
	}
	if uint64(mv.curPFN()) != mv.mm.cellStart(cell) {
		t.Fatalf("cursor at pfn %s, want the cell's first frame %#x", mv.curPFN(), mv.mm.cellStart(cell))
	}
	// A click on a cell jumps to it.
	send(t, m, tea.MouseClickMsg{X: mv.g.mapX, Y: mv.g.mapY + headerRows, Button: tea.MouseLeft})
	if mv.curPFN() != 0 {
		t.Fatalf("click on the first cell: pfn %s, want 0", mv.curPFN())
	}
}

func TestMinimapCellStates(t *testing.T) {
	mm := minimap{maxPFN: 100}
	mm.sum = &pfnSummary{split: frameSplit{100, 100}, buckets: make([]counts, 100)}
	for i := range mm.sum.buckets {
		switch {
		case i < 10:
			mm.sum.buckets[i][stateIndex(model.StatePresent)] = 1
		case i < 20:
			mm.sum.buckets[i][stateIndex(model.StateExcluded)] = 1
		case i == 55:
			mm.sum.buckets[i][stateIndex(model.StateLost)] = 1
		default:
			mm.sum.buckets[i][stateIndex(model.StateNotInDump)] = 1
		}
	}
	mm.setGrid(10, 1) // 10 frames per cell
	want := []model.PageState{model.StatePresent, model.StateExcluded, model.StateNotInDump, model.StateNotInDump, model.StateNotInDump,
		model.StateLost, model.StateNotInDump, model.StateNotInDump, model.StateNotInDump, model.StateNotInDump}
	for i, s := range want {
		if mm.cells[i] != s {
			t.Errorf("cell %d is %s, want %s", i, mm.cells[i], s)
		}
	}
	if !mm.mixed[5] || mm.mixed[0] {
		t.Errorf("mixed = %v, want only cell 5", mm.mixed)
	}
	// Each state has its own glyph, so the map reads without colour.
	seen := map[string]model.PageState{}
	for _, s := range model.AllStates {
		g := present.StateGlyph(s)
		if other, dup := seen[g]; dup {
			t.Errorf("%s and %s share the glyph %q", s, other, g)
		}
		seen[g] = s
	}
}

func TestFrameSplitCoversEveryFrameOnce(t *testing.T) {
	for _, tc := range []struct{ total, n uint64 }{{1, 1}, {7, 3}, {3094, 1066}, {1 << 28, 8192}, {1<<52 + 12345, 12000}} {
		s := frameSplit{tc.total, tc.n}
		if s.start(0) != 0 || s.start(tc.n) != tc.total {
			t.Fatalf("%v: parts span [%d, %d)", tc, s.start(0), s.start(tc.n))
		}
		for _, i := range []uint64{0, 1, tc.n / 2, tc.n - 1} {
			a, b := s.start(i), s.start(i+1)
			if b <= a {
				t.Fatalf("%v: part %d is empty", tc, i)
			}
			if s.partOf(a) != i || s.partOf(b-1) != i {
				t.Fatalf("%v: part %d = [%d,%d) but partOf gives %d and %d", tc, i, a, b, s.partOf(a), s.partOf(b-1))
			}
		}
	}
}

func TestFindInMemory(t *testing.T) {
	m := newTestModel(t, smallELF(t), 120, 40, "dark")
	typeLine(t, m, ":find needle")
	mv := memory(m)
	if m.Active() != "memory" || mv.cur != 0x1012 {
		t.Fatalf(":find needle: view %s, cursor %#x; want memory at 0x1012", m.Active(), mv.cur)
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, `"needle" at phys 0x1012`) {
		t.Fatalf("no status for the match:\n%s", lastLines(s, 2))
	}
	for a := uint64(0x1012); a < 0x1018; a++ {
		if !mv.inMatch(a) {
			t.Fatalf("%#x is not marked as part of the match", a)
		}
	}
	// The match's row is in the middle of the hex pane (issue 12 item 24).
	if row := int((mv.rowOf(mv.cur) - mv.top) / uint64(mv.g.bpr)); row != (mv.g.hexRows-1)/2 {
		t.Fatalf("the match is on row %d of %d, want the middle", row, mv.g.hexRows)
	}
	// n goes on with :find's pattern (no / query was typed): past the last
	// match it wraps around to the first.
	press(t, m, "n")
	if s := ansi.Strip(screen(m)); mv.cur != 0x1012 || !strings.Contains(s, "wrapped around to the start") {
		t.Fatalf("n after :find: cursor %#x\n%s", mv.cur, lastLines(s, 2))
	}
	// So does :next.
	typeLine(t, m, ":next")
	if s := ansi.Strip(screen(m)); mv.cur != 0x1012 || !strings.Contains(s, "wrapped around to the start") {
		t.Fatalf(":next past the last match: cursor %#x\n%s", mv.cur, lastLines(s, 2))
	}
	press(t, m, "G")
	typeLine(t, m, ":findhex 6e 65 65 64 6c 65")
	if s := ansi.Strip(screen(m)); mv.cur != 0x1012 || !strings.Contains(s, "wrapped around to the start") {
		t.Fatalf(":findhex from the last frame: cursor %#x\n%s", mv.cur, lastLines(s, 2))
	}
	typeLine(t, m, ":findhex 0xfeedfacecafe")
	if s := ansi.Strip(screen(m)); mv.cur != 0x1012 || !strings.Contains(s, "no match for 0xfeedfacecafe in physical memory") {
		t.Fatalf(":findhex of what is not there: cursor %#x\n%s", mv.cur, lastLines(s, 2))
	}
	// / in Memory searches memory; N goes back to a match found before.
	press(t, m, "g")
	typeLine(t, m, "/dumpscope")
	if mv.cur != 0x1007 {
		t.Fatalf("/dumpscope: cursor %#x, want 0x1007", mv.cur)
	}
	press(t, m, "G", "N")
	if mv.cur != 0x1007 {
		t.Fatalf("N: cursor %#x, want 0x1007", mv.cur)
	}
}

// TestHugeAddressSpace opens a dump whose frames reach 2^28 and checks that
// starting, drawing and moving never walk the frames.
func TestHugeAddressSpace(t *testing.T) {
	cd := &countingDump{Dump: hugeELF(t)}
	if got := cd.Info().MaxPFN; got != 1<<28 {
		t.Fatalf("MaxPFN %#x, want 2^28", got)
	}
	start := time.Now()
	m := New(context.Background(), inspect.New(cd), Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 200, Height: 60})
	run(t, m, m.Init())
	out := screen(m)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("start and first view took %v", el)
	}
	checkScreen(t, out, 200, 60)
	// The Overview's verdict reads a few pages (the kernel text, the
	// last stored frame, which one walk of the runs finds); nothing
	// walks the frames.
	if cd.pageInfos+cd.readPages > 64 || cd.runs > 1 {
		t.Fatalf("starting read %d page infos, %d pages, %d run walks before Memory was shown", cd.pageInfos, cd.readPages, cd.runs)
	}
	typeLine(t, m, ":view memory")
	mv := memory(m)
	if mv.curPFN() != 1<<28-1 {
		t.Fatalf("memory starts at pfn %s, want the only present frame %#x", mv.curPFN(), 1<<28-1)
	}
	if mv.mm.sum == nil || mv.mm.sum.runs != 2 {
		t.Fatalf("minimap summary %+v, want 2 runs", mv.mm.sum)
	}
	if cd.readPages > 8 {
		t.Fatalf("showing Memory read %d pages", cd.readPages)
	}
	press(t, m, "g", "}")
	if mv.curPFN() != 1<<28-1 {
		t.Fatalf("} from 0 goes to %s", mv.curPFN())
	}
	press(t, m, "{")
	if mv.curPFN() != 0 {
		t.Fatalf("{ from the last run goes to %s", mv.curPFN())
	}
	press(t, m, "m", "l")
	if want := mv.mm.cellStart(1); uint64(mv.curPFN()) != want {
		t.Fatalf("one cell right: pfn %s, want %#x", mv.curPFN(), want)
	}
	checkScreen(t, screen(m), 200, 60)
}

func TestResizeKeepsThePlace(t *testing.T) {
	m := newTestModel(t, openDemo(t), 200, 60, "light")
	typeLine(t, m, ":phys 0xa05123")
	mv := memory(m)
	for _, size := range [][2]int{{80, 24}, {50, 20}, {120, 40}, {30, 8}, {200, 60}} {
		send(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkScreen(t, screen(m), size[0], size[1])
		if mv.cur != 0xa05123 {
			t.Fatalf("%v: cursor moved to %#x", size, mv.cur)
		}
		if mv.cur < mv.top || mv.cur >= mv.top+uint64(mv.g.hexRows*mv.g.bpr) || mv.top%uint64(mv.g.bpr) != 0 {
			t.Fatalf("%v: cursor %#x off screen (top %#x, %d rows of %d)", size, mv.cur, mv.top, mv.g.hexRows, mv.g.bpr)
		}
	}
}

// blockingRuns makes the first Runs call once armed wait until released
// or cancelled, and says when it has started.
type blockingRuns struct {
	reader.Dump
	release, entered chan struct{}
	calls            *atomic.Int32
	armed            *atomic.Bool
}

func (b blockingRuns) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	if b.armed.Load() && b.calls.Add(1) == 1 {
		close(b.entered)
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.Dump.Runs(ctx, from, detail, yield)
}

func TestMinimapPassCancelsAndRestarts(t *testing.T) {
	d := blockingRuns{Dump: openDemo(t), release: make(chan struct{}), entered: make(chan struct{}), calls: new(atomic.Int32), armed: new(atomic.Bool)}
	m := newTestModel(t, d, 120, 40, "dark")
	d.armed.Store(true) // (the Overview's analysis reads runs too)
	// Show Memory without running what it starts: the pass is under way.
	cmd := update(m, keyMsg("7"))
	<-d.entered
	mv := memory(m)
	if !mv.mapJob.running() {
		t.Fatal("showing Memory did not start the minimap pass")
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "PFN map: reading runs") {
		t.Fatalf("no progress for the minimap pass:\n%s", s)
	}
	press(t, m, "esc")
	run(t, m, cmd)
	if mv.mm.sum != nil || mv.mapJob.running() {
		t.Fatal("the pass was not cancelled")
	}
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "PFN map: cancelled") {
		t.Fatalf("the cancel is not shown:\n%s", s)
	}
	close(d.release)
	press(t, m, "5", "7")
	if mv.mm.sum == nil {
		t.Fatal("coming back to Memory did not read the map again")
	}
}

// TestJumpBack: following a link remembers where the user was; ctrl+o and
// backspace go back, most recent first, across views (issue 12 item 21).
func TestJumpBack(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	press(t, m, "backspace")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "no earlier place") {
		t.Fatalf("backspace with no history:\n%s", lastLines(s, 2))
	}
	typeLine(t, m, ":view memory")
	mv := memory(m)
	start := mv.cur
	typeLine(t, m, ":pfn 0xa05")
	typeLine(t, m, ":phys 0xa07010")
	typeLine(t, m, ":pfn 0x99999999") // an error follows nothing
	typeLine(t, m, ":explain 0xa01")
	if m.Active() != "layout" {
		t.Fatalf(":explain shows %s", m.Active())
	}
	for _, tc := range []struct {
		key  string
		view string
		cur  uint64
	}{{"ctrl+o", "memory", 0xa07010}, {"backspace", "memory", 0xa05000}, {"ctrl+o", "memory", start}} {
		press(t, m, tc.key)
		if m.Active() != tc.view || mv.cur != tc.cur {
			t.Fatalf("%s: view %s cursor %#x, want %s at %#x", tc.key, m.Active(), mv.cur, tc.view, tc.cur)
		}
	}
	// A verify problem opens its offset in Layout; backspace returns to
	// the problem list.
	typeLine(t, m, ":view verify")
	press(t, m, "r", "enter")
	if m.Active() != "layout" {
		t.Fatalf("enter on a problem shows %s", m.Active())
	}
	press(t, m, "backspace")
	if m.Active() != "verify" {
		t.Fatalf("backspace after a verify problem shows %s", m.Active())
	}
	// In Layout, the selected field comes back.
	typeLine(t, m, ":view layout")
	press(t, m, "j", "j", "j")
	lv := m.views[m.active].(*layoutView)
	was := lv.tree().selected().node
	typeLine(t, m, ":offset 0x40")
	if lv.tree().selected().node == was {
		t.Fatal(":offset 0x40 did not move")
	}
	press(t, m, "ctrl+o")
	if got := lv.tree().selected().node; got != was {
		t.Fatalf("ctrl+o selects %s, want %s", got.Name, was.Name)
	}
}

// TestMinimapCursorAlwaysShows: the cursor's cell is drawn as ◆ whether
// the map has the focus or not, over every state, and before the pass
// has filled the cells (issue 12 item 21).
func TestMinimapCursorAlwaysShows(t *testing.T) {
	st := newStyles(themes.Mono())
	mm := minimap{maxPFN: 100}
	mm.setGrid(10, 2)
	for _, focused := range []bool{false, true} {
		if g := strings.Join(mm.view(st, 57, focused), "\n"); strings.Count(ansi.Strip(g), "◆") != 1 {
			t.Fatalf("before the pass (focused %v): %q", focused, ansi.Strip(g))
		}
	}
	mm.sum = &pfnSummary{split: frameSplit{100, 100}, buckets: make([]counts, 100)}
	for i := range mm.sum.buckets {
		mm.sum.buckets[i][stateIndex(model.StatePresent)] = 1
	}
	mm.recompute()
	g := ansi.Strip(strings.Join(mm.view(st, 57, false), "\n"))
	if strings.Count(g, "◆") != 1 || strings.Count(g, present.StateGlyph(model.StatePresent)) != 19 {
		t.Fatalf("over present cells: %q", g)
	}
}
