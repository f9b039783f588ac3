package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"dumpscope/model"
)

// TestWalkModes maps pages of every size each mode has and walks them.
func TestWalkModes(t *testing.T) {
	cases := []struct {
		mode          *pagingMode
		va, pa, size  uint64
		flags         uint64
		wantSteps     int
		wantLastFlags []string
	}{
		{modeX8664L4, 0xffffffff81234000, 0x1234000, 4 << 10, pteRW | pteNX | pteG, 4, []string{"present", "rw", "global", "nx"}},
		{modeX8664L4, 0xffff888000400000, 0x400000, 2 << 20, pteRW | pteD | pteA, 3, []string{"present", "rw", "accessed", "dirty", "large"}},
		{modeX8664L4, 0xffff888040000000, 0x40000000, 1 << 30, pteRW, 2, []string{"present", "rw", "large"}},
		{modeX8664L4, 0x00007f0000001000, 0x5000, 4 << 10, pteUS | ptePS, 4, []string{"present", "user", "pat"}},
		{modeX8664L5, 0xff11000000003000, 0x3000, 4 << 10, pteRW, 5, []string{"present", "rw"}},
		{modeX8664L5, 0xff11000040000000, 0x80000000, 1 << 30, 0, 3, []string{"present", "large"}},
		{modeI386, 0xc0123000, 0x123000, 4 << 10, pteRW | pteG, 2, []string{"present", "rw", "global"}},
		{modeI386, 0xc0800000, 0x1_2340_0000 &^ (4<<20 - 1), 4 << 20, pteRW, 1, []string{"present", "rw", "large"}},
		{modeI386PAE, 0xc0123000, 0x123000, 4 << 10, pteRW | pteNX, 3, []string{"present", "rw", "nx"}},
		{modeI386PAE, 0xc0400000, 0x10_0040_0000, 2 << 20, pteRW, 2, []string{"present", "rw", "large"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%#x", c.mode.name, c.va), func(t *testing.T) {
			mem := newPageMem()
			b := newPTBuilder(mem, c.mode, 0x100000)
			b.mapPage(c.va, c.pa, c.size, c.flags)
			off := uint64(0x123) % c.size
			tr, err := walk(mem, c.mode, b.root, c.va+off, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Mapped || uint64(tr.PhysAddr) != c.pa+off || tr.PageSize != c.size {
				t.Errorf("got phys %s size %#x, want %#x size %#x", tr.PhysAddr, tr.PageSize, c.pa+off, c.size)
			}
			if len(tr.Steps) != c.wantSteps {
				t.Fatalf("%d steps, want %d: %+v", len(tr.Steps), c.wantSteps, tr.Steps)
			}
			last := tr.Steps[len(tr.Steps)-1]
			if !slices.Equal(last.Flags, c.wantLastFlags) {
				t.Errorf("last entry flags %v, want %v", last.Flags, c.wantLastFlags)
			}
			if uint64(tr.Steps[0].EntryAddr)&^(4096-1) != b.root {
				t.Errorf("first entry at %s, not in the root table %#x", tr.Steps[0].EntryAddr, b.root)
			}
			// The neighbouring page of a 4 KiB mapping is not mapped.
			if c.size == 4<<10 {
				_, err := walk(mem, c.mode, b.root, c.va+0x1000, 0)
				var nm *NotMappedError
				if !errors.As(err, &nm) || !errors.Is(err, model.ErrNotFound) || nm.Level != "pt" {
					t.Errorf("next page: %v, want not mapped at pt", err)
				}
			}
		})
	}
}

// TestWalkErrors: non-canonical addresses, absent table pages, the SME bit.
func TestWalkErrors(t *testing.T) {
	mem := newPageMem()
	b := newPTBuilder(mem, modeX8664L4, 0x100000)
	b.mapPage(0xffffffff80000000, 0x200000, 2<<20, pteRW)

	_, err := walk(mem, modeX8664L4, b.root, 0x0000800000000000, 0)
	var nm *NotMappedError
	if !errors.As(err, &nm) || nm.Level != "" || !strings.Contains(err.Error(), "canonical") {
		t.Errorf("non-canonical: %v", err)
	}
	if _, err := walk(mem, modeI386, b.root, 1<<32, 0); !errors.As(err, &nm) {
		t.Errorf("i386 address above 4 GiB: %v", err)
	}

	// A PD that points to a table page the dump lacks.
	pd := frameAddr(modeX8664L4, b.entry(b.root+511*8), 0)
	pd = frameAddr(modeX8664L4, b.entry(pd+510*8), 0)
	b.setEntry(pd+8, 0x7770000|pteP|pteRW)
	tr, err := walk(mem, modeX8664L4, b.root, 0xffffffff80200000, 0)
	var te *TableError
	if !errors.As(err, &te) || !errors.Is(err, model.ErrPageAbsent) || te.Level != "pt" || te.EntryAddr != 0x7770000 {
		t.Errorf("absent table: %v", err)
	}
	if len(tr.Steps) != 3 || tr.Mapped {
		t.Errorf("absent table: want the 3 steps walked so far, got %+v", tr)
	}

	// AMD SME: the encryption bit (here 47) is not an address bit.
	const sme = 1 << 47
	b.setEntry(pd+16, 0x400000|sme|pteP|ptePS)
	tr, err = walk(mem, modeX8664L4, b.root, 0xffffffff80412345, sme)
	if err != nil || tr.PhysAddr != 0x412345 {
		t.Errorf("sme: %v %s", err, tr.PhysAddr)
	}
}

// x8664Kernel builds a 4-level kernel address space: the kernel image at
// phys_base mapped at __START_KERNEL_map with 2 MiB pages, init_top_pgt
// inside it, and the direct map of the first 64 MiB at pageOffset (of
// 128 MiB of RAM).
func x8664Kernel(t *testing.T, pageOffset, physBase uint64) (*Kernel, *pageMem, uint64) {
	t.Helper()
	mem := newPageMem()
	b := newPTBuilder(mem, modeX8664L4, physBase+0x800000)
	for off := uint64(0); off < 16<<20; off += 2 << 20 {
		b.mapPage(startKernelMap+off, physBase+off, 2<<20, pteRW|pteG)
	}
	for off := uint64(0); off < 64<<20; off += 2 << 20 {
		b.mapPage(pageOffset+off, off, 2<<20, pteRW|pteNX)
	}
	rootVA := startKernelMap + b.root - physBase
	vmci := fmt.Sprintf("OSRELEASE=6.1.0\nSYMBOL(init_top_pgt)=%x\nSYMBOL(_stext)=%x\nNUMBER(phys_base)=%d\nNUMBER(pgtable_l5_enabled)=0\n",
		rootVA, uint64(startKernelMap+0x200000), int64(physBase))
	return testKernel("x86_64", vmci, mem, 128<<20), mem, b.root
}

func TestKernelSpaceX8664(t *testing.T) {
	k, mem, root := x8664Kernel(t, pageOffsetL4, 0x1000000)
	as, err := k.Space(bg)
	if err != nil {
		t.Fatal(err)
	}
	if as.Root != model.PhysAddr(root) || as.PageOffset != pageOffsetL4 || !strings.Contains(as.PageOffsetFrom, "checked") {
		t.Errorf("space %+v", as)
	}
	// Kernel text: walk and shortcut agree.
	mem.write(0x1234567, []byte("hello"))
	tr, err := k.Translate(bg, model.VirtAddr(startKernelMap+0x234567))
	if err != nil || tr.PhysAddr != 0x1234567 || tr.Method != MethodWalk || tr.Shortcut == nil || tr.Shortcut.Agrees == nil || !*tr.Shortcut.Agrees {
		t.Errorf("text: %v %+v", err, tr)
	}
	got := make([]byte, 5)
	if err := k.ReadVirt(bg, model.VirtAddr(pageOffsetL4+0x1234567), got); err != nil || string(got) != "hello" {
		t.Errorf("direct map read: %q %v", got, err)
	}
	if va, ok := k.DirectMapAddr(bg, model.PhysAddr(0x1234567)); !ok || va != pageOffsetL4+0x1234567 {
		t.Errorf("DirectMapAddr: %#x %v", va, ok)
	}
	// An unmapped address: the error names the level, wraps ErrNotFound.
	_, err = k.Translate(bg, model.VirtAddr(0xffffc90000000000))
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "pml4[402]") {
		t.Errorf("vmalloc hole: %v", err)
	}
	// Remove the PT page behind a 4 KiB direct-map page: the shortcut
	// answers, marked unchecked.
	b := &ptBuilder{mem: mem, mode: modeX8664L4, root: root, next: 0x3000000}
	b.mapPage(pageOffsetL4+0x5000000, 0x5000000, 4<<10, pteRW)
	tr, _ = walk(mem, modeX8664L4, root, pageOffsetL4+0x5000000, 0)
	delete(mem.pages, uint64(tr.Steps[3].EntryAddr)/4096)
	tr, err = k.Translate(bg, model.VirtAddr(pageOffsetL4+0x5000010))
	if err != nil || tr.Method != MethodDirectMap || tr.PhysAddr != 0x5000010 || !strings.Contains(tr.Note, "unchecked") {
		t.Errorf("fallback: %v %+v", err, tr)
	}
	// Outside every linear map the same failure is an error that says
	// what is missing.
	b.mapPage(0xffffc90000001000, 0x5000, 4<<10, pteRW)
	tr, _ = walk(mem, modeX8664L4, root, 0xffffc90000001000, 0)
	delete(mem.pages, uint64(tr.Steps[3].EntryAddr)/4096)
	_, err = k.Translate(bg, model.VirtAddr(0xffffc90000001000))
	if !errors.Is(err, model.ErrPageAbsent) || !strings.Contains(err.Error(), "not_in_dump") || !strings.Contains(err.Error(), "begin/length") {
		t.Errorf("absent table outside linear maps: %v", err)
	}
}

