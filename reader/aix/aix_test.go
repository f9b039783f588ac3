package aix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/aix"
	"dumpscope/reader/dumptest"
)

// The File is every optional interface the CLI and UI look for.
var (
	_ reader.Dump          = (*aix.File)(nil)
	_ reader.AreaReader    = (*aix.File)(nil)
	_ reader.PageExplainer = (*aix.File)(nil)
)

// recorder is an io.ReaderAt that remembers every range read.
type recorder struct {
	r      *bytes.Reader
	mu     sync.Mutex
	ranges [][2]int64
}

func (rc *recorder) ReadAt(p []byte, off int64) (int, error) {
	rc.mu.Lock()
	rc.ranges = append(rc.ranges, [2]int64{off, off + int64(len(p))})
	rc.mu.Unlock()
	return rc.r.ReadAt(p, off)
}

func open(t testing.TB, b []byte, start int64) (*aix.File, *recorder) {
	t.Helper()
	rc := &recorder{r: bytes.NewReader(b)}
	f, err := aix.NewFile(reader.Source{Name: "test.dump", R: rc, Size: int64(len(b))}, start)
	if err != nil {
		t.Fatal(err)
	}
	return f, rc
}

// sample is a dump with every table kind: virtual and real areas, areas
// that start and end inside a page, absent pages, zero-length entries, an
// area clipped at its 256 MiB segment and areas of one byte's bitmap.
func sample(start int, end dumptest.AIXEnd) *dumptest.AIXDump {
	return &dumptest.AIXDump{Start: start, End: end, Components: []dumptest.AIXComponent{
		{Magic: dumptest.AIXMagic64, Name: "bos", Areas: []dumptest.AIXArea{
			{Name: "kernel", Addr: 0xF100000000012345, Len: 3*4096 + 100, Segval: dumptest.AIXGenSegval64, Absent: []uint64{1}, Seed: 1},
			{Name: "empty", Addr: 0x1000, Len: 0, Segval: dumptest.AIXGenSegval64},
			{Name: "realmem", Addr: 0x10800, Len: 0x2000, Segval: dumptest.AIXRealSegval64, Absent: []uint64{1}, Seed: 2},
			{Name: "tiny", Addr: 0x20010, Len: 0x20, Segval: dumptest.AIXRealSegval64, Seed: 3},
		}},
		{Magic: dumptest.AIXMagic32, Name: "proc", Areas: []dumptest.AIXArea{
			{Name: "12U", Addr: 0x2FFFE800, Len: 0x3000, Segval: 0x1234, Seed: 4},
			{Name: "realpg", Addr: 0x30000, Len: 0x1000, Segval: dumptest.AIXRealSegval32, Seed: 5},
			{Name: "zero", Len: 0},
		}},
		{Magic: dumptest.AIXMagicVR, Name: "thrd", Areas: []dumptest.AIXArea{
			{Name: "virt", Addr: 0x30001000, Len: 0x1800, Segval: 0x77, Seed: 6},
			{Name: "real", Addr: 0x100000800, Len: 0x1000, AddrFlags: dumptest.AIXDReal, Absent: []uint64{1}, Seed: 7},
		}},
		{Magic: dumptest.AIXMagicU32, Name: "lvm", Areas: []dumptest.AIXArea{
			{Name: "u32a", Addr: 0x40000, Len: 0x1234, Segval: dumptest.AIXRealSegval32, Seed: 8},
			{Name: "u32z", Len: 0},
			{Name: "u32v", Addr: 0x50000FFF, Len: 2, Segval: 5, Seed: 9},
		}},
		{Magic: dumptest.AIXMagicU64, Name: "vmm", Areas: []dumptest.AIXArea{
			{Name: "u64a", Addr: 0x60000, Len: 0x3000, Segval: dumptest.AIXRealSegval64, Absent: []uint64{0, 2}, Seed: 10},
			{Name: "u64v", Addr: 0xC000000000000010, Len: 0x10, Segval: 1, Seed: 11},
		}},
	}}
}

