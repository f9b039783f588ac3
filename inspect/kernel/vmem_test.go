package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"dumpscope/model"
)

// TestReadVirtManyPages: a read of many pages (decoded on several
// goroutines, readPieces) gives the bytes a page-by-page read gives, and,
// when pages are missing, the error of the first of them by address, at
// any GOMAXPROCS.
func TestReadVirtManyPages(t *testing.T) {
	k, mem, _ := x8664Kernel(t, pageOffsetL4, 0x1000000)
	const base, size = 0x2000000, 4 << 20 // 1024 pages of the direct map
	want := make([]byte, size)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	mem.write(base, want)
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		got := make([]byte, size-100)
		if err := k.ReadVirt(bg, model.VirtAddr(pageOffsetL4+base+50), got); err != nil || !bytes.Equal(got, want[50:size-50]) {
			t.Errorf("GOMAXPROCS %d: %v, bytes equal %v", procs, err, bytes.Equal(got, want[50:size-50]))
		}
		runtime.GOMAXPROCS(prev)
	}
	// Take out a page in the last quarter, then one in the first: the
	// error names the lowest missing page whichever goroutine met it.
	for _, pfn := range []uint64{base/4096 + 900, base/4096 + 37} {
		saved := mem.pages[pfn]
		delete(mem.pages, pfn)
		defer func() { mem.pages[pfn] = saved }()
	}
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		err := k.ReadVirt(bg, model.VirtAddr(pageOffsetL4+base), make([]byte, size))
		if first := fmt.Sprintf("virtual %#x ", uint64(pageOffsetL4+base+37*4096)); err == nil || !strings.Contains(err.Error(), first) || !errors.Is(err, model.ErrPageAbsent) {
			t.Errorf("GOMAXPROCS %d: %v, want the error of %s", procs, err, first)
		}
		runtime.GOMAXPROCS(prev)
	}
}