// TestKASLRDirectMap: with CONFIG_RANDOMIZE_MEMORY the direct map is not
// at its default base; the page tables reveal it.
func TestKASLRDirectMap(t *testing.T) {
	const base = 0xffff9a1c40000000
	k, _, _ := x8664Kernel(t, base, 0)
	as, err := k.Space(bg)
	if err != nil {
		t.Fatal(err)
	}
	if as.PageOffset != base || !strings.Contains(as.PageOffsetFrom, "scanning") {
		t.Errorf("PAGE_OFFSET %s (%s), want %#x by scanning", as.PageOffset, as.PageOffsetFrom, uint64(base))
	}
}

// TestI386PageOffset: a VMSPLIT_2G kernel (PAGE_OFFSET 0x80000000) and a
// PAE one; PAGE_OFFSET is found by which value makes swapper_pg_dir map
// itself.
func TestI386PageOffset(t *testing.T) {
	for _, c := range []struct {
		mode *pagingMode
		po   uint64
		pae  string
	}{{modeI386, 0x80000000, ""}, {modeI386PAE, 0xc0000000, "CONFIG_X86_PAE=y\n"}} {
		mem := newPageMem()
		b := newPTBuilder(mem, c.mode, 0x400000)
		size := uint64(4 << 20)
		if c.mode == modeI386PAE {
			size = 2 << 20
		}
		for off := uint64(0); off < 32<<20; off += size {
			b.mapPage(c.po+off, off, size, pteRW)
		}
		vmci := fmt.Sprintf("SYMBOL(swapper_pg_dir)=%x\n%s", c.po+b.root, c.pae)
		k := testKernel("i386", vmci, mem, 32<<20)
		as, err := k.Space(bg)
		if err != nil {
			t.Fatal(err)
		}
		if as.Paging != c.mode.name || as.PageOffset != model.VirtAddr(c.po) || as.Root != model.PhysAddr(b.root) {
			t.Errorf("%s: %+v", c.mode.name, as)
		}
		tr, err := k.Translate(bg, model.VirtAddr(c.po+0x1abcdef))
		if err != nil || tr.PhysAddr != 0x1abcdef || tr.Shortcut == nil || tr.Shortcut.Agrees == nil || !*tr.Shortcut.Agrees {
			t.Errorf("%s: %v %+v", c.mode.name, err, tr)
		}
	}
}

