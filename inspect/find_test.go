package inspect_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"math/rand/v2"
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

// TestFindJobsAgree: a parallel Find gives the serial Find's hits, in the
// same order, whatever the number of workers, the pattern, Max and From:
// matches inside pages, across pages and across the chunks the workers
// take, next to unreadable pages, excluded frames, zero-fill runs and
// holes, and for patterns that match so often that a chunk's matches are
// searched again by the caller.
func TestFindJobsAgree(t *testing.T) {
	const frames = 1100
	rng := rand.New(rand.NewPCG(7, 11))
	data := make([]byte, frames*4096)
	for i := range data {
		data[i] = byte('A' + rng.IntN(26))
	}
	for _, pfn := range []int{300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 900, 901} { // zero pages, stored
		clear(data[pfn*4096 : (pfn+1)*4096])
	}
	// Needles inside pages, across pages, across chunks (256 frames) and
	// next to the zero pages.
	for _, a := range []int{100, 4096 - 3, 256*4096 - 3, 512*4096 - 1, 513 * 4096, 768*4096 - 5, 1023*4096 + 4093,
		300*4096 - 6, 312 * 4096, 900*4096 - 6, 902 * 4096} {
		copy(data[a:], "NEEDLE")
	}
	pages := map[uint64][]byte{}
	for i := uint64(0); i < frames; i++ {
		if i < 600 || i >= 620 { // 600..619 excluded
			pages[i] = data[i*4096 : (i+1)*4096]
		}
	}
	kd := &dumptest.Kdump{Version: 6, Codec: "snappy", MaxMapnr: frames, Pages: pages,
		Utsname: [6]string{"Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"}, NrCPUs: 1, DumpLevel: 31}
	kb, lay := kd.Bytes()
	for _, pfn := range []uint64{255, 256, 511, 700} { // unreadable: corrupt compressed bytes
		kb[lay.PageOff[pfn]+5] ^= 0x10
	}
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, Segments: []dumptest.ELFSegment{
		{Paddr: 0, Data: data[:400*4096], Memsz: 450 * 4096}, // 50 zero-fill frames
		{Paddr: 500 * 4096, Data: data[500*4096:]},           // a hole of 50 frames before it
	}}
	eb, _ := core.Bytes()
	for name, b := range map[string][]byte{"kdump": kb, "elf": eb} {
		d, err := open.Sources(reader.Source{Name: name, R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			pattern string
			max     int
		}{
			{"NEEDLE", 0}, {"NEEDLE", 3}, {"NE", 0}, {"NE", 17}, {"N", 5000},
			{"\x00\x00\x00", 0}, {"\x00\x00\x00", 70000}, {"LE\x00", 0}, {"\x00\x00NE", 0},
		} {
			for _, from := range []model.PFN{0, 255, 513} {
				find := func(jobs int) ([]model.PhysAddr, error) {
					var hits []model.PhysAddr
					opts := inspect.FindOptions{Max: c.max, From: from, Jobs: jobs}
					err := inspect.Find(context.Background(), d, []byte(c.pattern), opts, func(h model.SearchHit) bool {
						if uint64(h.PhysAddr)/4096 != uint64(h.PFN) {
							t.Errorf("hit %#x names frame %#x", h.PhysAddr, h.PFN)
						}
						hits = append(hits, h.PhysAddr)
						return true
					})
					return hits, err
				}
				serial, err := find(1)
				if err != nil {
					t.Fatalf("%s %q max %d from %d, 1 job: %v", name, c.pattern, c.max, from, err)
				}
				if len(serial) == 0 {
					t.Fatalf("%s %q max %d from %d: no match at all, the case tests nothing", name, c.pattern, c.max, from)
				}
				for _, jobs := range []int{2, 3, 8} {
					got, err := find(jobs)
					if err != nil || !slices.Equal(got, serial) {
						t.Errorf("%s %q max %d from %d: %d jobs found %d hits (%v), 1 job %d; first difference at %d",
							name, c.pattern, c.max, from, jobs, len(got), err, len(serial), firstDiff(got, serial))
					}
				}
			}
		}
		d.Close()
	}
}

