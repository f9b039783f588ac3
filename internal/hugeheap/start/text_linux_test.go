//go:build linux && (amd64 || arm64)

package start

import (
	"os"
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
		got := textSegment(auxv)
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
		if got := textSegment(auxv); got != (Range{}) {
			t.Errorf("auxv %v: %#x-%#x, want none", auxv, got.Start, got.End)
		}
	}
}

// TestTextSegmentOfThisProcess: the range found in the process's own
// auxiliary vector holds the code of this test.
func TestTextSegmentOfThisProcess(t *testing.T) {
	r := textSegment(runtimeAuxv())
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
	case r != textSegment(runtimeAuxv()) || r.Start == 0:
		t.Fatalf("start mapped %#x-%#x, not the code segment", r.Start, r.End)
	}
	size := int((r.End - r.Start) >> 10)
	if errno := madvise(r, syscall.MADV_DONTNEED); errno != 0 {
		t.Skipf("MADV_DONTNEED of the code: %v", syscall.Errno(errno))
	}
	if rss := residentKB(t, r); rss >= size {
		t.Skipf("the code stayed resident after MADV_DONTNEED (%d of %d kB): nothing to measure", rss, size)
	}
	mapText()
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
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if lo, hi, ok := strings.Cut(f0(f), "-"); ok {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uintptr(a) == r.Start && uintptr(b) == r.End
		} else if in && len(f) == 3 && f[0] == "Rss:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no mapping %#x-%#x in /proc/self/smaps", r.Start, r.End)
	return 0
}

// f0 is the first of fields, or "".
func f0(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
