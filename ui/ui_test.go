package ui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/reader"
)

// Update-driven tests: key presses and other messages go straight into
// Update, and the commands that come back run synchronously (see run).

func TestViewsSwitchWithTabNumbersAndClicks(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	want := []string{"overview", "layout", "notes", "vmcoreinfo", "cpus", "tasks", "memory", "log", "verify"}
	for i, name := range want {
		if m.Active() != name {
			t.Fatalf("after %d tabs the view is %s, want %s", i, m.Active(), name)
		}
		press(t, m, "tab")
	}
	if m.Active() != "overview" {
		t.Fatalf("tab after the last view gives %s, want overview", m.Active())
	}
	press(t, m, "shift+tab")
	if m.Active() != "verify" {
		t.Fatalf("shift+tab from overview gives %s, want verify", m.Active())
	}
	press(t, m, "7")
	if m.Active() != "memory" {
		t.Fatalf("key 7 gives %s, want memory", m.Active())
	}
	// A click on the third tab's label.
	r := m.tabRanges()[2]
	send(t, m, tea.MouseClickMsg{X: r[0] + 1, Y: 1, Button: tea.MouseLeft})
	if m.Active() != "notes" {
		t.Fatalf("clicking tab 3 gives %s, want notes", m.Active())
	}
	typeLine(t, m, ":view cpus")
	if m.Active() != "cpus" {
		t.Fatalf(":view cpus gives %s", m.Active())
	}
	typeLine(t, m, ":view nosuch")
	if !strings.Contains(ansi.Strip(screen(m)), `no view "nosuch"`) {
		t.Fatalf("no error for an unknown view:\n%s", ansi.Strip(screen(m)))
	}
}

func TestCommandErrors(t *testing.T) {
	m := newTestModel(t, openDemo(t), 100, 30, "dark")
	for cmd, want := range map[string]string{
		":pfn 0x99999":     "beyond the dump's last frame",
		":pfn 0x99999999":  "pfn 0x99999999 is beyond the dump's last frame 0xc15",
		":phys 0x99999999": "phys 0x99999999 is beyond the dump's last frame 0xc15 (which ends at 0xc15fff)",
		":pfn zz":          `"zz" is not a number`,
		":frobnicate":      `unknown command "frobnicate"`,
		":cpu 9":           "no registers for CPU 9",
		":theme pink":      `no theme "pink"`,
		":findhex xyz":     "is not hex bytes",
	} {
		typeLine(t, m, cmd)
		if s := ansi.Strip(screen(m)); !strings.Contains(s, want) {
			t.Errorf("%s: the status line lacks %q:\n%s", cmd, want, lastLines(s, 2))
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(len(l)-n, 0):], "\n")
}

func TestSearchWithinViews(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view vmcoreinfo")
	typeLine(t, m, "/swapper_pg_dir")
	vi := m.views[m.viewIndex("vmcoreinfo")].(*vmcoreinfoView)
	if got := vi.list.lines[vi.list.cursor].Plain(); !strings.Contains(got, "SYMBOL(swapper_pg_dir)") {
		t.Fatalf("/swapper_pg_dir selects %q", got)
	}
	typeLine(t, m, "/OFFSET(")
	first := vi.list.cursor
	press(t, m, "n")
	if vi.list.cursor <= first {
		t.Fatalf("n did not move forward: %d then %d", first, vi.list.cursor)
	}
	press(t, m, "N")
	if vi.list.cursor != first {
		t.Fatalf("N did not come back: %d, want %d", vi.list.cursor, first)
	}
	typeLine(t, m, "/no such text anywhere")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "no match for no such text anywhere") {
		t.Fatalf("no status for a failed search:\n%s", lastLines(s, 2))
	}
	// In Layout the search reaches collapsed nodes and opens them.
	typeLine(t, m, ":view layout")
	lv := m.views[m.viewIndex("layout")].(*layoutView)
	typeLine(t, m, "/EI_OSABI")
	if n := lv.base.selected().node; n.Name != "EI_OSABI" {
		t.Fatalf("/EI_OSABI selects %s", n.Name)
	}
	if lv.hex.hiOff != 7 || lv.hex.hiSize != 1 {
		t.Fatalf("hex highlight [%#x,+%d), want EI_OSABI's byte 7", lv.hex.hiOff, lv.hex.hiSize)
	}
}

