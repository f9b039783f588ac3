package aix_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/dumptest"
)

// TestLargeBitmap reads an area of 1.25 GiB whose bitmap (40000 bytes)
// spans ten rank blocks, with only three pages present: the reads go
// through the block cache, no read is larger than the walk's scan buffer,
// and page lookups agree with the writer.
func TestLargeBitmap(t *testing.T) {
	const npages = 8 * 40000
	var absent []uint64
	present := map[uint64]bool{5: true, 70000: true, npages - 1: true}
	for i := uint64(0); i < npages; i++ {
		if !present[i] {
			absent = append(absent, i)
		}
	}
	addr := uint64(0x7000000)
	d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: dumptest.AIXMagic64, Name: "big", Areas: []dumptest.AIXArea{
		{Name: "mem", Addr: addr, Len: npages * 4096, Segval: dumptest.AIXRealSegval64, Absent: absent, Seed: 3},
	}}}}
	b, lay := d.Bytes()
	content := func(i uint64) []byte {
		p := make([]byte, 4096)
		for k := range p {
			p[k] = dumptest.AIXByte(3, i*4096+uint64(k))
		}
		return p
	}
	f, rc := open(t, b, 0)
	comps, _ := f.Components()
	if e := comps[0].Entries[0]; e.PagesPresent != 3 || e.PagesAbsent != npages-3 {
		t.Fatalf("entry %+v", e)
	}
	for _, r := range rc.ranges {
		if r[1]-r[0] > 64<<10 {
			t.Errorf("read of %d bytes at %#x", r[1]-r[0], r[0])
		}
	}
	buf := make([]byte, 4096)
	for _, pfn := range []uint64{5, 70000, npages - 1} {
		pi, err := f.ReadPage(model.PFN(addr/4096+pfn), buf, reader.ReadOptions{})
		if err != nil || pi.FileOffset != model.FileOff(lay.Areas[0][0].DataOff+int64(len(pageRank(present, pfn)))*4096) {
			t.Fatalf("page %d: %+v %v", pfn, pi, err)
		}
		if !bytes.Equal(buf, content(pfn)) {
			t.Fatalf("page %d differs", pfn)
		}
	}
	if pi := f.PageInfo(model.PFN(addr/4096 + 69999)); pi.State != model.StateNotInDump {
		t.Fatalf("absent page: %+v", pi)
	}
	var runs []model.PageRun
	f.Runs(context.Background(), 0, false, func(r model.PageRun) bool { runs = append(runs, r); return true })
	want := []model.PageRun{
		{Start: 0, Count: addr/4096 + 5, State: model.StateNotInDump},
		{Start: model.PFN(addr/4096 + 5), Count: 1, State: model.StatePresent},
		{Start: model.PFN(addr/4096 + 6), Count: 70000 - 6, State: model.StateNotInDump},
		{Start: model.PFN(addr/4096 + 70000), Count: 1, State: model.StatePresent},
		{Start: model.PFN(addr/4096 + 70001), Count: npages - 1 - 70001, State: model.StateNotInDump},
		{Start: model.PFN(addr/4096 + npages - 1), Count: 1, State: model.StatePresent},
	}
	if len(runs) != len(want) {
		t.Fatalf("runs %v", runs)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Fatalf("run %d: %+v, want %+v", i, runs[i], want[i])
		}
	}
	p := make([]byte, 3*4096)
	gaps, err := f.ReadArea(0, 0, addr+69999*4096, p)
	if err != nil || len(gaps) != 2 || !bytes.Equal(p[4096:8192], content(70000)) {
		t.Fatalf("ReadArea: %v %v", gaps, err)
	}
}

func pageRank(present map[uint64]bool, i uint64) []uint64 {
	var r []uint64
	for p := range present {
		if p < i {
			r = append(r, p)
		}
	}
	return r
}

// TestSegmentClip: a 32-bit area is clipped at the end of its 256 MiB
// segment, and one longer than 256 MiB is capped (formats.md §6.6, §6.7).
func TestSegmentClip(t *testing.T) {
	d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: dumptest.AIXMagic32, Name: "seg", Areas: []dumptest.AIXArea{
		{Name: "cross", Addr: 0x2FFFE800, Len: 0x3000, Seed: 1},
		{Name: "huge", Addr: 0x10000010, Len: 0x30000000, Absent: allBut(65536, 0, 65535)},
	}}}}
	b, lay := d.Bytes()
	f, _ := open(t, b, 0)
	if lay.Areas[0][0].NPages != 2 || lay.Areas[0][1].NPages != 65536 {
		t.Fatalf("writer pages %d %d", lay.Areas[0][0].NPages, lay.Areas[0][1].NPages)
	}
	p := make([]byte, 0x3000)
	gaps, err := f.ReadArea(0, 0, 0x2FFFE800, p)
	if err != nil || len(gaps) != 1 || gaps[0] != (model.AreaGap{Address: 0x30000000, Length: 0x1800, Reason: aix.ReasonClipped}) {
		t.Fatalf("gaps %v %v", gaps, err)
	}
	if !bytes.Equal(p[:0x1800], lay.Areas[0][0].Image) {
		t.Fatal("bytes differ")
	}
	q := make([]byte, 0x20)
	gaps, err = f.ReadArea(0, 1, 0x1FFFFFF0, q)
	if err != nil || len(gaps) != 1 || gaps[0].Address != 0x20000000 || gaps[0].Reason != aix.ReasonClipped {
		t.Fatalf("gaps %v %v", gaps, err)
	}
	span := lay.Areas[0][1].Span
	if span != 0x10000000-0x10 {
		t.Fatalf("span %#x", span)
	}
	for k := uint64(0); k < 0x10; k++ {
		if q[k] != dumptest.AIXByte(0, span-0x10+k) {
			t.Fatalf("byte %d of the huge area's end differs", k)
		}
	}
	var codes []string
	f.Check(context.Background(), func(p model.Problem) { codes = append(codes, p.Code.String()) })
	if n := count(codes, "segment-clipped"); n != 2 {
		t.Fatalf("codes %v", codes)
	}
}