func firstDiff(a, b []model.PhysAddr) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFindParallelStops: a parallel Find stops when hit returns false and
// when its context is cancelled, and says which.
func TestFindParallelStops(t *testing.T) {
	const frames = 2048
	data := bytes.Repeat([]byte("NEEDLE--"), frames*4096/8)
	core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, Segments: []dumptest.ELFSegment{{Paddr: 0, Data: data}}}
	b, _ := core.Bytes()
	d, err := open.Sources(reader.Source{Name: "t", R: bytes.NewReader(b), Size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	err = inspect.Find(context.Background(), d, []byte("NEEDLE"), inspect.FindOptions{Jobs: 4}, func(model.SearchHit) bool {
		n++
		return n < 10
	})
	if err != nil || n != 10 {
		t.Errorf("hit returned false at the 10th match: %d hits, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = inspect.Find(ctx, d, []byte("NEEDLE"), inspect.FindOptions{Jobs: 4}, func(model.SearchHit) bool {
		if n++; n == 10 {
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) || n >= frames*4096/8 {
		t.Errorf("cancelled at the 10th match: %d hits, %v; want context.Canceled before the end", n, err)
	}
}

// FuzzFindJobs: on an ELF dump made from the input (its bytes tiled over
// up to 300 frames, with zero-fill frames and a hole as the layout byte
// says), a parallel Find gives the serial Find's hits, in order.
func FuzzFindJobs(f *testing.F) {
	f.Add([]byte("NEEDLE"), uint16(0), []byte("..NEEDLE....NEE"), uint16(0x1ff))
	f.Add([]byte{0, 0}, uint16(5000), []byte{0, 1, 0, 0}, uint16(0x103))
	f.Add([]byte("ab"), uint16(3), []byte("abababab"), uint16(0x0102))
	f.Fuzz(func(t *testing.T, pattern []byte, max uint16, tile []byte, layout uint16) {
		if len(pattern) == 0 || len(pattern) > 64 || len(tile) == 0 {
			return
		}
		frames := 1 + int(layout>>2)%300
		data := make([]byte, frames*4096)
		for i := 0; i < len(data); i += len(tile) {
			copy(data[i:], tile)
		}
		var segs []dumptest.ELFSegment
		if layout&2 != 0 && frames > 2 { // a hole of one frame in the middle
			mid := frames / 2
			segs = []dumptest.ELFSegment{{Paddr: 0, Data: data[:mid*4096]}, {Paddr: uint64(mid+1) * 4096, Data: data[(mid+1)*4096:]}}
		} else {
			segs = []dumptest.ELFSegment{{Paddr: 0, Data: data}}
		}
		if layout&1 != 0 { // zero-fill frames after the last segment's data
			last := &segs[len(segs)-1]
			last.Memsz = uint64(len(last.Data)) + 3*4096
		}
		core := &dumptest.ELFCore{Class: elf.ELFCLASS64, Machine: elf.EM_X86_64, Segments: segs}
		b, _ := core.Bytes()
		d, err := open.Sources(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		find := func(jobs int) ([]model.PhysAddr, error) {
			var hits []model.PhysAddr
			opts := inspect.FindOptions{Max: int(max), Jobs: jobs}
			err := inspect.Find(context.Background(), d, pattern, opts, func(h model.SearchHit) bool {
				hits = append(hits, h.PhysAddr)
				return len(hits) < 200000
			})
			return hits, err
		}
		serial, err1 := find(1)
		parallel, err3 := find(3)
		if (err1 == nil) != (err3 == nil) || !slices.Equal(serial, parallel) {
			t.Fatalf("1 job: %d hits, %v; 3 jobs: %d hits, %v; first difference at %d",
				len(serial), err1, len(parallel), err3, firstDiff(serial, parallel))
		}
	})
}