func TestLayoutTreeAndHexFollow(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view layout")
	lv := m.views[m.viewIndex("layout")].(*layoutView)
	tr := lv.base
	rows := len(tr.rows)
	press(t, m, "j", "j") // e_ident, closed
	if n := tr.selected().node; n.Name != "e_ident" || tr.open[n] {
		t.Fatalf("selected %s (open %v), want closed e_ident", n.Name, tr.open[n])
	}
	press(t, m, "enter")
	if len(tr.rows) != rows+len(tr.selected().node.Children) {
		t.Fatalf("enter did not open e_ident: %d rows", len(tr.rows))
	}
	press(t, m, "l", "j") // into the first child, then the next
	if n := tr.selected().node; n.Name != "EI_CLASS" {
		t.Fatalf("selected %s, want EI_CLASS", n.Name)
	}
	if lv.hex.hiOff != 4 || lv.hex.hiSize != 1 {
		t.Fatalf("hex highlight [%#x,+%d), want [0x4,+1)", lv.hex.hiOff, lv.hex.hiSize)
	}
	// The highlighted byte is drawn in the highlight pen.
	if !strings.Contains(screen(m), m.c.St.highlight.Paint("02")) {
		t.Fatal("EI_CLASS's byte is not highlighted in the hex pane")
	}
	press(t, m, "h", "h") // to the parent, then close it
	if n := tr.selected().node; n.Name != "e_ident" || tr.open[n] {
		t.Fatalf("h h: selected %s open %v", n.Name, tr.open[n])
	}
	typeLine(t, m, ":offset 0xa3c10")
	if n := tr.selected().node; !strings.HasPrefix(n.Name, "PT_LOAD [1] data") {
		t.Fatalf(":offset 0xa3c10 selects %q", n.Name)
	}
}

func TestExplainWithoutExplainerLocatesTheStoredBytes(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":pfn 0xa05")
	press(t, m, "e")
	if m.Active() != "layout" {
		t.Fatalf("e shows %s, want layout", m.Active())
	}
	lv := m.views[m.active].(*layoutView)
	if n := lv.base.selected().node; !strings.HasPrefix(n.Name, "PT_LOAD [1] data") {
		t.Fatalf("explain selects %q", n.Name)
	}
	if lv.hex.hiOff != 0x6408 || lv.hex.hiSize != 4096 {
		t.Fatalf("hex highlight [%#x,+%d), want the page at 0x6408", lv.hex.hiOff, lv.hex.hiSize)
	}
}

func TestCPUs(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":cpu 1")
	if m.Active() != "cpus" {
		t.Fatalf(":cpu shows %s", m.Active())
	}
	s := ansi.Strip(screen(m))
	for _, want := range []string{"CPU 1  (2 of 2", "── CPU 1  prstatus  x86_64  pid 2", "rflags", "[PF ZF IF]", "interrupts enabled"} {
		if !strings.Contains(s, want) {
			t.Errorf("CPU 1 screen lacks %q", want)
		}
	}
	// Every source for the CPU is shown: prstatus and QEMU's state.
	cv := m.views[m.active].(*cpusView)
	var all []string
	for _, l := range cv.list.lines {
		all = append(all, l.Plain())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"── CPU 1  prstatus", "── CPU 1  qemu-cpu-state", "cr0", "bit  31    PG", "paging"} {
		if !strings.Contains(text, want) {
			t.Errorf("CPU 1 lacks %q", want)
		}
	}
	press(t, m, "[")
	if cv.cpus[cv.idx] != 0 {
		t.Fatalf("[ shows CPU %d, want 0", cv.cpus[cv.idx])
	}
}

// slowDump blocks page reads, once armed, until released, so a job can be
// cancelled while it runs. It is armed after start-up, whose reads (the
// crash summary) must finish.
type slowDump struct {
	reader.Dump
	armed   *atomic.Bool
	release chan struct{}
}

