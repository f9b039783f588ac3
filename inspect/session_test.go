package inspect_test

import (
	"bytes"
	"context"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
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

// TestInfoWithCountsBudget: a kdump whose bitmaps exceed the scan budget
// (2 × 8 MiB here) gets its present frames from the descriptor table and
// a detail that names what is not counted; once Counts has run, every
// state is there and the detail is gone. A small dump is counted whole.
func TestInfoWithCountsBudget(t *testing.T) {
	ctx := context.Background()
	for _, frames := range []uint64{1 << 16, 1 << 26} {
		pages := map[uint64][]byte{}
		for _, p := range []uint64{0, 1, 5, frames - 1} {
			pages[p] = dumptest.Pattern(p, 4096)
		}
		k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: frames, Pages: pages, SharedZeroPage: true,
			Utsname: [6]string{"Linux", "big", "6.1.0", "#1", "x86_64", ""}, RAM: [][2]uint64{{0, 1 << 12}}}
		b, _ := k.Bytes()
		d, err := open.Sources(reader.Source{Name: "big.kdump", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		s := inspect.New(d)
		in, err := s.InfoWithCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		big := frames > 1<<20
		note := ""
		for _, kv := range in.Details {
			if kv.Key == "frame counts" {
				note = kv.Value
			}
		}
		if in.Pages[model.StatePresent] != 4 || (note != "") != big || (big && in.Pages[model.StateExcluded] != 0) {
			t.Errorf("%d frames: counts %v, note %q", frames, in.Pages, note)
		}
		if _, err := s.Counts(ctx); err != nil {
			t.Fatal(err)
		}
		in, _ = s.InfoWithCounts(ctx)
		if in.Pages[model.StateExcluded] != 1<<12-3 || in.Pages[model.StatePresent] != 4 {
			t.Errorf("%d frames, counted: %v", frames, in.Pages)
		}
		s.Close()
	}
}
