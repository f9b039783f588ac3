package inspect_test

import (
	"context"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader/dumptest"
)

// pageOffsetL4 is the x86_64 direct map's base without KASLR
// (__PAGE_OFFSET_BASE_L4): where the tiny fixture kernel maps RAM.
const pageOffsetL4 = 0xffff888000000000

// TestSessionFind finds the guest's pattern through the session and names
// its direct-map addresses, which read back the pattern.
func TestSessionFind(t *testing.T) {
	d, err := open.Open(dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	s := inspect.New(d)
	defer s.Close()
	ctx := context.Background()
	pattern := []byte("DUMPFIXTURE-PATTERN-0123456789")
	var hits []model.SearchHit
	err = s.Find(ctx, pattern, inspect.FindOptions{}, func(h model.SearchHit) bool {
		hits = append(hits, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) < 983040/len(pattern) {
		t.Errorf("%d hits, want at least the %d copies the guest kept", len(hits), 983040/len(pattern))
	}
	for i, h := range hits {
		if h.VirtAddr == nil || uint64(*h.VirtAddr) != pageOffsetL4+uint64(h.PhysAddr) {
			t.Fatalf("hit %d at %s: virtual %v, want the direct map", i, h.PhysAddr, h.VirtAddr)
		}
		if i%4096 == 0 {
			got := make([]byte, len(pattern))
			if err := s.ReadVirt(ctx, *h.VirtAddr, got); err != nil || string(got) != string(pattern) {
				t.Errorf("reading hit %d back at %s: %q %v", i, h.VirtAddr, got, err)
			}
		}
	}
}