func newSlowDump(d reader.Dump) slowDump {
	return slowDump{Dump: d, armed: new(atomic.Bool), release: make(chan struct{})}
}

func (s slowDump) ReadPage(p model.PFN, dst []byte, opt reader.ReadOptions) (model.PageInfo, error) {
	if s.armed.Load() {
		<-s.release
	}
	return s.Dump.ReadPage(p, dst, opt)
}

// ReadRange blocks as ReadPage does: verify reads pages in ranges.
func (s slowDump) ReadRange(ctx context.Context, start model.PFN, n uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	if s.armed.Load() {
		<-s.release
	}
	return s.Dump.ReadRange(ctx, start, n, opt, fn)
}

func TestVerifyRunsAndCancels(t *testing.T) {
	d := openDemo(t)
	m := newTestModel(t, d, 120, 40, "dark")
	press(t, m, "0") // no such view: nothing happens
	typeLine(t, m, ":view verify")
	press(t, m, "r")
	s := ansi.Strip(screen(m))
	if !strings.Contains(s, "✓ OK: no errors") || !strings.Contains(s, "pages checked 534") {
		t.Fatalf("verify report missing:\n%s", s)
	}

	slow := newSlowDump(d)
	m = newTestModel(t, slow, 120, 40, "dark")
	slow.armed.Store(true)
	typeLine(t, m, ":view verify")
	_, wait := m.Update(keyMsg("r"))
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "Verifying every page") {
		t.Fatalf("no progress shown while verify runs:\n%s", s)
	}
	press(t, m, "esc")
	close(slow.release)
	run(t, m, wait)
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "verify: cancelled") {
		t.Fatalf("cancel not reported:\n%s", s)
	}
}

func TestVerifyOpensProblems(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":view verify")
	press(t, m, "r", "enter") // the first problem names offset 0x20: e_phoff
	if m.Active() != "layout" {
		t.Fatalf("enter on a problem with an offset shows %s, want layout", m.Active())
	}
	lv := m.views[m.active].(*layoutView)
	if n := lv.base.selected().node; n.Name != "e_phoff" {
		t.Fatalf("enter selects %s, want e_phoff", n.Name)
	}
}

func TestThemes(t *testing.T) {
	m := newTestModel(t, openDemo(t), 80, 24, "")
	if m.c.Theme.Name != "dark" {
		t.Fatalf("starts with %s, want dark until the terminal answers", m.c.Theme.Name)
	}
	send(t, m, tea.BackgroundColorMsg{Color: colorOf(0xff, 0xff, 0xff)})
	if m.c.Theme.Name != "light" {
		t.Fatalf("on a white background the theme is %s", m.c.Theme.Name)
	}
	typeLine(t, m, ":theme high-contrast")
	send(t, m, tea.BackgroundColorMsg{Color: colorOf(0, 0, 0)})
	if m.c.Theme.Name != "high-contrast" {
		t.Fatalf("a chosen theme changed to %s on a background reply", m.c.Theme.Name)
	}
	// Mono draws no colour at all, and the selection still shows (reverse).
	typeLine(t, m, ":theme mono")
	for _, view := range []string{"overview", "layout", "memory", "cpus", "log"} {
		typeLine(t, m, ":view "+view)
		out := screen(m)
		if colourSGR.MatchString(out) {
			t.Fatalf("%s in mono has colour escapes: %q", view, colourSGR.FindString(out))
		}
		if !strings.Contains(out, "\x1b[7") && !strings.Contains(out, ";7m") {
			t.Fatalf("%s in mono shows no reverse-video selection", view)
		}
	}
}

// TestThemeFromCOLORFGBG: with auto, COLORFGBG picks the first theme; the
// terminal's own answer still wins (issue 12 item 26).
func TestThemeFromCOLORFGBG(t *testing.T) {
	for _, tc := range []struct{ env, want string }{{"0;15", "light"}, {"15;0", "dark"}, {"15;default", "dark"}, {"", "dark"}} {
		m := New(context.Background(), inspect.New(openDemo(t)), Options{Theme: "auto", ColorFGBG: tc.env})
		if m.c.Theme.Name != tc.want {
			t.Errorf("COLORFGBG=%q starts with %s, want %s", tc.env, m.c.Theme.Name, tc.want)
		}
		send(t, m, tea.BackgroundColorMsg{Color: colorOf(0, 0, 0)})
		if m.c.Theme.Name != "dark" {
			t.Errorf("COLORFGBG=%q: a black background reply gives %s", tc.env, m.c.Theme.Name)
		}
		m.Close()
	}
}

