package elfcore_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
	"dumpscope/reader/elfcore"
)

func openBytes(t *testing.T, b []byte) *elfcore.File {
	t.Helper()
	f, err := elfcore.NewFile(reader.Source{Name: "test.vmcore", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runsOf collects the page runs of f.
func runsOf(t *testing.T, f *elfcore.File) []model.PageRun {
	t.Helper()
	var out []model.PageRun
	if err := f.Runs(context.Background(), 0, false, func(r model.PageRun) bool { out = append(out, r); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func readPage(t *testing.T, f *elfcore.File, pfn uint64) []byte {
	t.Helper()
	buf := make([]byte, f.Info().PageSize)
	if _, err := f.ReadPage(model.PFN(pfn), buf, reader.ReadOptions{}); err != nil {
		t.Fatalf("pfn %#x: %v", pfn, err)
	}
	return buf
}

func hasWarning(f *elfcore.File, code, text string) bool {
	for _, w := range f.Info().Warnings {
		if w.Code.String() == code && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

// TestELF32I386 reads an ELF32 little-endian i386 vmcore: prstatus
// registers, VMCOREINFO, a stored segment and a zero-filled tail.
func TestELF32I386(t *testing.T) {
	le := binary.LittleEndian
	regs := make([]uint32, 17)
	for i := range regs {
		regs[i] = 0xc0000000 + uint32(i)
	}
	data := dumptest.Pattern(1, 2*4096)
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS32, Order: le, Machine: elf.EM_386,
		Notes: []dumptest.ELFNote{
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusI386(le, 7, regs)},
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusI386(le, 8, regs)},
			{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=4.19.0-i686\nPAGESIZE=4096\nCRASHTIME=1700000000\n")},
		},
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x100000, Vaddr: 0xc0100000, Data: data, Memsz: 4 * 4096},
		},
	}
	b, _ := core.Bytes()
	f := openBytes(t, b)
	in := f.Info()
	if in.Arch != "i386" || in.CPUs != 2 || in.OSRelease != "4.19.0-i686" || in.CrashTime == nil || *in.CrashTime != 1700000000 {
		t.Fatalf("info: %+v", in)
	}
	sets, _ := f.Registers()
	if len(sets) != 2 || sets[1].CPU != 1 || *sets[1].PID != 8 || sets[1].Arch != "i386" {
		t.Fatalf("register sets: %+v", sets)
	}
	names := []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs", "orig_eax", "eip", "cs", "eflags", "esp", "ss"}
	for i, n := range names {
		if v, ok := sets[0].Get(n); !ok || v != uint64(regs[i]) {
			t.Errorf("%s = %#x, want %#x", n, v, regs[i])
		}
	}
	want := []model.PageRun{
		{Start: 0, Count: 0x100, State: model.StateNotInDump},
		{Start: 0x100, Count: 2, State: model.StatePresent},
		{Start: 0x102, Count: 2, State: model.StateZeroFill},
	}
	if got := runsOf(t, f); !equalRuns(got, want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
	if !bytes.Equal(readPage(t, f, 0x101), data[4096:]) {
		t.Fatal("pfn 0x101 bytes differ")
	}
	if !bytes.Equal(readPage(t, f, 0x103), make([]byte, 4096)) {
		t.Fatal("zero-filled page is not zero")
	}
}

func equalRuns(a, b []model.PageRun) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBigEndian reads big-endian files of both classes: a ppc64 vmcore with
// 64 KiB pages and an ELF32 ARM big-endian one.
func TestBigEndian(t *testing.T) {
	be := binary.BigEndian
	t.Run("ELF64 ppc64", func(t *testing.T) {
		regs := make([]uint64, 48)
		for i := range regs {
			regs[i] = 0xc000000000000000 | uint64(i)
		}
		data := dumptest.Pattern(2, 65536)
		core := &dumptest.ELFCore{
			Class: elf.ELFCLASS64, Order: be, Machine: elf.EM_PPC64, DataAlign: 65536,
			Notes: []dumptest.ELFNote{
				{Name: "CORE", Type: 1, Desc: dumptest.PrstatusPPC64(be, 1, regs)},
				{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.6.0-ppc64\nPAGESIZE=65536\n")},
			},
			Segments: []dumptest.ELFSegment{{Paddr: 0, Data: data}},
		}
		b, _ := core.Bytes()
		f := openBytes(t, b)
		in := f.Info()
		if in.Arch != "ppc64" || in.Endian != model.BigEndian || in.PageSize != 65536 || in.MaxPFN != 1 {
			t.Fatalf("info: %+v", in)
		}
		sets, _ := f.Registers()
		if v, _ := sets[0].Get("nip"); v != regs[32] {
			t.Fatalf("nip = %#x", v)
		}
		if !bytes.Equal(readPage(t, f, 0), data) {
			t.Fatal("page bytes differ")
		}
	})
	t.Run("ELF32 arm", func(t *testing.T) {
		desc := make([]byte, 148)
		be.PutUint32(desc[24:], 42)          // pr_pid
		be.PutUint32(desc[72+15*4:], 0xc0de) // r15 = pc
		data := dumptest.Pattern(3, 4096)
		core := &dumptest.ELFCore{
			Class: elf.ELFCLASS32, Order: be, Machine: elf.EM_ARM,
			Notes:    []dumptest.ELFNote{{Name: "CORE", Type: 1, Desc: desc}},
			Segments: []dumptest.ELFSegment{{Paddr: 0x8000_0000, Data: data}},
		}
		b, _ := core.Bytes()
		f := openBytes(t, b)
		sets, _ := f.Registers()
		if len(sets) != 1 || *sets[0].PID != 42 {
			t.Fatalf("sets %+v", sets)
		}
		if v, _ := sets[0].Get("r15"); v != 0xc0de {
			t.Fatalf("r15 = %#x", v)
		}
		if !bytes.Equal(readPage(t, f, 0x80000), data) {
			t.Fatal("page bytes differ")
		}
	})
}

// TestManyProgramHeaders writes 70000 PT_LOADs, so e_phnum is PN_XNUM and
// the count is in section 0's sh_info; both QEMU's layout (section header
// before the program headers) and makedumpfile's (after) are read.
func TestManyProgramHeaders(t *testing.T) {
	for _, qemu := range []bool{false, true} {
		const n = 70000
		segs := make([]dumptest.ELFSegment, n)
		segs[0] = dumptest.ELFSegment{Paddr: 0, Data: dumptest.Pattern(4, 4096)}
		for i := 1; i < n; i++ {
			segs[i] = dumptest.ELFSegment{Paddr: uint64(i) * 2 * 4096, ShareWith: 1}
		}
		core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, QEMULayout: qemu, Segments: segs}
		b, _ := core.Bytes()
		f := openBytes(t, b)
		if f.Phnum != 0xffff || f.NumProgs() != n+1 || len(f.Progs) != n+1 {
			t.Fatalf("qemu=%v: e_phnum %#x, %d declared, %d read", qemu, f.Phnum, f.NumProgs(), len(f.Progs))
		}
		runs := runsOf(t, f)
		if len(runs) != 2*n-1 {
			t.Fatalf("%d runs, want %d", len(runs), 2*n-1)
		}
		last := uint64(n-1) * 2
		if pi := f.PageInfo(model.PFN(last)); pi.State != model.StatePresent {
			t.Fatalf("pfn %#x: %s", last, pi.State)
		}
		if pi := f.PageInfo(model.PFN(last - 1)); pi.State != model.StateNotInDump {
			t.Fatalf("pfn %#x: %s", last-1, pi.State)
		}
		if !bytes.Equal(readPage(t, f, last), segs[0].Data) {
			t.Fatal("shared segment data differs")
		}
	}
}

// TestOverlapsAndHoles covers overlapping PT_LOADs (stored data wins over
// zero fill; the first header wins among equals), segments that start and
// end inside a page, and QEMU's unbacked mappings.
func TestOverlapsAndHoles(t *testing.T) {
	a := dumptest.Pattern(5, 3*4096)
	bdata := dumptest.Pattern(6, 4096)
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{
			{Paddr: 0x10000, Memsz: 4 * 4096},                                // zero fill 0x10-0x13
			{Paddr: 0x11000, Data: a},                                        // data over 0x11-0x13: wins
			{Paddr: 0x12000, Data: bdata},                                    // same range as a's 2nd page: loses
			{Paddr: 0x20800, Data: dumptest.Pattern(7, 0x1000)},              // half of 0x20, half of 0x21
			{Paddr: 0x30000, Memsz: 0x5000, Unbacked: true},                  // QEMU: not in dump
			{Paddr: 0x40000, Data: dumptest.Pattern(8, 4096), Memsz: 0x1800}, // half a page of zero fill
		},
	}
	b, _ := core.Bytes()
	f := openBytes(t, b)
	check := func(pfn uint64, state model.PageState, partial bool) model.PageInfo {
		t.Helper()
		pi := f.PageInfo(model.PFN(pfn))
		if pi.State != state || pi.Partial != partial {
			t.Fatalf("pfn %#x: %s partial=%v, want %s partial=%v", pfn, pi.State, pi.Partial, state, partial)
		}
		return pi
	}
	check(0x10, model.StateZeroFill, false)
	check(0x12, model.StatePresent, false)
	if !bytes.Equal(readPage(t, f, 0x12), a[4096:8192]) {
		t.Fatal("overlap: the earlier header's data should win")
	}
	check(0x20, model.StatePresent, true)
	check(0x21, model.StatePresent, true)
	p := readPage(t, f, 0x20)
	if !bytes.Equal(p[:0x800], make([]byte, 0x800)) || !bytes.Equal(p[0x800:], core.Segments[3].Data[:0x800]) {
		t.Fatal("partial page bytes wrong")
	}
	check(0x30, model.StateNotInDump, false)
	check(0x40, model.StatePresent, false)
	check(0x41, model.StateZeroFill, true)
}

// TestTruncated opens files cut inside a PT_LOAD, inside the notes and
// inside the program header table: each opens, says what is missing and
// serves what is there.
func TestTruncated(t *testing.T) {
	le := binary.LittleEndian
	data := dumptest.Pattern(9, 4*4096)
	core := &dumptest.ELFCore{
		Class: elf.ELFCLASS64, Order: le, Machine: elf.EM_X86_64,
		Notes: []dumptest.ELFNote{
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 1, []uint64{1, 2, 3})},
			{Name: "CORE", Type: 1, Desc: dumptest.PrstatusX8664(le, 2, []uint64{4, 5, 6})},
			{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n")},
		},
		Segments: []dumptest.ELFSegment{{Paddr: 0, Data: data}},
	}
	b, lay := core.Bytes()

	t.Run("inside PT_LOAD", func(t *testing.T) {
		cut := lay.SegmentOffsets[0] + 2*4096 + 100
		f := openBytes(t, b[:cut])
		if !hasWarning(f, "truncated", "PT_LOAD [1]") {
			t.Fatalf("no truncation warning: %v", f.Info().Warnings)
		}
		if !bytes.Equal(readPage(t, f, 1), data[4096:8192]) {
			t.Fatal("intact page differs")
		}
		for _, pfn := range []uint64{2, 3} {
			pi := f.PageInfo(model.PFN(pfn))
			if pi.State != model.StateLost {
				t.Fatalf("pfn %d: %s, want lost", pfn, pi.State)
			}
			_, err := f.ReadPage(model.PFN(pfn), make([]byte, 4096), reader.ReadOptions{})
			var pe *model.PageError
			if !errors.As(err, &pe) || pe.PFN != model.PFN(pfn) || !errors.Is(err, model.ErrPageAbsent) {
				t.Fatalf("pfn %d: error %v", pfn, err)
			}
		}
		if c := dumptest.InfoWithCounts(t, f).Pages; c[model.StatePresent] != 2 || c[model.StateLost] != 2 {
			t.Fatalf("counts %v", c)
		}
	})
	t.Run("inside notes", func(t *testing.T) {
		cut := lay.NoteOffsets[1] + 40 // inside the second prstatus
		f := openBytes(t, b[:cut])
		notes, _ := f.Notes()
		if len(notes) != 1 {
			t.Fatalf("%d notes survive, want 1", len(notes))
		}
		sets, _ := f.Registers()
		if len(sets) != 1 {
			t.Fatalf("%d register sets", len(sets))
		}
		if !hasWarning(f, "truncated", "PT_NOTE [0]") {
			t.Fatalf("no truncation warning: %v", f.Info().Warnings)
		}
		if pi := f.PageInfo(0); pi.State != model.StateLost {
			t.Fatalf("pfn 0: %s", pi.State)
		}
	})
	t.Run("inside program headers", func(t *testing.T) {
		// Two PT_LOADs; cut after the first.
		core2 := *core
		core2.Segments = append(core2.Segments, dumptest.ELFSegment{Paddr: 0x100000, Data: data[:4096]})
		b2, lay2 := core2.Bytes()
		f := openBytes(t, b2[:lay2.Phoff+2*56+10])
		if len(f.Progs) != 2 || !hasWarning(f, "truncated", "2 of 3") {
			t.Fatalf("progs %d, warnings %v", len(f.Progs), f.Info().Warnings)
		}
	})
}

// TestNotELFCore rejects an ELF executable and a damaged header.
func TestNotELFCore(t *testing.T) {
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64}
	b, _ := core.Bytes()
	exe := append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(exe[16:], uint16(elf.ET_EXEC))
	if _, err := elfcore.NewFile(reader.Source{Name: "a.out", R: bytes.NewReader(exe), Size: int64(len(exe))}); !errors.Is(err, model.ErrUnrecognized) {
		t.Fatalf("ET_EXEC: %v", err)
	}
	bad := append([]byte(nil), b...)
	bad[elf.EI_CLASS] = 9
	_, err := elfcore.NewFile(reader.Source{Name: "bad", R: bytes.NewReader(bad), Size: int64(len(bad))})
	var fe *model.FormatError
	if !errors.As(err, &fe) || fe.Off != elf.EI_CLASS {
		t.Fatalf("bad class: %v", err)
	}
}
