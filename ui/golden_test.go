package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"dumpscope/inspect"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/dumptest"
)

// The golden screens: every view at three sizes in both themes, on the
// embedded demo dump (a real QEMU vmcore whose kernel text is not in it, so
// the code pane says why), for Components on an AIX dump written by
// dumptest, and for the code pane with code on the paging fixture (skipped
// when the fixtures are absent). Regenerate with `go test ./ui -update`.

var goldenSizes = [][2]int{{80, 24}, {120, 40}, {200, 60}}

// goldenViews says how each view is reached and what is done in it before
// the screen is taken. name is the golden's folder and, unless view is
// set, the view.
var goldenViews = []struct {
	name, view string
	dump       func(testing.TB) reader.Dump
	// session, instead of dump, shares one session between the screens
	// (the Debian dumps: their engine decodes kallsyms, BTF and the
	// analysis once).
	session func(testing.TB) *inspect.Session
	setup   func(t testing.TB, m *Model)
}{
	{name: "overview", dump: openDemo},
	{name: "layout", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "j", "j", "j", "j") }},
	{name: "notes", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "j") }},
	{name: "vmcoreinfo", dump: openDemo},
	{name: "cpus", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "]") }},
	{name: "cpus-code", view: "cpus", dump: pagingFixture, setup: func(t testing.TB, m *Model) { press(t, m, "c", "j") }},
	{name: "memory", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "j", "l") }},
	{name: "memory-select", view: "memory", dump: openDemo, setup: func(t testing.TB, m *Model) {
		typeLine(t, m, ":phys 0xa05010")
		press(t, m, "v", "l", "l", "l", "j")
	}},
	{name: "memory-vaddr", view: "memory", dump: openDemo, setup: func(t testing.TB, m *Model) {
		typeLine(t, m, ":vaddr 0xffff888000a05010")
	}},
	{name: "log", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "k", "k") }},
	{name: "components", dump: aixDump, setup: func(t testing.TB, m *Model) { press(t, m, "j") }},
	{name: "verify", dump: openDemo, setup: func(t testing.TB, m *Model) { press(t, m, "r") }},
	{name: "tasks-demo", view: "tasks", dump: openDemo},
	{name: "tasks-nobtf", view: "tasks", dump: pagingFixture, setup: func(t testing.TB, m *Model) { press(t, m, "j", "l", "j", "j", "enter") }},
	{name: "overview-panic", view: "overview", session: panicSession},
	{name: "tasks", session: panicSession, setup: func(t testing.TB, m *Model) {
		typeLine(t, m, ":task 1")
		press(t, m, "j", "j", "j", "enter")
	}},
	{name: "tasks-filter", view: "tasks", session: panicSession, setup: func(t testing.TB, m *Model) { typeLine(t, m, ":filter IN k") }},
	{name: "tasks-modules", view: "tasks", session: panicSession, setup: func(t testing.TB, m *Model) { press(t, m, "M", "l", "G") }},
	{name: "cpus-stack", view: "cpus", session: panicSession, setup: func(t testing.TB, m *Model) { press(t, m, "]", "c", "G") }},
	{name: "log-crash", view: "log", session: panicSession, setup: func(t testing.TB, m *Model) { press(t, m, "g", "p") }},
	{name: "log-level", view: "log", session: panicSession, setup: func(t testing.TB, m *Model) { press(t, m, "p", "f", "f") }},
}

// panicSession is the session over the Debian panic dump.
func panicSession(t testing.TB) *inspect.Session { return debianSession(t, debianPanic) }

// goldenModel builds the UI a golden shows.
func goldenModel(t testing.TB, g int, w, h int, theme string) *Model {
	if v := goldenViews[g]; v.session != nil {
		return newSessionModel(t, v.session(t), w, h, theme)
	}
	return newTestModel(t, goldenViews[g].dump(t), w, h, theme)
}

// viewOf is the view a golden shows.
func viewOf(name, view string) string {
	if view != "" {
		return view
	}
	return name
}

// pagingFixture opens the x86_64 QEMU fixture that holds all of RAM: its
// kernel text, kallsyms and stacks can be read.
func pagingFixture(t testing.TB) reader.Dump {
	d, err := open.Open(dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestGolden(t *testing.T) {
	for g, v := range goldenViews {
		for _, size := range goldenSizes {
			for _, theme := range []string{"dark", "light"} {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", v.name, size[0], size[1], theme), func(t *testing.T) {
					m := goldenModel(t, g, size[0], size[1], theme)
					view := viewOf(v.name, v.view)
					typeLine(t, m, ":view "+view)
					if m.Active() != view {
						t.Fatalf("active view is %s, want %s", m.Active(), view)
					}
					if v.setup != nil {
						v.setup(t, m)
					}
					out := screen(m)
					checkScreen(t, out, size[0], size[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// checkScreen is the line-width invariant: exactly h lines, none wider
// than w cells.
func checkScreen(t testing.TB, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

// TestLineWidthSweep checks the invariant for every view at many sizes,
// the narrow and short ones included.
func TestLineWidthSweep(t *testing.T) {
	for _, v := range goldenViews {
		t.Run(v.name, func(t *testing.T) {
			var s *inspect.Session
			if v.session != nil {
				s = v.session(t)
			} else {
				s = inspect.New(v.dump(t))
			}
			for _, size := range [][2]int{{20, 6}, {40, 10}, {63, 17}, {79, 23}, {100, 30}, {119, 33}, {121, 41}, {139, 45}, {140, 45}, {159, 45}, {160, 45}, {169, 50}, {171, 52}, {250, 70}} {
				m := newSessionModel(t, s, size[0], size[1], "dark")
				typeLine(t, m, ":view "+viewOf(v.name, v.view))
				if v.setup != nil {
					v.setup(t, m)
				}
				t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
					checkScreen(t, screen(m), size[0], size[1])
				})
				press(t, m, "?")
				t.Run(fmt.Sprintf("%dx%d/help", size[0], size[1]), func(t *testing.T) {
					checkScreen(t, screen(m), size[0], size[1])
				})
			}
		})
	}
}

// aixDump writes an AIX dump with two components, one area with a page
// that was not in memory.
func aixDump(t testing.TB) reader.Dump {
	t.Helper()
	w := dumptest.AIXDump{Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagic64, Name: "proc", Areas: []dumptest.AIXArea{
			{Name: "proc_tbl", Addr: 0xf1000000, Len: 3 * 4096, Segval: dumptest.AIXGenSegval64, Absent: []uint64{1}, Seed: 1},
			{Name: "thread", Addr: 0xf1100010, Len: 200, Segval: dumptest.AIXGenSegval64, Data: bytes.Repeat([]byte("AIX thread "), 19)[:200]},
		}},
		{Magic: dumptest.AIXMagic32, Name: "vmm", Areas: []dumptest.AIXArea{
			{Name: "vmmdseg", Addr: 0x2000, Len: 4096, Segval: dumptest.AIXRealSegval32, Seed: 2},
		}},
	}}
	b, _ := w.Bytes()
	f, err := aix.NewFile(reader.Source{Name: "aix.dump", R: bytes.NewReader(b), Size: int64(len(b))}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