// colourSGR matches SGR sequences that set a colour (30-37, 38, 40-47,
// 48, 90-97, 100-107), alone or among other parameters.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;:]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:[;:][0-9;:]*)?m`)

func TestHelpComesFromTheKeyMaps(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 60, "dark")
	typeLine(t, m, ":view memory")
	press(t, m, "?")
	var all []string
	for _, l := range m.helpList.lines {
		all = append(all, l.Plain())
	}
	text := strings.Join(all, "\n")
	mk := newMemoryKeys()
	for _, group := range mk.FullHelp() {
		for _, b := range group {
			if !strings.Contains(text, b.Help().Desc) {
				t.Errorf("help lacks %q", b.Help().Desc)
			}
		}
	}
	// The Log and CPUs views' help lists their own keys.
	for _, v := range []struct {
		name string
		keys [][]key.Binding
	}{{"log", newLogKeys().FullHelp()}, {"cpus", newCPUKeys().FullHelp()}} {
		press(t, m, "esc")
		typeLine(t, m, ":view "+v.name)
		press(t, m, "?")
		var all []string
		for _, l := range m.helpList.lines {
			all = append(all, l.Plain())
		}
		for _, group := range v.keys {
			for _, b := range group {
				if !strings.Contains(strings.Join(all, "\n"), b.Help().Key+" ") {
					t.Errorf("%s help lacks %q", v.name, b.Help().Key)
				}
			}
		}
	}
	for _, c := range m.commands() {
		if !strings.Contains(text, c.Name) {
			t.Errorf("help lacks the command %s", c.Name)
		}
	}
	press(t, m, "esc")
	if m.helpOpen {
		t.Fatal("esc did not close help")
	}
}

func TestPromptEditsAndRemembers(t *testing.T) {
	m := newTestModel(t, openDemo(t), 80, 24, "dark")
	typeLine(t, m, ":pfn 0xa10")
	press(t, m, ":", "up")
	if got := string(m.prompt.text); got != "pfn 0xa10" {
		t.Fatalf("history up gives %q", got)
	}
	press(t, m, "backspace", "backspace", "1", "1", "enter")
	if mv := memory(m); mv.curPFN() != 0xa11 {
		t.Fatalf("edited command went to pfn %s", mv.curPFN())
	}
	press(t, m, ":", "q", "backspace", "backspace")
	if m.prompt.active() {
		t.Fatal("backspace on an empty line does not close the prompt")
	}
	press(t, m, ":", "q")
	if !m.prompt.active() || string(m.prompt.text) != "q" {
		t.Fatal("q in the prompt is text, not quit")
	}
	_, cmd := m.Update(keyMsg("enter"))
	if !run(t, m, cmd) {
		t.Fatal(":q does not quit")
	}
	_, cmd = m.Update(keyMsg("ctrl+c"))
	if cmd == nil || cmd() != tea.Quit() {
		t.Fatal("ctrl+c does not quit")
	}
}

func TestMouseWheelScrolls(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":pfn 0xa05")
	mv := memory(m)
	send(t, m, tea.MouseWheelMsg{X: 10, Y: 10, Button: tea.MouseWheelDown})
	if mv.top != 0xa05030 {
		t.Fatalf("wheel down: top %#x, want 0xa05030", mv.top)
	}
	typeLine(t, m, ":view vmcoreinfo")
	vi := m.views[m.active].(*vmcoreinfoView)
	send(t, m, tea.MouseClickMsg{X: 5, Y: headerRows + 4, Button: tea.MouseLeft})
	if vi.list.cursor != 4 {
		t.Fatalf("click on row 4 selects %d", vi.list.cursor)
	}
}

