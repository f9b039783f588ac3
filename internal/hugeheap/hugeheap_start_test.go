//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"os"
	"syscall"
	"testing"

	"dumpscope/internal/hugeheap/start"
)

// startBlock is the smaps state of the block package start collapsed, read
// before any test runs: the tests before TestStartBlockCollapsed collect
// garbage, and the runtime's scavenger may then return free pages of the
// block to the kernel, which splits its huge page.
var startBlock struct {
	hugeKB int
	err    error
}

func TestMain(m *testing.M) {
	if b := start.First.Block; b.End != 0 {
		vmas, err := smaps()
		startBlock.err = err
		for _, v := range overlapping(vmas, b.Start, b.End) {
			startBlock.hugeKB += v.anonHugePageKB
		}
	}
	os.Exit(m.Run())
}

// TestStartChunkAdvised: package start advised the heap chunk of its first
// object, and the kernel marked that mapping for huge pages ("hg").
func TestStartChunkAdvised(t *testing.T) {
	if mode := thpSetting(t); mode != "madvise" {
		t.Skipf("transparent huge pages are %q: the first chunk is advised only in madvise mode", mode)
	}
	first := start.First
	if first.Mode != "madvise" {
		t.Fatalf("start read the mode as %q, want madvise", first.Mode)
	}
	c := first.Chunk
	if c.End-c.Start != chunk || c.Start%chunk != 0 {
		t.Fatalf("first advised range %#x-%#x is not one aligned %d-byte chunk", c.Start, c.End, chunk)
	}
	if first.AdviseErr != 0 {
		t.Fatalf("madvise(MADV_HUGEPAGE) of the first chunk: %v", syscall.Errno(first.AdviseErr))
	}
	vs := overlapping(readSmaps(t), c.Start, c.End)
	if len(vs) == 0 {
		t.Fatalf("no mapping at the advised chunk %#x-%#x", c.Start, c.End)
	}
	for _, v := range vs {
		if !hasFlag(v, "hg") {
			t.Errorf("mapping %#x-%#x in the advised chunk lacks VmFlags hg: %v", v.start, v.end, v.flags)
		}
	}
}

// TestStartBlockCollapsed: the 2 MiB block the heap was using at start is
// one huge page.
func TestStartBlockCollapsed(t *testing.T) {
	if mode := thpSetting(t); mode != "madvise" {
		t.Skipf("transparent huge pages are %q: the first block is collapsed only in madvise mode", mode)
	}
	first := start.First
	b := first.Block
	switch syscall.Errno(first.CollapseErr) {
	case 0:
	case syscall.EINVAL:
		t.Skip("MADV_COLLAPSE refused (EINVAL): a kernel older than Linux 6.1")
	case syscall.EAGAIN, syscall.ENOMEM:
		t.Skipf("MADV_COLLAPSE found no free huge page (%v): the machine's memory, not the package", syscall.Errno(first.CollapseErr))
	default:
		t.Fatalf("MADV_COLLAPSE of %#x-%#x: %v", b.Start, b.End, syscall.Errno(first.CollapseErr))
	}
	if b.End-b.Start != 2<<20 || b.Start%(2<<20) != 0 || b.Start < first.Chunk.Start || b.End > first.Chunk.End {
		t.Fatalf("collapsed block %#x-%#x is not an aligned 2 MiB block of the chunk %#x-%#x", b.Start, b.End, first.Chunk.Start, first.Chunk.End)
	}
	if os.IsNotExist(startBlock.err) {
		t.Skipf("no /proc/self/smaps: %v", startBlock.err)
	}
	if startBlock.err != nil {
		t.Fatalf("reading /proc/self/smaps: %v", startBlock.err)
	}
	if startBlock.hugeKB < 2048 {
		t.Errorf("the collapsed block %#x-%#x had %d kB of AnonHugePages in its mapping when the tests began, want 2048 or more", b.Start, b.End, startBlock.hugeKB)
	}
}
