//go:build linux && (amd64 || arm64)

package start

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestTextSegment reads program headers made here, through an auxiliary
// vector that points at them.
func TestTextSegment(t *testing.T) {
	const page = 4096
	phdr := func(typ, flags uint32, vaddr, memsz uint64) elf64Phdr {
		return elf64Phdr{Type: typ, Flags: flags, Vaddr: vaddr, Memsz: memsz, Filesz: memsz}
	}
	const pfR = 4
	for _, c := range []struct {
		name    string
		headers []elf64Phdr
		// phdrAt is PT_PHDR's address in the file's terms; the headers
		// really are at &headers[0], so the bias is the difference.
		phdrAt uint64
		// start and end bound the code in the file's terms: the bias is
		// added, then both are rounded out to pages. No range is wanted
		// when end is zero.
		start, end uint64
		phent      uintptr
	}{
		{"executable", []elf64Phdr{phdr(ptPhdr, pfR, 0x400040, 0x150), phdr(ptLoad, pfR|pfX, 0x400000, 0x6a56d1), phdr(ptLoad, pfR, 0xaa6000, 0x1000)}, 0x400040, 0x400000, 0x400000 + 0x6a56d1, 56},
		{"position-independent", []elf64Phdr{phdr(ptPhdr, pfR, 0x40, 0x150), phdr(ptLoad, pfR, 0, 0x1000), phdr(ptLoad, pfR|pfX, 0x1000, 0x2345)}, 0x40, 0x1000, 0x1000 + 0x2345, 56},
		{"no PT_PHDR", []elf64Phdr{phdr(ptLoad, pfR|pfX, 0x400000, 0x1000)}, 0, 0, 0, 56},
		{"no executable segment", []elf64Phdr{phdr(ptPhdr, pfR, 0x400040, 0x150), phdr(ptLoad, pfR, 0x400000, 0x1000)}, 0x400040, 0, 0, 56},
		{"empty executable segment", []elf64Phdr{phdr(ptPhdr, pfR, 0x400040, 0x150), phdr(ptLoad, pfX, 0x400000, 0)}, 0x400040, 0, 0, 56},
		{"32-bit headers", []elf64Phdr{phdr(ptPhdr, pfR, 0x400040, 0x150), phdr(ptLoad, pfX, 0x400000, 0x1000)}, 0x400040, 0, 0, 32},
	} {
		at := uintptr(unsafe.Pointer(&c.headers[0]))
		bias := at - uintptr(c.phdrAt)
		auxv := []uintptr{atPhnum, uintptr(len(c.headers)), atPagesz, page, atPhdr, at, atPhent, c.phent, 0, 0}
		got := image(auxv).Text
		want := Range{}
		if c.end != 0 {
			want = Range{(bias + uintptr(c.start)) &^ (page - 1), (bias + uintptr(c.end) + page - 1) &^ (page - 1)}
		}
		if got != want {
			t.Errorf("%s: %#x-%#x, want %#x-%#x", c.name, got.Start, got.End, want.Start, want.End)
		}
	}
	headers := []elf64Phdr{phdr(ptPhdr, pfR, 0x40, 0x150), phdr(ptLoad, pfX, 0, 0x1000)}
	at := uintptr(unsafe.Pointer(&headers[0]))
	for _, auxv := range [][]uintptr{
		nil,
		{atPhdr, at, atPhent, 56},                             // no count
		{atPhdr, at, atPhent, 56, atPhnum, 0},                 // a count of none
		{atPhdr, at, atPhent, 56, atPhnum, 65},                // more than maxPhnum
		{atPhent, 56, atPhnum, 2},                             // no address
		{atPhdr, at, atPhent, 56, atPhnum},                    // cut short
		{atPhdr, at, atPhent, 56, atPhnum, 2},                 // no page size
		{atPhdr, at, atPhent, 56, atPhnum, 2, atPagesz, 3000}, // a page size that is no power of two
	} {
		if got := image(auxv).Text; got != (Range{}) {
			t.Errorf("auxv %v: %#x-%#x, want none", auxv, got.Start, got.End)
		}
	}
}