// TestNoDumpCallsInUpdateOrView drives every view with its keys and
// commands on a dump that fails the test when Update or View call it.
func TestNoDumpCallsInUpdateOrView(t *testing.T) {
	d := strictDump{Dump: openDemo(t), t: t}
	m := New(context.Background(), inspect.New(d), Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	run(t, m, m.Init())
	for i := range m.views {
		press(t, m, fmt.Sprint(i+1))
		screen(m)
		press(t, m, "j", "j", "enter", "l", "J", "K", "]", "}", "{", "[", "G", "g", "pgdown", "r", "m", "l", "j", "m", "x", "esc", "?", "esc")
		screen(m)
		press(t, m, "c", "i", "j", "c", "d", "l", "h", "G", "pgup")
		screen(m)
	}
	for _, c := range []string{":pfn 0xa07", ":phys 0xa00010", ":vaddr 0xffff888000a05010", ":vaddr 0x1234", ":find QEMU", ":next",
		":findhex 4c 69 6e 75 78", ":cpu 1", ":explain 0xa01", ":offset 0x40", ":theme light", "/init", ":view log", "/dumpfixture", ":view cpus", "/rip"} {
		typeLine(t, m, c)
		screen(m)
	}
}

// indexingDump is a dump with a long index pass that reports progress and
// waits until released or cancelled.
type indexingDump struct {
	reader.Dump
	release chan struct{}
	started chan struct{}
}

func (d indexingDump) Index(ctx context.Context, progress func(done, total int64)) error {
	progress(25, 100)
	close(d.started)
	select {
	case <-d.release:
		progress(100, 100)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestIndexPassShowsProgressAndCancels(t *testing.T) {
	d := indexingDump{Dump: openDemo(t), release: make(chan struct{}), started: make(chan struct{})}
	m := New(context.Background(), inspect.New(d), Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	cmd := m.Init()
	<-d.started
	// Run the start-up commands but stop at the first progress message.
	msgs := cmd().(tea.BatchMsg)
	var wait tea.Cmd
	for _, c := range msgs {
		if msg := c(); msg != nil {
			if p, ok := msg.(jobProgressMsg); ok {
				wait = update(m, p)
			}
		}
	}
	s := ansi.Strip(screen(m))
	if !strings.Contains(s, "indexing [##") || !strings.Contains(s, "25%") {
		t.Fatalf("no index progress shown:\n%s", s)
	}
	lv := m.views[m.viewIndex("layout")].(*layoutView)
	if lv.base != nil {
		t.Fatal("views loaded before the index was ready")
	}
	press(t, m, "esc")
	run(t, m, wait)
	if lv.base == nil {
		t.Fatal("views did not load after the index pass was cancelled")
	}
	if s := ansi.Strip(screen(m)); strings.Contains(s, "indexing [") || !strings.Contains(s, "indexing cancelled") {
		t.Fatalf("progress still shown, or no word of the cancel:\n%s", s)
	}
}

func TestComponentsShowAbsentPages(t *testing.T) {
	m := newTestModel(t, aixDump(t), 120, 40, "dark")
	typeLine(t, m, ":view components")
	press(t, m, "j") // entry 0.0, 3 pages, the second absent
	cv := m.views[m.active].(*componentsView)
	if _, e := cv.entry(); e == nil || e.Name != "proc_tbl" {
		t.Fatalf("selected %+v", e)
	}
	rows := cv.hexH - 1
	for cv.top < 4096 {
		press(t, m, "ctrl+d")
	}
	if cv.top >= 4096+uint64(rows*16) {
		t.Fatalf("scrolled past page 1: top %#x", cv.top)
	}
	s := ansi.Strip(screen(m))
	if !regexp.MustCompile(`f1001[0-9a-f]{3}  -- -- -- -- -- -- -- --  -- -- -- -- -- -- -- --  \|`).MatchString(s) {
		t.Fatalf("the absent page is not marked:\n%s", s)
	}
	if !strings.Contains(s, "0.0  proc_tbl") || !strings.Contains(s, "· 1 absent") {
		t.Fatalf("entry list incomplete:\n%s", s)
	}
}