// isReal says, from formats.md §6.4, whether an area's address is real.
func isReal(magic uint32, a dumptest.AIXArea) bool {
	switch magic {
	case dumptest.AIXMagic32, dumptest.AIXMagicU32:
		return a.Segval == dumptest.AIXRealSegval32
	case dumptest.AIXMagicVR:
		return a.AddrFlags&dumptest.AIXDReal != 0
	}
	return a.Segval == dumptest.AIXRealSegval64
}

// expectPhys builds the physical view the writer's areas imply: the first
// real-address area in dump order wins each byte it stores.
type physPage struct {
	data    [4096]byte
	stored  [4096]bool
	covered bool // some area covers the page (possibly with its bit clear)
}

func expectPhys(d *dumptest.AIXDump, lay dumptest.AIXLayout) map[uint64]*physPage {
	m := map[uint64]*physPage{}
	for ci, c := range d.Components {
		for ai, a := range c.Areas {
			al := lay.Areas[ci][ai]
			if !isReal(c.Magic, a) || al.NPages == 0 {
				continue
			}
			for off := uint64(0); off < al.Span; off++ {
				addr := a.Addr + off
				page := (a.Addr%4096 + off) / 4096
				p := m[addr/4096]
				if p == nil {
					p = &physPage{}
					m[addr/4096] = p
				}
				p.covered = true
				if al.Present[page] && !p.stored[addr%4096] {
					p.stored[addr%4096] = true
					p.data[addr%4096] = al.Image[off]
				}
			}
		}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, start := range []int{0, 512} {
		for _, end := range []dumptest.AIXEnd{dumptest.AIXEndMarker, dumptest.AIXEndZeros, dumptest.AIXEndEOF} {
			t.Run(fmt.Sprintf("start%d/end%d", start, end), func(t *testing.T) {
				d := sample(start, end)
				b, lay := d.Bytes()
				f, rc := open(t, b, int64(start))
				comps, err := f.Components()
				if err != nil {
					t.Fatal(err)
				}
				checkComponents(t, d, lay, comps)
				// The walk reads tables, entries and bitmaps, never data.
				for _, r := range rc.ranges {
					for ci := range lay.Areas {
						for _, al := range lay.Areas[ci] {
							if al.DataLen > 0 && r[0] < al.DataOff+al.DataLen && r[1] > al.DataOff {
								t.Errorf("the walk read %#x-%#x, inside the data at %#x+%#x", r[0], r[1], al.DataOff, al.DataLen)
							}
						}
					}
				}
				checkAreaReads(t, f, d, lay)
				checkPhys(t, f, expectPhys(d, lay))
				in := f.Info()
				if in.Format != model.FormatAIX || in.Arch != "ppc64" || in.Endian != model.BigEndian || in.PageSize != 4096 || in.CPUs != 0 {
					t.Errorf("info %+v", in)
				}
				wantWarn := 0
				if end == dumptest.AIXEndEOF {
					wantWarn = 1 // missing-end-marker
				}
				if ws := f.Info().Warnings; len(ws) != wantWarn {
					t.Errorf("warnings %v", ws)
				}
			})
		}
	}
}

func checkComponents(t *testing.T, d *dumptest.AIXDump, lay dumptest.AIXLayout, comps []model.Component) {
	t.Helper()
	if len(comps) != len(d.Components) {
		t.Fatalf("%d components, want %d", len(comps), len(d.Components))
	}
	for ci, c := range d.Components {
		mc := comps[ci]
		if mc.Index != ci || mc.Name != c.Name || uint32(mc.Magic) != c.Magic || int64(mc.Offset) != lay.Tables[ci] || !mc.Complete {
			t.Errorf("component %d: %+v", ci, mc)
		}
		if len(mc.Entries) != len(c.Areas) {
			t.Fatalf("component %d: %d entries, want %d", ci, len(mc.Entries), len(c.Areas))
		}
		for ai, a := range c.Areas {
			e, al := mc.Entries[ai], lay.Areas[ci][ai]
			var present uint64
			for _, p := range al.Present {
				if p {
					present++
				}
			}
			want := model.AreaEntry{Index: ai, Name: a.Name, Address: model.Hex(a.Addr), Length: a.Len, Real: isReal(c.Magic, a),
				PagesPresent: present, PagesAbsent: al.NPages - present, BitmapOffset: -1, DataOffset: -1, Complete: true}
			if c.Magic != dumptest.AIXMagicVR || a.AddrFlags&dumptest.AIXDReal == 0 {
				want.Segval = model.Hex(a.Segval)
			}
			if c.Magic == dumptest.AIXMagic32 || c.Magic == dumptest.AIXMagicVR {
				want.Address = model.Hex(uint32(a.Addr))
				if want.Real && c.Magic == dumptest.AIXMagicVR {
					want.Address = model.Hex(a.Addr)
				}
			}
			if al.NPages > 0 {
				want.BitmapOffset, want.DataOffset = model.FileOff(al.BitmapOff), model.FileOff(al.DataOff)
			}
			if e != want {
				t.Errorf("entry %d.%d:\n got %+v\nwant %+v", ci, ai, e, want)
			}
		}
	}
}

// checkAreaReads reads every area whole and in every one-page window, and
// compares the bytes and gaps with the writer's image.
func checkAreaReads(t *testing.T, f *aix.File, d *dumptest.AIXDump, lay dumptest.AIXLayout) {
	t.Helper()
	for ci, c := range d.Components {
		for ai, a := range c.Areas {
			al := lay.Areas[ci][ai]
			addr := a.Addr
			if c.Magic == dumptest.AIXMagic32 || (c.Magic == dumptest.AIXMagicVR && a.AddrFlags&dumptest.AIXDReal == 0) {
				addr = uint64(uint32(addr))
			}
			if a.Len == 0 {
				if _, err := f.ReadArea(ci, ai, addr, make([]byte, 1)); !errors.Is(err, model.ErrNotFound) {
					t.Errorf("%d.%d: reading a zero-length entry: %v", ci, ai, err)
				}
				continue
			}
			for _, win := range windows(a.Len) {
				p := make([]byte, win[1])
				gaps, err := f.ReadArea(ci, ai, addr+win[0], p)
				if err != nil {
					t.Fatalf("%d.%d %#x+%#x: %v", ci, ai, win[0], win[1], err)
				}
				want, wantGaps := expectArea(addr, a.Addr%4096, al, win[0], win[1])
				if !bytes.Equal(p, want) {
					t.Errorf("%d.%d %#x+%#x: bytes differ", ci, ai, win[0], win[1])
				}
				if fmt.Sprint(gaps) != fmt.Sprint(wantGaps) {
					t.Errorf("%d.%d %#x+%#x: gaps\n got %v\nwant %v", ci, ai, win[0], win[1], gaps, wantGaps)
				}
			}
		}
	}
}

// windows returns (offset, length) pairs: the whole area, single bytes at
// both ends, and windows that straddle page boundaries.
func windows(n uint64) [][2]uint64 {
	w := [][2]uint64{{0, n}, {0, 1}, {n - 1, 1}}
	for off := uint64(0); off < n; off += 1500 {
		w = append(w, [2]uint64{off, min(2500, n-off)})
	}
	return w
}

// expectArea computes, from the writer's image, the bytes and gaps of a
// read of length n at offset off of an area.
func expectArea(addr, lead uint64, al dumptest.AIXAreaLayout, off, n uint64) ([]byte, []model.AreaGap) {
	out := make([]byte, n)
	var gaps []model.AreaGap
	add := func(at uint64, reason string) {
		if k := len(gaps) - 1; k >= 0 && gaps[k].Reason == reason && uint64(gaps[k].Address)+gaps[k].Length == at {
			gaps[k].Length++
			return
		}
		gaps = append(gaps, model.AreaGap{Address: model.Hex(at), Length: 1, Reason: reason})
	}
	for k := uint64(0); k < n; k++ {
		rel := off + k
		switch {
		case rel >= al.Span:
			add(addr+rel, aix.ReasonClipped)
		case !al.Present[(lead+rel)/4096]:
			add(addr+rel, aix.ReasonAbsent)
		default:
			out[k] = al.Image[rel]
		}
	}
	return out, gaps
}

// checkPhys compares every frame of the physical view, and the runs, with
// the expectation.
func checkPhys(t *testing.T, f *aix.File, want map[uint64]*physPage) {
	t.Helper()
	var maxPFN uint64
	for pfn := range want {
		maxPFN = max(maxPFN, pfn+1)
	}
	if uint64(f.Info().MaxPFN) != maxPFN {
		t.Errorf("MaxPFN %#x, want %#x", f.Info().MaxPFN, maxPFN)
	}
	states := map[uint64]model.PageState{}
	buf := make([]byte, 4096)
	for pfn := range want {
		for _, q := range []uint64{pfn - 1, pfn, pfn + 1} {
			w := want[q]
			pi, err := f.ReadPage(model.PFN(q), buf, reader.ReadOptions{})
			st, stored := model.StateNotInDump, 0
			if w != nil {
				for _, s := range w.stored {
					if s {
						stored++
					}
				}
				if stored > 0 {
					st = model.StatePresent
				}
			}
			states[q] = st
			if pi.State != st || pi.PFN != model.PFN(q) || pi.PhysAddr != model.PhysAddr(q*4096) {
				t.Errorf("pfn %#x: %+v, want %s", q, pi, st)
				continue
			}
			if st != model.StatePresent {
				if !errors.Is(err, model.ErrPageAbsent) {
					t.Errorf("pfn %#x: reading an absent page: %v", q, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("pfn %#x: %v", q, err)
			}
			if !bytes.Equal(buf, w.data[:]) {
				t.Errorf("pfn %#x: bytes differ", q)
			}
			if pi.Partial != (stored < 4096) || pi.StoredSize != int64(stored) || pi.Codec != model.CodecNone {
				t.Errorf("pfn %#x: partial %v stored %d, want %d", q, pi.Partial, pi.StoredSize, stored)
			}
		}
	}
	// Runs: contiguous from 0 to MaxPFN, each frame in its PageInfo state.
	var next model.PFN
	err := f.Runs(context.Background(), 0, true, func(r model.PageRun) bool {
		if r.Start != next || r.Count == 0 {
			t.Errorf("run %+v does not start at %#x", r, next)
		}
		for p := r.Start; p < r.End(); p++ {
			if st, ok := states[uint64(p)]; ok && st != r.State {
				t.Errorf("pfn %#x: run says %s, page says %s", p, r.State, st)
			}
			if r.Count > 1000 {
				break
			}
		}
		next = r.End()
		return true
	})
	if err != nil || uint64(next) != maxPFN {
		t.Errorf("runs end at %#x (%v), want %#x", next, err, maxPFN)
	}
}

// TestArch32 says "ppc" for a dump with only 32-bit tables.
func TestArch32(t *testing.T) {
	d := sample(0, dumptest.AIXEndZeros)
	d.Components = d.Components[1:4]
	b, _ := d.Bytes()
	f, _ := open(t, b, 0)
	if a := f.Info().Arch; a != "ppc" {
		t.Fatalf("arch %q", a)
	}
}

// TestTruncatedEverywhere cuts the sample at every byte and checks that
// the file opens, the components before the cut are intact and readable,
// and the cut one is reported incomplete with a "truncated" problem.
func TestTruncatedEverywhere(t *testing.T) {
	d := sample(512, dumptest.AIXEndMarker)
	full, lay := d.Bytes()
	for cut := int64(512 + 24); cut < lay.EndOff; cut++ {
		if insideData(lay, cut) && cut%61 != 0 {
			continue
		}
		b := full[:cut]
		f, _ := open(t, b, 512)
		comps, _ := f.Components()
		for ci, c := range d.Components {
			end := lay.EndOff
			if ci+1 < len(lay.Tables) {
				end = lay.Tables[ci+1]
			}
			switch {
			case end <= cut:
				if ci >= len(comps) || !comps[ci].Complete {
					t.Fatalf("cut %#x: component %d (ends %#x) should be complete", cut, ci, end)
				}
				for ai, a := range c.Areas {
					if a.Len == 0 {
						continue
					}
					p := make([]byte, lay.Areas[ci][ai].Span)
					addr := comps[ci].Entries[ai].Address
					if _, err := f.ReadArea(ci, ai, uint64(addr), p); err != nil || !bytes.Equal(p, lay.Areas[ci][ai].Image) {
						t.Fatalf("cut %#x: area %d.%d: %v", cut, ci, ai, err)
					}
				}
			case lay.Tables[ci]+4 > cut && lay.Tables[ci] < cut:
				// Less than a magic: no component, but a problem.
				if len(comps) != ci || !hasProblem(f.Info().Warnings, "truncated", "stray bytes") {
					t.Fatalf("cut %#x: %d components, %v", cut, len(comps), f.Info().Warnings)
				}
			case unlimitedBoundary(c, lay, ci, cut):
				// An unlimited table ends where no entry magic follows: at
				// EOF it looks complete, and the missing end is reported.
				if !hasProblem(f.Info().Warnings, "missing-end-marker", "") && !hasProblem(f.Info().Warnings, "truncated", "stray") {
					t.Fatalf("cut %#x: %v", cut, f.Info().Warnings)
				}
			case lay.Tables[ci] < cut:
				if ci >= len(comps) || comps[ci].Complete {
					t.Fatalf("cut %#x: component %d should be incomplete: %+v", cut, ci, comps)
				}
				if !hasProblem(f.Info().Warnings, "truncated", "") {
					t.Fatalf("cut %#x: no truncated problem: %v", cut, f.Info().Warnings)
				}
				checkPartial(t, f, ci, comps[ci], cut)
			}
		}
		// Whatever is there must be safe to use.
		if cut%16 != 0 {
			continue
		}
		f.Layout()
		f.Check(context.Background(), func(model.Problem) {})
		f.Runs(context.Background(), 0, true, func(model.PageRun) bool { return true })
	}
}

// insideData reports whether cut is inside some area's data, away from its
// ends.
func insideData(lay dumptest.AIXLayout, cut int64) bool {
	for _, as := range lay.Areas {
		for _, al := range as {
			if cut > al.DataOff+8 && cut < al.DataOff+al.DataLen-8 {
				return true
			}
		}
	}
	return false
}

// unlimitedBoundary reports whether cut falls where an unlimited table
// could end, or within the next word: after its header or after one of its
// entries' data. The table looks complete there (no entry magic follows);
// the missing end or the stray bytes are reported as problems.
func unlimitedBoundary(c dumptest.AIXComponent, lay dumptest.AIXLayout, ci int, cut int64) bool {
	if c.Magic != dumptest.AIXMagicU32 && c.Magic != dumptest.AIXMagicU64 {
		return false
	}
	near := func(b int64) bool { return cut >= b && cut < b+4 }
	if near(lay.Tables[ci] + 24) {
		return true
	}
	for _, al := range lay.Areas[ci] {
		if near(al.DataOff + al.DataLen) {
			return true
		}
	}
	return false
}

// checkPartial reads every entry of a cut component: present pages read
// back, gaps are absent or lost, never an error.
func checkPartial(t *testing.T, f *aix.File, ci int, c model.Component, cut int64) {
	t.Helper()
	for _, e := range c.Entries {
		if e.Length == 0 {
			continue
		}
		p := make([]byte, min(e.Length, 1<<16))
		gaps, err := f.ReadArea(ci, e.Index, uint64(e.Address), p)
		if err != nil {
			t.Fatalf("cut %#x: area %d.%d: %v", cut, ci, e.Index, err)
		}
		if !e.Complete && e.PagesPresent+e.PagesAbsent > 0 && len(gaps) == 0 && int64(e.DataOffset)+int64(len(p)) > cut {
			t.Fatalf("cut %#x: area %d.%d is incomplete but reads without gaps: %+v", cut, ci, e.Index, e)
		}
		for _, g := range gaps {
			if !strings.HasPrefix(g.Reason, "lost:") && !strings.HasPrefix(g.Reason, "not_in_dump:") {
				t.Fatalf("gap reason %q", g.Reason)
			}
		}
	}
}

func hasProblem(ps []model.Problem, code, text string) bool {
	for _, p := range ps {
		if p.Code.String() == code && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}
