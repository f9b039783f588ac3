package ui

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
)

// Tests of the CPUs view's code pane and register symbols, and of `:vaddr`
// and find's virtual addresses in Memory, driven through Update.

// cpusOf returns the root's CPUs view.
func cpusOf(m *Model) *cpusView { return m.views[m.viewIndex("cpus")].(*cpusView) }

func TestCPUsCodePane(t *testing.T) {
	m := newTestModel(t, pagingFixture(t), 120, 40, "dark")
	typeLine(t, m, ":view cpus")
	cv := cpusOf(m)
	s := ansi.Strip(screen(m))
	for _, w := range []string{
		"Code of CPU 0 at rip 0xffffffff8034b94b native_safe_halt+0x13/0x14 · GNU syntax (i: Intel)",
		"=> ffffffff8034b94b <native_safe_halt+0x13> c3", // the instruction at rip, marked
		"call 0xffffffff8034b938 <native_safe_halt>",     // a branch target by name
		"rip      0xffffffff8034b94b native_safe_halt+0x13",
		"rsp      0xffffffff80a03e58 init_stack+0x3e58",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("the CPUs view lacks %q:\n%s", w, s)
		}
	}
	// The marked instruction is bold as well as marked "=>".
	if !strings.Contains(screen(m), m.c.St.title.Paint("=> ")) {
		t.Error("the instruction at rip is not drawn in the title pen")
	}
	// Other registers are named when they point into code, not data
	// (rbp points into init_stack); rsp is named by any symbol.
	for _, tc := range []struct {
		reg  model.Register
		want string
	}{
		{model.Register{Name: "rax", Value: 0xffffffff8034b94b}, "native_safe_halt+0x13"},
		{model.Register{Name: "rbp", Value: 0xffffffff80a03e60}, ""},
		{model.Register{Name: "rsp", Value: 0xffffffff80a03e60}, "init_stack+0x3e60"},
		{model.Register{Name: "rbx", Value: 0x46}, ""},
	} {
		if got := cv.regSym(tc.reg); got != tc.want {
			t.Errorf("%s %#x is named %q, want %q", tc.reg.Name, tc.reg.Value, got, tc.want)
		}
	}
	// The stack, unwound along the frame pointers.
	var code []string
	for _, l := range cv.code.list.lines {
		code = append(code, l.Plain())
	}
	text := strings.Join(code, "\n")
	for _, w := range []string{" #1 [ffffffff80a03e58] amd_e400_idle+0x14/0x30 at ffffffff8020cd84",
		"#11 [ffffffff80a03f50] secondary_startup_64_no_verify+0xcd/0xdb at ffffffff80200132"} {
		if !strings.Contains(text, w) {
			t.Errorf("the stack lacks %q:\n%s", w, text)
		}
	}
	// i: Intel syntax; c: focus moves to the code, whose cursor j moves.
	press(t, m, "i")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "call 0xffffffff8034b938 <native_safe_halt>") || !strings.Contains(s, "Intel syntax (i: GNU)") {
		t.Fatalf("i does not switch to Intel syntax:\n%s", s)
	}
	regCursor, codeCursor := cv.list.cursor, cv.code.list.cursor
	press(t, m, "c", "j")
	if !cv.code.focused || cv.code.list.cursor != codeCursor+1 || cv.list.cursor != regCursor {
		t.Fatalf("c j: focused %v, code cursor %d (was %d), registers cursor %d (was %d)",
			cv.code.focused, cv.code.list.cursor, codeCursor, cv.list.cursor, regCursor)
	}
	if !strings.Contains(ansi.Strip(screen(m)), "▶ Code of CPU 0") {
		t.Fatal("the focused code pane is not marked ▶")
	}
	press(t, m, "]")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "Code of CPU 1 at rip 0xffffffff8034b94b") || !strings.Contains(s, "rsp      0xffff8880001c7ed0\n") &&
		!strings.Contains(s, "rsp      0xffff8880001c7ed0 ") {
		t.Fatalf("] does not show CPU 1's code:\n%s", s)
	}
	press(t, m, "c", "j")
	if cv.code.focused || cv.list.cursor != 1 {
		t.Fatalf("c gives the focus back: focused %v, registers cursor %d", cv.code.focused, cv.list.cursor)
	}
}