func allBut(n uint64, keep ...uint64) []uint64 {
	k := map[uint64]bool{}
	for _, v := range keep {
		k[v] = true
	}
	var out []uint64
	for i := uint64(0); i < n; i++ {
		if !k[i] {
			out = append(out, i)
		}
	}
	return out
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// allocDuring returns the bytes allocated while fn runs.
func allocDuring(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestHostile feeds impossible header values: each gives a problem with
// the offset of the bad field and nothing allocates more than a few MiB.
func TestHostile(t *testing.T) {
	be := binary.BigEndian
	base := func() ([]byte, dumptest.AIXLayout) {
		d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{
			{Magic: dumptest.AIXMagic64, Name: "a", Areas: []dumptest.AIXArea{{Name: "x", Addr: 0x1000, Len: 0x100, Seed: 1}}},
			{Magic: dumptest.AIXMagicU64, Name: "u", Areas: []dumptest.AIXArea{{Name: "y", Addr: 0x2000, Len: 0x100, Seed: 2}}},
		}}
		return d.Bytes()
	}
	cases := []struct {
		name  string
		patch func(b []byte, lay dumptest.AIXLayout) int64 // returns the offset the problem must name
		code  string
	}{
		{"cdt_len huge", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Tables[0]+20:], 0x7FFFFFF8)
			return lay.Tables[0]
		}, "truncated"},
		{"cdt_len negative", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Tables[0]+20:], 0x80000000)
			return lay.Tables[0] + 20
		}, "bad-cdt-len"},
		{"cdt_len below header", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Tables[0]+20:], 23)
			return lay.Tables[0] + 20
		}, "bad-cdt-len"},
		{"cdt_len not a whole entry", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Tables[0]+20:], 24+48+1)
			return lay.Tables[0] + 20
		}, "bad-cdt-len"},
		{"d_len 2^64-1", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint64(b[lay.Areas[0][0].EntryOff+16:], ^uint64(0))
			return lay.Areas[0][0].BitmapOff
		}, "truncated"},
		{"du_len 2^64-1 real at the top of memory", func(b []byte, lay dumptest.AIXLayout) int64 {
			e := lay.Areas[1][0].EntryOff
			be.PutUint64(b[e+24:], ^uint64(0))
			be.PutUint64(b[e+32:], ^uint64(0)-4095)
			be.PutUint64(b[e+40:], dumptest.AIXRealSegval64)
			return lay.Areas[1][0].BitmapOff
		}, "truncated"},
		{"entry magic of the other kind", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Areas[1][0].EntryOff:], dumptest.AIXMagicUD32)
			return lay.Areas[1][0].EntryOff
		}, "out-of-sync"},
		{"unknown magic", func(b []byte, lay dumptest.AIXLayout) int64 {
			be.PutUint32(b[lay.Tables[1]:], 0x12345678)
			return lay.Tables[1]
		}, "unknown-magic"},
		{"bitmap padding bits", func(b []byte, lay dumptest.AIXLayout) int64 {
			b[lay.Areas[0][0].BitmapOff] |= 0x80
			return lay.Areas[0][0].BitmapOff
		}, "bad-bitmap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, lay := base()
			off := tc.patch(b, lay)
			var f *aix.File
			alloc := allocDuring(func() {
				f, _ = open(t, b, 0)
				f.Components()
				f.Info()
				f.Layout()
				f.Check(context.Background(), func(model.Problem) {})
				f.Runs(context.Background(), 0, true, func(model.PageRun) bool { return true })
				f.ReadArea(0, 0, 0x1000, make([]byte, 16))
			})
			if alloc > 4<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
			found := false
			for _, p := range f.Info().Warnings {
				if p.Code.String() == tc.code && p.Offset != nil && int64(*p.Offset) == off {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s problem at %#x: %v", tc.code, off, f.Info().Warnings)
			}
		})
	}
}

