package ui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/open/opentest"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// Tests of the search of memory for VMCOREINFO as the UI shows it: the
// relay's reports, the status line and esc, and a dump whose note was
// stripped, read through the recovered text.

// strippedPaging is the paging fixture without its VMCOREINFO note.
func strippedPaging(t testing.TB) reader.Dump {
	t.Helper()
	path := dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore")
	d := pagingFixture(t)
	lay, err := d.Layout()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, n := dumptest.StripVMCoreInfo(b, lay)
	if n == 0 {
		t.Fatal("no VMCOREINFO to strip")
	}
	return opentest.Bytes(t, "stripped.vmcore", out)
}

func TestProgressRelays(t *testing.T) {
	p := NewProgress()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Report(10, 100)
	p.Report(11, 100) // within 40 ms of the last: dropped
	if msg := p.wait(ctx)(); msg != (searchMsg{10, 100}) {
		t.Fatalf("the first report arrives as %v", msg)
	}
	p.Report(100, 100) // the last report always passes
	if msg := p.wait(ctx)(); msg != (searchMsg{100, 100}) {
		t.Fatalf("the last report arrives as %v", msg)
	}
	p.finish() // nothing was under way: no message
	done := make(chan any, 1)
	go func() { done <- p.wait(ctx)() }()
	select {
	case msg := <-done:
		t.Fatalf("finish after the end sends %v", msg)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if msg := <-done; msg != nil {
		t.Fatalf("wait after the program ends returns %v", msg)
	}
	// A search cut short ends too.
	q := NewProgress()
	q.Report(5, 100)
	q.finish()
	if msg := q.wait(context.Background())(); msg != (searchMsg{100, 100}) {
		t.Fatalf("finish sends %v", msg)
	}
}

func TestSearchShowsAndCancels(t *testing.T) {
	p := NewProgress()
	m := New(context.Background(), inspect.New(openDemo(t)), Options{Theme: "dark", VMCoreInfoSearch: p,
		Views: []ViewSpec{{Name: "notes", New: func(c *Common) View { return newNotesView(c) }}}})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 120, Height: 20})
	update(m, searchMsg{40, 100})
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "no VMCOREINFO note: searching memory for it [####......] 40% (esc cancels)") {
		t.Fatalf("the search is not shown:\n%s", s)
	}
	// esc cancels the engine calls waiting for the search.
	ctx, cancel := context.WithCancel(context.Background())
	id := m.c.builds.add(cancel)
	defer m.c.builds.remove(id)
	press(t, m, "esc")
	if ctx.Err() == nil || !strings.Contains(ansi.Strip(screen(m)), "the search of memory for VMCOREINFO was cancelled") {
		t.Fatalf("esc does not cancel the search:\n%s", ansi.Strip(screen(m)))
	}
	update(m, searchMsg{100, 100})
	if s := ansi.Strip(screen(m)); strings.Contains(s, "searching memory") {
		t.Fatalf("the search is still shown once done:\n%s", s)
	}
}

// TestRecoveredVMCoreInfo: a dump whose note was stripped is read through
// the VMCOREINFO found in memory; the engine calls report the search to
// the relay, and once the Overview's analysis is read the header names
// the release that text gives.
func TestRecoveredVMCoreInfo(t *testing.T) {
	d := strippedPaging(t)
	p := NewProgress()
	s := inspect.NewWithOptions(d, inspect.Options{Recover: true, RecoverProgress: p.Report})
	if s.Info().OSRelease != "" {
		t.Fatalf("the stripped dump names release %q before the search", s.Info().OSRelease)
	}
	// The relay sees the search through to its end.
	c := &Common{Ctx: context.Background(), S: s, Search: p}
	reports := make(chan searchMsg, 1)
	go func() {
		for {
			msg, _ := p.wait(c.Ctx)().(searchMsg)
			if msg.done >= msg.total {
				reports <- msg
				return
			}
		}
	}()
	if _, err := c.kernel(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-reports:
		if msg.total == 0 {
			t.Fatalf("the search reported %v", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relay never saw the search end")
	}
	// A new session: the UI starts before the search, and the Overview's
	// analysis makes it.
	s = inspect.NewWithOptions(d, inspect.Options{Recover: true})
	m := New(context.Background(), s, Options{Theme: "dark"})
	defer m.Close()
	send(t, m, tea.WindowSizeMsg{Width: 120, Height: 50})
	if m.c.Info.OSRelease != "" || !strings.Contains(ansi.Strip(screen(m)), "release unknown") {
		t.Fatalf("the header names a release before the search:\n%s", ansi.Strip(screen(m)))
	}
	run(t, m, m.Init())
	scr := flat(screen(m))
	if m.c.Info.OSRelease != "6.1.192" || !strings.Contains(scr, "kernel 6.1.192") {
		t.Errorf("the header does not name the recovered release (%q):\n%s", m.c.Info.OSRelease, ansi.Strip(screen(m)))
	}
	text := flat(strings.Join(linesOf(m.views[0].(*overview).list), "\n"))
	for _, w := range []string{"vmcoreinfo recovered from memory at 0x", "vmcoreinfo no note; using the one from memory at 0x"} {
		if !strings.Contains(text, w) {
			t.Errorf("the Overview lacks %q:\n%s", w, text)
		}
	}
	if m.c.Info.VMCoreInfoFrom == "" || m.c.Info.Pages == nil {
		t.Errorf("Info after the analysis: from %q, pages %v", m.c.Info.VMCoreInfoFrom, m.c.Info.Pages)
	}
}