// TestCPUsCodePaneSaysWhy opens dumps whose code cannot be read.
func TestCPUsCodePaneSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		dump func(t testing.TB) reader.Dump
		want []string
	}{
		{"demo", openDemo, []string{"no code: the instructions cannot be read",
			"missing code at 0xffffffff8034b94b: virtual 0xffffffff8034b94b (physical 0x34b94b)",
			"because pfn 0x34b is not_in_dump: no PT_LOAD covers it", "to keep it the dump holds only part of RAM",
			"no unwound stack", "missing kallsyms: virtual 0xffffffff8082b098"}},
		{"i386", func(t testing.TB) reader.Dump { return openFixture(t, "i386/qemu-elf-mini.vmcore") },
			[]string{"missing code at 0xc02a885e", "no unwound stack", "missing kallsyms: virtual 0xc035af5c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, tc.dump(t), 200, 60, "dark")
			typeLine(t, m, ":view cpus")
			// The code pane stands beside the registers: read it alone.
			var code []string
			for _, l := range cpusOf(m).code.list.lines {
				code = append(code, l.Plain())
			}
			s := flat(strings.Join(code, "\n"))
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("the code pane lacks %q:\n%s", w, strings.Join(code, "\n"))
				}
			}
			press(t, m, "i", "c", "j", "c", "]")
		})
	}
}

func TestVaddrShowsTheTranslation(t *testing.T) {
	d := openDemo(t)
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":vaddr 0xffff888000a05010")
	mv := memory(m)
	if m.Active() != "memory" || mv.cur != 0xa05010 {
		t.Fatalf(":vaddr shows %s at %#x, want memory at 0xa05010", m.Active(), mv.cur)
	}
	s := flat(screen(m))
	for _, w := range []string{"vaddr 0xffff888000a05010 → phys 0xa05010 (pfn 0xa05, present), 4 KiB page by direct map",
		"x86_64 4-level, root 0xa09000 from SYMBOL(init_top_pgt) in VMCOREINFO",
		"pml4[273] 0xa09888 = 0x0000000000c00067 present rw user accessed dirty → 0xc00000",
		"direct map: 0xa05010, not checked against the walk", "vaddr 0xffff888000a05010 is phys 0xa05010 (pfn 0xa05, present)"} {
		if !strings.Contains(s, w) {
			t.Errorf("the Memory view lacks %q:\n%s", w, ansi.Strip(screen(m)))
		}
	}
	page := make([]byte, 4096)
	if _, err := d.ReadPage(0xa05, page, reader.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	checkRowsInPage(t, screen(m), 0xa05000, page)

	// An address the tables do not map: the panel says why; the cursor
	// stays.
	typeLine(t, m, ":vaddr 0x1234")
	if s := flat(screen(m)); !strings.Contains(s, "✗ vaddr 0x1234 is not translated") ||
		!strings.Contains(s, "because 0x1234 is not mapped: pml4[0] = 0x0 is not present") || mv.cur != 0xa05010 {
		t.Fatalf("an unmapped address:\n%s", ansi.Strip(screen(m)))
	}
	press(t, m, "esc")
	if mv.vaddr != nil || strings.Contains(ansi.Strip(screen(m)), "not translated") {
		t.Fatal("esc does not close the translation")
	}
	typeLine(t, m, ":vaddr 0xffff888000a05010")
	typeLine(t, m, ":pfn 0xa06")
	if mv.vaddr != nil {
		t.Fatal(":pfn leaves the translation of another place open")
	}
	typeLine(t, m, ":vaddr nowhere")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, `vaddr: "nowhere" is not a number`) {
		t.Fatalf("no error for a bad address:\n%s", lastLines(s, 2))
	}
	// The command is listed with the others.
	typeLine(t, m, ":help")
	var help []string
	for _, l := range m.helpList.lines {
		help = append(help, l.Plain())
	}
	if h := flat(strings.Join(help, "\n")); !strings.Contains(h, "vaddr ADDR translate kernel virtual address ADDR through the page tables") {
		t.Fatalf("help does not list :vaddr:\n%s", h)
	}
}

// checkRowsInPage compares the hex rows on a screen with a page at base.
func checkRowsInPage(t *testing.T, screen string, base uint64, page []byte) {
	t.Helper()
	rows := hexRowsOnScreen(screen)
	if len(rows) < 10 {
		t.Fatalf("only %d hex rows on the screen:\n%s", len(rows), ansi.Strip(screen))
	}
	for addr, b := range rows {
		if addr < base || addr+uint64(len(b)) > base+uint64(len(page)) {
			t.Fatalf("row %#x lies outside the page at %#x", addr, base)
		}
		if want := page[addr-base : addr-base+uint64(len(b))]; !bytes.Equal(b, want) {
			t.Fatalf("row %#x on screen is % x, the page has % x", addr, b, want)
		}
	}
}

func TestVaddrOfKernelText(t *testing.T) {
	d := pagingFixture(t)
	m := newTestModel(t, d, 120, 40, "dark")
	typeLine(t, m, ":vaddr 0xffffffff80200000")
	if mv := memory(m); mv.cur != 0x200000 {
		t.Fatalf(":vaddr of the kernel text goes to %#x, want 0x200000", mv.cur)
	}
	if s := flat(screen(m)); !strings.Contains(s, "→ phys 0x200000 (pfn 0x200, present), 2 MiB page by page-table walk") ||
		!strings.Contains(s, "(large page)") || !strings.Contains(s, "kernel text map: 0x200000, agrees with the walk") {
		t.Fatalf("the translation is not shown:\n%s", ansi.Strip(screen(m)))
	}
	k, err := kernel.New(d)
	if err != nil {
		t.Fatal(err)
	}
	text := make([]byte, 4096)
	if err := k.ReadVirt(context.Background(), model.VirtAddr(0xffffffff80200000), text); err != nil {
		t.Fatal(err)
	}
	checkRowsInPage(t, screen(m), 0x200000, text)
}