// TestBadEntry: an entry whose address plus length wraps past 2^64 is an
// error for Check, and it stays out of the physical view.
func TestBadEntry(t *testing.T) {
	d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{{Magic: dumptest.AIXMagicU64, Name: "w", Areas: []dumptest.AIXArea{
		{Name: "wrap", Addr: ^uint64(0) - 0x7ff, Len: 0x1000, Segval: dumptest.AIXRealSegval64, Seed: 1},
	}}}}
	b, _ := d.Bytes()
	f, _ := open(t, b, 0)
	var got []model.Problem
	f.Check(context.Background(), func(p model.Problem) { got = append(got, p) })
	if !hasProblem(got, "bad-entry", "wraps") || f.Info().MaxPFN != 0 {
		t.Fatalf("%v, MaxPFN %#x", got, f.Info().MaxPFN)
	}
}

// TestManyEntries: a table whose cdt_len claims more entries than the
// limit stops with too-many-entries before allocating them.
func TestManyEntries(t *testing.T) {
	n := aix.MaxEntries + 10
	b := make([]byte, 24+n*20)
	binary.BigEndian.PutUint32(b, dumptest.AIXMagic32)
	binary.BigEndian.PutUint32(b[20:], uint32(24+n*20))
	f, _ := open(t, b, 0)
	comps, _ := f.Components()
	if len(comps) != 1 || comps[0].Complete || len(comps[0].Entries) != 0 || !hasProblem(f.Info().Warnings, "too-many-entries", "") {
		t.Fatalf("%d components, %v", len(comps), f.Info().Warnings)
	}
}

// TestEnds: how a dump may end, and what is said about it.
func TestEnds(t *testing.T) {
	d := &dumptest.AIXDump{End: dumptest.AIXEndZeros, Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagicU64, Name: "u", NEntries: 7, Areas: []dumptest.AIXArea{{Name: "y", Addr: 0x2000, Len: 0x100, Seed: 2}}},
	}}
	b, lay := d.Bytes()
	b = append(b, 0, 0, 9)
	f, _ := open(t, b, 0)
	var got []model.Problem
	f.Check(context.Background(), func(p model.Problem) { got = append(got, p) })
	if !hasProblem(got, "data-after-end", "") || !hasProblem(got, "unlimited-nentries", "") || !hasProblem(got, "no-physical-view", "") {
		t.Fatalf("problems %v", got)
	}
	if len(f.Info().Warnings) != 0 {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
	// Cut right after the last area: no end marker.
	f, _ = open(t, b[:lay.EndOff], 0)
	if !hasProblem(f.Info().Warnings, "missing-end-marker", "") {
		t.Fatalf("warnings %v", f.Info().Warnings)
	}
}

// TestOverlap: two real-address areas share a page; the first in dump
// order wins its bytes, the later one fills the rest.
func TestOverlap(t *testing.T) {
	a := bytes.Repeat([]byte{0xaa}, 0x800)
	bb := bytes.Repeat([]byte{0xbb}, 0x1000)
	d := &dumptest.AIXDump{Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagic64, Name: "one", Areas: []dumptest.AIXArea{{Name: "a", Addr: 0x5400, Len: 0x800, Segval: dumptest.AIXRealSegval64, Data: a}}},
		{Magic: dumptest.AIXMagic64, Name: "two", Areas: []dumptest.AIXArea{{Name: "b", Addr: 0x5000, Len: 0x1000, Segval: dumptest.AIXRealSegval64, Data: bb}}},
	}}
	b, lay := d.Bytes()
	f, _ := open(t, b, 0)
	buf := make([]byte, 4096)
	pi, err := f.ReadPage(5, buf, reader.ReadOptions{})
	if err != nil || pi.Partial || pi.StoredSize != 4096 || pi.FileOffset != model.FileOff(lay.Areas[0][0].DataOff) {
		t.Fatalf("%+v %v", pi, err)
	}
	want := append(append(bb[:0x400:0x400], a...), bb[0xc00:]...)
	if !bytes.Equal(buf, want) {
		t.Fatal("overlap resolved wrongly")
	}
	var got []model.Problem
	f.Check(context.Background(), func(p model.Problem) { got = append(got, p) })
	if !hasProblem(got, "overlapping-real-areas", "") {
		t.Fatalf("%v", got)
	}
	ex, err := f.ExplainPage(5)
	if err != nil || len(ex.Children) != 2 {
		t.Fatalf("explain %+v %v", ex, err)
	}
}

// TestNewFileErrors: the first table header must be there and carry a
// table magic.
func TestNewFileErrors(t *testing.T) {
	src := func(b []byte) reader.Source {
		return reader.Source{Name: "x", R: bytes.NewReader(b), Size: int64(len(b))}
	}
	if _, err := aix.NewFile(src(make([]byte, 520)), 512); !errors.Is(err, model.ErrTruncated) {
		t.Fatalf("short: %v", err)
	}
	if _, err := aix.NewFile(src(make([]byte, 600)), 0); !errors.Is(err, model.ErrUnrecognized) {
		t.Fatalf("zeros: %v", err)
	}
}