// TestTranslateCPU roots the walk at a CPU's cr3, in the mode its cr4
// selects, and says when no CPU has a cr3.
func TestTranslateCPU(t *testing.T) {
	mem := newPageMem()
	b := newPTBuilder(mem, modeX8664L5, 0x100000)
	b.mapPage(0xff11000000005000, 0x9000, 4<<10, pteRW)
	regs := model.RegisterSet{CPU: 1, Source: model.SourceQEMUCPUState, Registers: []model.Register{
		{Name: "cr3", Value: b.root | 0x5}, {Name: "cr4", Value: 1 << 12}}}
	k := testKernel("x86_64", "", mem, 1<<20, regs)
	tr, err := k.TranslateCPU(bg, model.VirtAddr(0xff11000000005010), 1)
	if err != nil || tr.PhysAddr != 0x9010 || tr.Paging != modeX8664L5.name || !strings.Contains(tr.RootFrom, "cr3 of CPU 1") {
		t.Errorf("cpu 1: %v %+v", err, tr)
	}
	// Without VMCOREINFO the kernel space falls back to that cr3 too.
	if tr, err := k.Translate(bg, model.VirtAddr(0xff11000000005010)); err != nil || tr.PhysAddr != 0x9010 {
		t.Errorf("fallback to cr3: %v %+v", err, tr)
	}
	_, err = k.TranslateCPU(bg, model.VirtAddr(0xff11000000005010), 0)
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "cr3") {
		t.Errorf("cpu 0 has no registers: %v", err)
	}
	k = testKernel("x86_64", "", mem, 1<<20)
	_, err = k.Translate(bg, model.VirtAddr(0xff11000000005010))
	if !errors.Is(err, model.ErrNotFound) || !strings.Contains(err.Error(), "no VMCOREINFO") {
		t.Errorf("no VMCOREINFO, no cr3: %v", err)
	}
}
