//go:build linux && (amd64 || arm64)

package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"dumpscope/internal/hugeheap"
	"dumpscope/internal/hugeheap/start"
)

// TestReloadText: this test binary, as large as dumpscope and just written
// by the linker, found its code in small pages of the page cache; after
// hugeheap.ReloadText, its code's aligned blocks are mapped in huge pages,
// one fault each, as smaps shows them. Where the file system reads no
// large pages the test skips, naming it.
func TestReloadText(t *testing.T) {
	f := start.First
	switch {
	case f.Mode != "madvise" && f.Mode != "always":
		t.Skipf("transparent huge pages are %q: the code is moved only in madvise and always modes", f.Mode)
	case !f.TextHuge || f.TextBlocks == 0:
		t.Skipf("the code segment %#x-%#x was not counted (errno %d, %d blocks)", f.Text.Start, f.Text.End, f.TextErr, f.TextBlocks)
	case !start.TextInSmallPages():
		t.Skipf("the page cache already held this binary's code in huge pages (%d faults for %d blocks): nothing to move", f.TextFaults, f.TextBlocks)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var fs syscall.Statfs_t
	syscall.Statfs(os.Args[0], &fs)
	switch r := hugeheap.ReloadText(); r {
	case hugeheap.ReloadDone:
	case hugeheap.ReloadSkipped:
		t.Skipf("ReloadText skipped this test binary: file system type %#x (it moves executables on local disks only)", fs.Type)
	case hugeheap.ReloadPartial:
		t.Skip("ReloadText: partial, io_uring refused here (TestDropCode covers its fallback)")
	case hugeheap.ReloadFailed:
		// Fail only where the kernel does read huge pages from this file
		// system: a file written beside this binary is read back so.
		if !readsHugePages(t, filepath.Dir(os.Args[0])) {
			t.Skipf("the kernel reads no huge pages from this file system (type %#x)", fs.Type)
		}
		t.Fatalf("ReloadText: %v, though the kernel reads huge pages from this file system (type %#x)", r, fs.Type)
	default:
		t.Fatalf("ReloadText: %v, want done", r)
	}
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	// A fresh mapping of the file's blocks, at an aligned address, is
	// mapped in huge pages: smaps says so.
	if huge, _ := blocksAnew(t, exe); slices.Contains(huge, false) {
		t.Errorf("after ReloadText, blocks in huge pages: %v, want all", huge)
	}
	// Done once, the next call finds nothing to do: the counts are start's.
	if r := hugeheap.ReloadText(); r != hugeheap.ReloadSkipped {
		t.Errorf("a second ReloadText within the hour: %v, want skipped", r)
	}

	// Where io_uring is refused, start.DropCode drops the code instead,
	// keeping only the block that holds its own instructions: right after
	// it, blocks that no thread ran meanwhile are gone from the page cache,
	// and read back, every block but DropCode's is in huge pages again.
	first := f.Blocks.Start
	if errno := start.DropCode(exe.Fd()); errno != 0 {
		t.Fatalf("DropCode: errno %d", errno)
	}
	var vec [4096]byte
	n := min(int(f.TextBlocks)*512, len(vec))
	if _, _, errno := syscall.RawSyscall(syscall.SYS_MINCORE, first, uintptr(n)*4096, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	cached := 0
	for _, v := range vec[:n] {
		cached += int(v & 1)
	}
	if cached == n {
		t.Errorf("all %d pages of the code's blocks still cached after DropCode: nothing was dropped", n)
	}
	huge, _ := blocksAnew(t, exe)
	for i, h := range huge {
		if at := first + uintptr(i)*2<<20; !h && at != start.DropCodeBlock() {
			t.Errorf("after DropCode, block %d (%#x) is in small pages; DropCode's is %#x", i, at, start.DropCodeBlock())
		}
	}
}

// touched keeps the reads of blocksAnew.
var touched byte

// blocksAnew maps the code's aligned 2 MiB blocks from the executable at
// an aligned address, advised for huge pages, touches every page, and
// says which blocks smaps shows in huge pages, with how many major faults
// (reads from the disk) the touches took.
func blocksAnew(t *testing.T, exe *os.File) (huge []bool, read int64) {
	t.Helper()
	f := start.First
	first := f.Blocks.Start
	size := int(f.TextBlocks) * 2 << 20
	res, err := syscall.Mmap(-1, 0, size+2<<20, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(res)
	base := uintptr(unsafe.Pointer(&res[0]))
	at := (base + 2<<20 - 1) &^ (2<<20 - 1)
	off := f.TextOffset + first - f.Text.Start
	if _, _, errno := syscall.Syscall6(syscall.SYS_MMAP, at, uintptr(size), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_FIXED, exe.Fd(), off); errno != 0 {
		t.Fatalf("mapping the blocks anew: %v", errno)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, at, uintptr(size), syscall.MADV_HUGEPAGE); errno != 0 {
		t.Fatalf("advising the blocks: %v", errno)
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru0)
	// The file's blocks now lie in res, from at on; last first (see
	// hugeheap.blockFaults).
	for b := size/(2<<20) - 1; b >= 0; b-- {
		for i := int(at-base) + b*2<<20; i < int(at-base)+(b+1)*2<<20; i += 4096 {
			touched += res[i]
		}
	}
	syscall.Getrusage(1, &ru1)
	for b := range size / (2 << 20) {
		r := start.Range{Start: at + uintptr(b)*2<<20, End: at + uintptr(b+1)*2<<20}
		huge = append(huge, pmdMappedKB(t, r) == 2048)
	}
	return huge, ru1.Majflt - ru0.Majflt
}

// readsHugePages reports whether the page cache reads a file in dir in
// 2 MiB pages when its mapping is advised for them: a 4 MiB file written
// there, dropped from the page cache and mapped at an aligned address.
func readsHugePages(t *testing.T, dir string) bool {
	t.Helper()
	const size = 4 << 20
	f, err := os.CreateTemp(dir, "hugepages-*")
	if err != nil {
		t.Logf("no file beside the test binary: %v", err)
		return false
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, size)); err != nil || f.Sync() != nil {
		return false
	}
	syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, 4 /* POSIX_FADV_DONTNEED */, 0, 0)
	res, err := syscall.Mmap(-1, 0, size+2<<20, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return false
	}
	defer syscall.Munmap(res)
	base := uintptr(unsafe.Pointer(&res[0]))
	at := (base + 2<<20 - 1) &^ (2<<20 - 1)
	if _, _, errno := syscall.Syscall6(syscall.SYS_MMAP, at, size, syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_FIXED, f.Fd(), 0); errno != 0 {
		return false
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, at, size, syscall.MADV_HUGEPAGE); errno != 0 {
		return false
	}
	var sum byte
	for i := int(at - base); i < int(at-base)+size; i += 4096 {
		sum += res[i]
	}
	return filePmdMappedKB(t, start.Range{Start: at, End: at + size}) == size>>10+int(sum)
}

// filePmdMappedKB is smaps' FilePmdMapped of the mapping that is r.
func filePmdMappedKB(t *testing.T, r start.Range) int {
	return smapsKB(t, r, "FilePmdMapped:")
}

// pmdMappedKB is smaps' FilePmdMapped of r, a 2 MiB block of a larger
// mapping: smaps counts whole mappings, so the block is made a mapping of
// its own for the count, by another protection, and then given back its
// own.
func pmdMappedKB(t *testing.T, r start.Range) int {
	t.Helper()
	if err := mprotect(r, syscall.PROT_READ|syscall.PROT_EXEC); err != nil {
		t.Fatalf("splitting the mapping at %#x-%#x: %v", r.Start, r.End, err)
	}
	defer mprotect(r, syscall.PROT_READ)
	return smapsKB(t, r, "FilePmdMapped:")
}

func mprotect(r start.Range, prot int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MPROTECT, r.Start, r.End-r.Start, uintptr(prot)); errno != 0 {
		return errno
	}
	return nil
}