func TestVaddrWithoutTheEngine(t *testing.T) {
	m := newTestModel(t, aixDump(t), 120, 40, "dark")
	typeLine(t, m, ":vaddr 0x1000")
	if s := flat(screen(m)); !strings.Contains(s, "✗ vaddr 0x1000 is not translated") || !strings.Contains(s, "this dump is ppc64") {
		t.Fatalf("no reason without the engine:\n%s", ansi.Strip(screen(m)))
	}
	// Find still works, without virtual addresses.
	typeLine(t, m, ":findhex a6 58 4a a4")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "0xa6584aa4 at phys 0x2000 (pfn 0x2); n: next") {
		t.Fatalf("find on a dump without the engine:\n%s", lastLines(s, 2))
	}
}

func TestFindNamesTheVirtualAddress(t *testing.T) {
	m := newTestModel(t, openDemo(t), 120, 40, "dark")
	typeLine(t, m, ":find dumpfixture: marker")
	mv := memory(m)
	if !mv.find.haveHit {
		t.Fatalf("no match:\n%s", ansi.Strip(screen(m)))
	}
	va := fmt.Sprintf("vaddr %#x", 0xffff888000000000+mv.cur) // the direct map's PAGE_OFFSET
	s := ansi.Strip(screen(m))
	if !strings.Contains(lastLines(s, 2), fmt.Sprintf("at phys %#x (pfn %#x, %s)", mv.cur, mv.cur/4096, va)) ||
		mv.hitLabel() != `"dumpfixture: marker" at `+va || !strings.Contains(s, `match "dumpfixture: marker" at vaddr 0xf`) {
		t.Fatalf("the match's virtual address is not named (%s):\n%s", va, s)
	}
	want := model.VirtAddr(0xffff888000000000 + mv.cur)
	if got := mv.find.vaddrs[mv.cur]; got != want {
		t.Fatalf("remembered vaddr %s, want %s", got, want)
	}
}

// TestCPUsViewUnwindsTheStack: the code pane shows the CPU's stack as the
// engine unwinds it (frame pointers on the paging fixture); a frame opens
// its code, esc and ctrl+o go back to the instruction pointer's, m shows
// its stack slot in Memory.
func TestCPUsViewUnwindsTheStack(t *testing.T) {
	d := pagingFixture(t)
	m := newTestModel(t, d, 120, 50, "dark")
	typeLine(t, m, ":view cpus")
	cv := cpusOf(m)
	k, err := m.c.S.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	bt, err := k.CPUBacktrace(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	code := strings.Join(linesOf(cv.code.list), "\n")
	for _, f := range bt.Frames {
		if !strings.Contains(code, present.FrameLine(f)) {
			t.Errorf("the code pane lacks %q:\n%s", present.FrameLine(f), code)
		}
	}
	if !strings.Contains(code, "unwound by frame-pointer from prstatus registers of CPU 0") {
		t.Errorf("the code pane does not say how the stack was unwound:\n%s", code)
	}
	// Focus the code, go to frame #3, open its code.
	press(t, m, "c")
	row := slices.IndexFunc(cv.code.anch, func(a stackAnchor) bool { return a.frame == 3 })
	cv.code.list.moveTo(row)
	press(t, m, "enter")
	f := bt.Frames[3]
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "Code of CPU 0 #3 "+f.Location) || !strings.Contains(s, fmt.Sprintf("=> %x", uint64(f.PC))) {
		t.Fatalf("enter on frame #3:\n%s", s)
	}
	press(t, m, "esc")
	if s := ansi.Strip(screen(m)); !strings.Contains(s, "Code of CPU 0 at rip 0xffffffff8034b94b") {
		t.Fatalf("esc does not go back to rip's code:\n%s", s)
	}
	cv.code.list.moveTo(row)
	press(t, m, "d")
	press(t, m, "ctrl+o")
	if _, ok := cv.code.at[0]; ok || m.Active() != "cpus" {
		t.Fatal("ctrl+o does not go back to rip's code")
	}
	cv.code.list.moveTo(row)
	press(t, m, "m")
	if mv := memory(m); m.Active() != "memory" || mv.vaddr == nil || model.VirtAddr(mv.vaddr.va) != *f.Slot {
		t.Fatalf("m on frame #3 shows %s", m.Active())
	}
	press(t, m, "backspace")
	if m.Active() != "cpus" || cv.code.list.cursor != row {
		t.Fatalf("backspace returns to %s row %d, want cpus row %d", m.Active(), cv.code.list.cursor, row)
	}
}
