package aix_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/dumptest"
)

// FuzzWalk opens arbitrary bytes as an AIX dump (first table at 0 or 512)
// and exercises every entry point: the table walk, components, area reads,
// the physical page view, layout and check. It fails on panics, on errors
// where none may occur, on inconsistent results, and when one input makes
// the reader allocate far more than its size warrants (a length or count
// from the file trusted before it was checked).
func FuzzWalk(f *testing.F) {
	for _, start := range []int{0, 512} {
		for _, end := range []dumptest.AIXEnd{dumptest.AIXEndMarker, dumptest.AIXEndZeros, dumptest.AIXEndEOF} {
			d := sample(start, end)
			// Keep seeds small: short areas only.
			for ci := range d.Components {
				for ai := range d.Components[ci].Areas {
					d.Components[ci].Areas[ai].Len = min(d.Components[ci].Areas[ai].Len, 0x30)
				}
			}
			b, lay := d.Bytes()
			f.Add(b, uint8(start/512))
			f.Add(b[:lay.Tables[2]+30], uint8(start/512))
		}
	}
	for _, m := range []uint32{dumptest.AIXMagic32, dumptest.AIXMagicVR, dumptest.AIXMagic64, dumptest.AIXMagicU32, dumptest.AIXMagicU64} {
		d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: m, Name: "one", Areas: []dumptest.AIXArea{
			{Name: "a", Addr: 0xFF0, Len: 0x20, Segval: dumptest.AIXRealSegval64, AddrFlags: dumptest.AIXDReal, Absent: []uint64{1}},
			{Name: "z"},
		}}}}
		b, _ := d.Bytes()
		f.Add(b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		start := int64(which%2) * 512
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		exercise(t, b, start)
		runtime.ReadMemStats(&ms1)
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 16<<20+1000*uint64(len(b)) {
			t.Fatalf("%d bytes of input allocated %d bytes", len(b), alloc)
		}
	})
}

func exercise(t *testing.T, b []byte, start int64) {
	file, err := aix.NewFile(reader.Source{Name: "fuzz", R: bytes.NewReader(b), Size: int64(len(b))}, start)
	if err != nil {
		return
	}
	comps, err := file.Components()
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	reads := 0
	for _, c := range comps {
		if int64(c.Offset) < start || int64(c.Offset) >= size {
			t.Fatalf("component %d at %#x", c.Index, c.Offset)
		}
		for _, e := range c.Entries {
			if e.Complete && int64(e.DataOffset) > size {
				t.Fatalf("entry %d.%d: complete, data at %#x beyond the file", c.Index, e.Index, e.DataOffset)
			}
			if e.Length == 0 || reads > 64 {
				continue
			}
			reads++
			p := make([]byte, min(e.Length, 1<<14))
			gaps, err := file.ReadArea(c.Index, e.Index, uint64(e.Address), p)
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("ReadArea %d.%d: %v", c.Index, e.Index, err)
			}
			var gapBytes uint64
			for _, g := range gaps {
				gapBytes += g.Length
			}
			if gapBytes > uint64(len(p)) {
				t.Fatalf("ReadArea %d.%d: %d gap bytes in a read of %d", c.Index, e.Index, gapBytes, len(p))
			}
		}
	}
	file.Info()
	root, err := file.Layout()
	if err != nil {
		t.Fatal(err)
	}
	checkNesting(t, root)
	file.Check(context.Background(), func(model.Problem) {})
	buf := make([]byte, 4096)
	var next model.PFN
	n := 0
	err = file.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		if r.Start != next || r.Count == 0 {
			t.Fatalf("run %+v after %#x", r, next)
		}
		next = r.End()
		pi, err := file.ReadPage(r.Start, buf, reader.ReadOptions{})
		if pi.State != r.State {
			t.Fatalf("pfn %#x: run says %s, ReadPage %s", r.Start, r.State, pi.State)
		}
		if (err == nil) != r.State.Readable() {
			t.Fatalf("pfn %#x (%s): %v", r.Start, r.State, err)
		}
		file.ExplainPage(r.Start)
		checkDefined(t, r.Start, pi, file.Defined(r.Start))
		n++
		return n < 200
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 200 && next != file.Info().MaxPFN {
		t.Fatalf("runs end at %#x, MaxPFN %#x", next, file.Info().MaxPFN)
	}
}

// checkDefined checks what Defined says of a frame: ranges only for a
// frame stored in part, sorted, disjoint, inside the frame, not all of it.
func checkDefined(t *testing.T, pfn model.PFN, pi model.PageInfo, rs [][2]model.PhysAddr) {
	t.Helper()
	if !pi.Partial {
		if rs != nil {
			t.Fatalf("pfn %#x is not partial but has defined ranges %v", pfn, rs)
		}
		return
	}
	lo, hi := pfn.Addr(4096), pfn.Addr(4096)+4096
	var covered uint64
	prev := lo
	for _, r := range rs {
		if r[0] < prev || r[1] <= r[0] || r[1] > hi {
			t.Fatalf("pfn %#x: defined ranges %v", pfn, rs)
		}
		covered += uint64(r[1] - r[0])
		prev = r[1]
	}
	if covered == 0 || covered >= 4096 {
		t.Fatalf("pfn %#x (partial): defined ranges %v cover %d bytes", pfn, rs, covered)
	}
}