// TestTextSegmentOfThisProcess: the range found in the process's own
// auxiliary vector holds the code of this test.
func TestTextSegmentOfThisProcess(t *testing.T) {
	r := image(runtimeAuxv()).Text
	f := TestTextSegmentOfThisProcess
	pc := **(**uintptr)(unsafe.Pointer(&f))
	if r.Start == 0 || pc < r.Start || pc >= r.End {
		t.Fatalf("code segment %#x-%#x does not hold this test's code at %#x", r.Start, r.End, pc)
	}
}

// TestMapText: after the process's code is unmapped (MADV_DONTNEED keeps
// the page cache and only clears the page tables), mapText makes every page
// of it resident again in one call: smaps Rss equals the mapping's size.
func TestMapText(t *testing.T) {
	r := First.Text
	switch {
	case First.TextErr == Errno(syscall.EINVAL):
		t.Skip("MADV_POPULATE_READ refused (EINVAL): a kernel older than Linux 5.14")
	case First.TextErr != 0:
		t.Fatalf("MADV_POPULATE_READ of %#x-%#x at start: %v", r.Start, r.End, syscall.Errno(First.TextErr))
	case r != image(runtimeAuxv()).Text || r.Start == 0:
		t.Fatalf("start mapped %#x-%#x, not the code segment", r.Start, r.End)
	}
	size := int((r.End - r.Start) >> 10)
	if errno := madvise(r, syscall.MADV_DONTNEED); errno != 0 {
		t.Skipf("MADV_DONTNEED of the code: %v", syscall.Errno(errno))
	}
	if rss := residentKB(t, r); rss >= size {
		t.Skipf("the code stayed resident after MADV_DONTNEED (%d of %d kB): nothing to measure", rss, size)
	}
	mapText(First.TextHuge)
	if First.TextErr != 0 {
		t.Fatalf("MADV_POPULATE_READ of %#x-%#x: %v", r.Start, r.End, syscall.Errno(First.TextErr))
	}
	if rss := residentKB(t, r); rss != size {
		t.Errorf("code segment %#x-%#x: %d of its %d kB resident after mapText, want all", r.Start, r.End, rss, size)
	}
}

// residentKB is smaps' Rss of the one mapping that is r.
func residentKB(t *testing.T, r Range) int {
	t.Helper()
	kb, _ := smapsField(t, r, "Rss:")
	return kb
}

// smapsField is a field of smaps (in kB) for the one mapping that is r,
// with the mapping's VmFlags.
func smapsField(t *testing.T, r Range, field string) (int, []string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	in, kb, found := false, 0, false
	var flags []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if lo, hi, ok := strings.Cut(f0(f), "-"); ok {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uintptr(a) == r.Start && uintptr(b) == r.End
		} else if in && len(f) == 3 && f[0] == field {
			if kb, err = strconv.Atoi(f[1]); err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			found = true
		} else if in && len(f) > 0 && f[0] == "VmFlags:" {
			flags = f[1:]
		}
	}
	if !found {
		t.Skipf("no %s for a mapping %#x-%#x in /proc/self/smaps", field, r.Start, r.End)
	}
	return kb, flags
}