// smapsKB is a field of smaps, in kB, for the mapping that is r.
func smapsKB(t *testing.T, r start.Range, field string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			lo, hi, _ := strings.Cut(f[0], "-")
			a, _ := strconv.ParseUint(lo, 16, 64)
			b, _ := strconv.ParseUint(hi, 16, 64)
			in = uintptr(a) == r.Start && uintptr(b) == r.End
		} else if in && len(f) == 3 && f[0] == field {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Skipf("no %s for the mapping %#x-%#x in smaps", field, r.Start, r.End)
	return 0
}

// TestDropCode: start.DropCode, the fallback where io_uring is refused,
// drops this process's code from its page tables and a file's pages from
// the page cache, and the process runs on (its code comes back from the
// file). A file of the test's stands for the executable, whose pages
// TestReloadText already shows dropped.
func TestDropCode(t *testing.T) {
	f := start.First
	if !f.TextHuge {
		t.Skipf("the code segment was not advised for huge pages (mode %q)", f.Mode)
	}
	if b := start.DropCodeBlock(); b < f.Text.Start&^(2<<20-1) || b >= f.Text.End {
		t.Errorf("DropCode's block %#x lies outside the code segment %#x-%#x", b, f.Text.Start, f.Text.End)
	}
	const size = 1 << 20
	file, err := os.CreateTemp(t.TempDir(), "cached-*")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Write(make([]byte, size)); err != nil || file.Sync() != nil {
		t.Fatalf("writing: %v", err)
	}
	if _, err := file.ReadAt(make([]byte, size), 0); err != nil {
		t.Fatal(err)
	}
	before := textResidentKB(t, f.Text)
	if errno := start.DropCode(file.Fd()); errno != 0 {
		t.Fatalf("DropCode: errno %d", errno)
	}
	// The code is mapped again only as it runs: less of it than before,
	// which was all of it.
	if after := textResidentKB(t, f.Text); after >= before {
		t.Errorf("code mapped after DropCode: %d kB of %d", after, before)
	}
	m, err := syscall.Mmap(int(file.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	vec := make([]byte, size/4096)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), size, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for i, v := range vec {
		if v&1 != 0 {
			t.Fatalf("page %d of the file is still cached after DropCode", i)
		}
	}
}

// textResidentKB is smaps' Rss of the mapping that is r.
func textResidentKB(t *testing.T, r start.Range) int {
	return smapsKB(t, r, "Rss:")
}
