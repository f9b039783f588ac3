package inspect_test

import (
	"bytes"
	"context"
	"debug/elf"
	"slices"
	"testing"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// TestFindAcrossPages finds a pattern inside pages, across a page boundary,
// and not across a hole between segments.
func TestFindAcrossPages(t *testing.T) {
	data := make([]byte, 3*4096)
	copy(data[100:], "NEEDLE")
	copy(data[4096-3:], "NEEDLE") // crosses 0x1000
	copy(data[2*4096-2:], "NEE")  // would cross into the hole: no match
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64,
		Segments: []dumptest.ELFSegment{{Paddr: 0, Data: data[:2*4096]}, {Paddr: 0x3000, Data: append([]byte("DLE"), make([]byte, 4093)...)}}}
	b, _ := core.Bytes()
	d, err := open.Sources(reader.Source{Name: "t", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	var hits []model.PhysAddr
	err = inspect.Find(context.Background(), d, []byte("NEEDLE"), inspect.FindOptions{}, func(h model.SearchHit) bool {
		hits = append(hits, h.PhysAddr)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0] != 100 || hits[1] != 4096-3 {
		t.Fatalf("hits %v", hits)
	}
}

// TestFindAcrossChunks finds matches across the boundaries of the chunks
// Find reads (256 frames), in a long run of a kdump and of a raw ELF
// file, and stops at Max.
func TestFindAcrossChunks(t *testing.T) {
	const frames = 600
	data := make([]byte, frames*4096)
	want := []model.PhysAddr{256*4096 - 3, 512*4096 - 1, 513 * 4096}
	for _, a := range want {
		copy(data[a:], "NEEDLE")
	}
	pages := map[uint64][]byte{}
	for i := uint64(0); i < frames; i++ {
		pages[i] = data[i*4096 : (i+1)*4096]
	}
	kd := &dumptest.Kdump{Version: 6, Codec: "snappy", MaxMapnr: frames, Pages: pages,
		Utsname: [6]string{"Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"}, NrCPUs: 1, DumpLevel: 31}
	kb, _ := kd.Bytes()
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, Segments: []dumptest.ELFSegment{{Paddr: 0, Data: data}}}
	eb, _ := core.Bytes()
	for name, b := range map[string][]byte{"kdump": kb, "elf": eb} {
		d, err := open.Sources(reader.Source{Name: name, R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{0, 2} {
			var hits []model.PhysAddr
			err = inspect.Find(context.Background(), d, []byte("NEEDLE"), inspect.FindOptions{Max: limit}, func(h model.SearchHit) bool {
				hits = append(hits, h.PhysAddr)
				return true
			})
			n := len(want)
			if limit > 0 {
				n = limit
			}
			if err != nil || len(hits) != n || !slices.Equal(hits, want[:n]) {
				t.Errorf("%s, max %d: hits %#x, %v; want %#x", name, limit, hits, err, want[:n])
			}
		}
		d.Close()
	}
}

// TestFindFixture finds the fixture guest's pattern (983040 bytes of
// "DUMPFIXTURE-PATTERN-0123456789" repeated: at least 32768 copies).
func TestFindFixture(t *testing.T) {
	d, err := open.Open(dumptest.Fixture(t, "x86_64/qemu-elf-paging.vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	pages := map[model.PFN]bool{}
	err = inspect.Find(context.Background(), d, []byte("DUMPFIXTURE-PATTERN-0123456789"), inspect.FindOptions{}, func(h model.SearchHit) bool {
		n++
		pages[h.PFN] = true
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 32768 {
		t.Fatalf("%d hits on %d pages, want at least 32768", n, len(pages))
	}
	t.Logf("%d hits on %d pages", n, len(pages))
}