// f0 is the first of fields, or "".
func f0(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// TestImage finds both read-only segments, and whether their addresses
// and file offsets agree modulo 2 MiB. The headers lie wherever the test's
// memory put them; their PT_PHDR entry is made to say so, at the same
// offset from a 2 MiB boundary, so that the load bias is a multiple of
// 2 MiB, as where the kernel loads an executable of Go's.
func TestImage(t *testing.T) {
	const page = 4096
	phdr := func(typ, flags uint32, off, vaddr, memsz uint64) elf64Phdr {
		return elf64Phdr{Type: typ, Flags: flags, Off: off, Vaddr: vaddr, Memsz: memsz, Filesz: memsz}
	}
	const pfR = 4
	for _, c := range []struct {
		name         string
		headers      []elf64Phdr // the first is PT_PHDR, its address set here
		base         uint64      // where the file's first byte is meant to be
		rodata       [2]uint64   // in the file's terms; none when zero
		wantHugeable bool
		textOffset   uintptr // the file offset the code's first page maps
	}{
		{"Go's layout", []elf64Phdr{
			phdr(ptPhdr, pfR, 0x40, 0, 0x150),
			phdr(ptLoad, pfR|pfX, 0, 0x400000, 0x6a8dd1),
			phdr(ptLoad, pfR, 0x6a9000, 0xaa9000, 0x69cf88),
			phdr(ptLoad, pfR|pfW, 0xd46000, 0x1146000, 0x2390ca0),
		}, 0x400000, [2]uint64{0xaa9000, 0xaa9000 + 0x69cf88}, true, 0},
		{"offsets off by a page", []elf64Phdr{
			phdr(ptPhdr, pfR, 0x40, 0, 0x150),
			phdr(ptLoad, pfR|pfX, 0x1000, 0x400000, 0x6a8dd1),
			phdr(ptLoad, pfR, 0x6aa000, 0xaa9000, 0x1000),
		}, 0x400000, [2]uint64{0xaa9000, 0xaaa000}, false, 0x1000},
		{"no read-only data", []elf64Phdr{
			phdr(ptPhdr, pfR, 0x40, 0, 0x150),
			phdr(ptLoad, pfR|pfX, 0, 0x400000, 0x1000),
			phdr(ptLoad, pfR|pfW, 0x1000, 0x401000, 0x1000),
		}, 0x400000, [2]uint64{}, true, 0},
		{"read-only data before the code", []elf64Phdr{
			phdr(ptPhdr, pfR, 0x40, 0, 0x150),
			phdr(ptLoad, pfR, 0, 0, 0x1000),
			phdr(ptLoad, pfR|pfX, 0x1000, 0x1000, 0x2345),
		}, 0, [2]uint64{}, true, 0x1000},
		{"read-only data overlapping the code", []elf64Phdr{
			phdr(ptPhdr, pfR, 0x40, 0, 0x150),
			phdr(ptLoad, pfR|pfX, 0, 0x400000, 0x1800),
			phdr(ptLoad, pfR, 0x1000, 0x401000, 0x1000),
		}, 0x400000, [2]uint64{}, true, 0},
	} {
		at := uintptr(unsafe.Pointer(&c.headers[0]))
		c.headers[0].Vaddr = c.base + uint64(at%block)
		bias := at - uintptr(c.headers[0].Vaddr)
		auxv := []uintptr{atPhnum, uintptr(len(c.headers)), atPagesz, page, atPhdr, at, atPhent, 56}
		img := image(auxv)
		want := Range{}
		if c.rodata[1] != 0 {
			want = Range{(bias + uintptr(c.rodata[0])) &^ (page - 1), (bias + uintptr(c.rodata[1]) + page - 1) &^ (page - 1)}
		}
		if img.Rodata != want {
			t.Errorf("%s: read-only data %#x-%#x, want %#x-%#x", c.name, img.Rodata.Start, img.Rodata.End, want.Start, want.End)
		}
		if img.Hugeable != c.wantHugeable {
			t.Errorf("%s: hugeable %v, want %v", c.name, img.Hugeable, c.wantHugeable)
		}
		if img.Text.End == 0 {
			t.Errorf("%s: no code segment", c.name)
		}
		if img.TextOffset != c.textOffset {
			t.Errorf("%s: the code's first page maps file offset %#x, want %#x", c.name, img.TextOffset, c.textOffset)
		}
	}
}

// TestImageOfThisProcess: the executable's read-only data holds the text
// of a string constant, and Go's linker laid the test binary out for huge
// pages.
func TestImageOfThisProcess(t *testing.T) {
	img := image(runtimeAuxv())
	s := "dumpscope start test"
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if img.Rodata.Start == 0 || p < img.Rodata.Start || p >= img.Rodata.End {
		t.Errorf("read-only data %#x-%#x does not hold a string constant at %#x", img.Rodata.Start, img.Rodata.End, p)
	}
	// Go's linker on amd64 puts the code at 0x400000 and file offset 0;
	// elsewhere (arm64: 0x10000) only -ldflags=-R=0x200000 aligns it.
	if runtime.GOARCH == "amd64" && !img.Hugeable {
		t.Errorf("code segment %#x-%#x: not laid out for huge pages", img.Text.Start, img.Text.End)
	}
}

// TestThreadFaults: touching fresh anonymous pages counts a fault each.
func TestThreadFaults(t *testing.T) {
	const pages = 64
	mem, err := syscall.Mmap(-1, 0, pages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE)
	runtime.LockOSThread() // the count is the thread's
	defer runtime.UnlockOSThread()
	before, _, ok1 := ThreadFaults()
	for i := 0; i < pages; i++ {
		mem[i*4096] = 1
	}
	after, _, ok2 := ThreadFaults()
	if !ok1 || !ok2 {
		t.Fatal("getrusage(RUSAGE_THREAD) failed")
	}
	if got := after - before; got < pages || got > 2*pages {
		t.Errorf("touching %d fresh pages counted %d faults", pages, got)
	}
}

// TestTextInSmallPages reads the counts as package hugeheap does.
func TestTextInSmallPages(t *testing.T) {
	saved := First
	defer func() { First = saved }()
	for _, c := range []struct {
		huge  bool
		err   Errno
		small uintptr
		want  bool
	}{
		{true, 0, 0, false},  // every block in a huge page (or only DropCode's small)
		{true, 0, 1, true},   // a block in small pages
		{true, 0, 3, true},   // three
		{false, 0, 3, false}, // not advised: not counted
		{true, 22, 3, false}, // a failed call
	} {
		First.TextHuge, First.TextErr, First.TextSmall = c.huge, c.err, c.small
		if got := TextInSmallPages(); got != c.want {
			t.Errorf("advised %v, errno %d, %d small blocks: %v, want %v", c.huge, c.err, c.small, got, c.want)
		}
	}
}

// FuzzImage reads program headers made of the fuzzer's bytes: image never
// panics, and what it finds is page-aligned, the read-only data after the
// code.
func FuzzImage(f *testing.F) {
	seed := func(hs ...elf64Phdr) []byte {
		return unsafe.Slice((*byte)(unsafe.Pointer(&hs[0])), len(hs)*int(unsafe.Sizeof(hs[0])))
	}
	f.Add(seed(
		elf64Phdr{Type: ptPhdr, Flags: 4, Off: 0x40, Vaddr: 0x400040, Memsz: 0x150},
		elf64Phdr{Type: ptLoad, Flags: 5, Vaddr: 0x400000, Memsz: 0x6a8dd1},
		elf64Phdr{Type: ptLoad, Flags: 4, Off: 0x6a9000, Vaddr: 0xaa9000, Memsz: 0x69cf88},
		elf64Phdr{Type: ptLoad, Flags: 6, Off: 0xd46000, Vaddr: 0x1146000, Memsz: 0x2390ca0},
	), uint16(4096))
	f.Fuzz(func(t *testing.T, data []byte, page uint16) {
		const size = int(unsafe.Sizeof(elf64Phdr{}))
		n := min(len(data)/size, maxPhnum)
		if n == 0 {
			return
		}
		headers := make([]elf64Phdr, n)
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&headers[0])), n*size), data)
		at := uintptr(unsafe.Pointer(&headers[0]))
		img := image([]uintptr{atPhdr, at, atPhent, uintptr(size), atPhnum, uintptr(n), atPagesz, uintptr(page)})
		if img.Text.End == 0 {
			if img != (Image{}) {
				t.Fatalf("no code segment, yet %+v", img)
			}
			return
		}
		p := uintptr(page)
		for _, r := range []Range{img.Text, img.Rodata} {
			if r.Start%p != 0 || r.End%p != 0 || r.End < r.Start {
				t.Fatalf("range %#x-%#x with %d-byte pages", r.Start, r.End, p)
			}
		}
		if img.Rodata.End != 0 && img.Rodata.Start < img.Text.End {
			t.Fatalf("read-only data %#x-%#x before the code's end %#x", img.Rodata.Start, img.Rodata.End, img.Text.End)
		}
	})
}
