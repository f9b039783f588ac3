package aix

import (
	"context"
	"fmt"
	"sort"

	"dumpscope/model"
	"dumpscope/reader"
)

// The physical page view.
//
// An AIX dump has no physical memory map: it holds areas that components
// named by address. Areas whose address is real (a VR entry with D_REAL, a
// 32-bit entry or U32 entry with d_segval DUMP_REAL_SEGVAL32, a 64-bit or
// U64 entry with DUMP_REAL_SEGVAL64) are physical memory, so their pages
// are frames of the Dump contract's page view, with 4096-byte frames (AIX's
// PAGESIZE for the bitmaps). A frame is
//
//   - present when a real-address area stores any of its bytes; when the
//     areas cover only part of it (areas need not start or end on a page
//     boundary, and only the covered part of their first and last page is
//     stored) it is present with Partial set and the rest reads as zeros;
//   - lost when an area meant to store it but the file ends first;
//   - not_in_dump otherwise: no real-address area covers it, or every area
//     that does had it out of memory (bitmap bit clear).
//
// Overlapping areas: where several real-address areas store the same byte,
// the first area in dump order (component order, then entry order) wins,
// as an earlier program header wins in ELF vmcores. Bytes that only a later
// area stores come from that area. The page's FileOffset is that of the
// first present area in dump order.
//
// Areas with virtual addresses have no place in this view; ReadArea reads
// them by address. Real-address areas that reach the last page of the
// 64-bit address space (their end does not fit in 64 bits) are left out
// too; Check reports those that wrap.

// physIv is the physical byte range of one real-address area.
type physIv struct {
	start, end uint64 // [start, end): end = start + span
	a          *area
	order      int // dump order
}

// physIndex is a static interval tree over the real-address areas: sorted
// by start, each node (the middle of its range) keeping the largest end of
// its subtree.
type physIndex struct {
	ivs    []physIv
	maxEnd []uint64
	maxPFN uint64
}

func (f *File) physical() *physIndex {
	f.physOnce.Do(func() {
		ix := &physIndex{}
		order := 0
		for _, c := range f.walked().comps {
			for k := range c.entries {
				a := &c.entries[k]
				order++
				if !a.Real || a.span == 0 || a.Addr+a.span < a.Addr {
					continue // virtual, empty, or wrapping past 2^64 (Check reports it)
				}
				ix.ivs = append(ix.ivs, physIv{start: a.Addr, end: a.Addr + a.span, a: a, order: order})
			}
		}
		sort.Slice(ix.ivs, func(i, j int) bool {
			if ix.ivs[i].start != ix.ivs[j].start {
				return ix.ivs[i].start < ix.ivs[j].start
			}
			return ix.ivs[i].order < ix.ivs[j].order
		})
		ix.maxEnd = make([]uint64, len(ix.ivs))
		top := ix.build(0, len(ix.ivs))
		ix.maxPFN = top/PageSize + min(top%PageSize, 1)
		f.phys = ix
	})
	return f.phys
}

func (ix *physIndex) build(l, r int) uint64 {
	if l >= r {
		return 0
	}
	m := (l + r) / 2
	e := max(ix.ivs[m].end, ix.build(l, m), ix.build(m+1, r))
	ix.maxEnd[m] = e
	return e
}

// overlapping calls fn for every area that overlaps [lo, hi).
func (ix *physIndex) overlapping(lo, hi uint64, fn func(*physIv)) {
	var visit func(l, r int)
	visit = func(l, r int) {
		if l >= r {
			return
		}
		m := (l + r) / 2
		if ix.maxEnd[m] <= lo {
			return
		}
		visit(l, m)
		if ix.ivs[m].start >= hi {
			return
		}
		if ix.ivs[m].end > lo {
			fn(&ix.ivs[m])
		}
		visit(m+1, r)
	}
	visit(0, len(ix.ivs))
}

// nextStart returns the first area start above addr, or false.
func (ix *physIndex) nextStart(addr uint64) (uint64, bool) {
	i := sort.Search(len(ix.ivs), func(i int) bool { return ix.ivs[i].start > addr })
	if i == len(ix.ivs) {
		return 0, false
	}
	return ix.ivs[i].start, true
}

// piece is the part of one frame an area covers.
type piece struct {
	iv       *physIv
	i        uint64 // page index in the area
	from, to uint64 // physical bytes [from, to)
	st       pageState
	rank     uint64
}

// pieces returns the areas covering frame pfn, in dump order.
func (f *File) pieces(pfn model.PFN) ([]piece, error) {
	ix := f.physical()
	lo := uint64(pfn) * PageSize
	hi := lo + PageSize
	var out []piece
	var err error
	ix.overlapping(lo, hi, func(iv *physIv) {
		a := iv.a
		p := piece{iv: iv, i: uint64(pfn) - a.Addr/PageSize, from: max(lo, iv.start), to: min(hi, iv.end)}
		if p.i >= a.bits {
			p.st = pageLost
		} else {
			set, rank, e := f.bitAt(a, p.i)
			if e != nil && err == nil {
				err = e
			}
			p.st, p.rank = a.state(p.i, set, rank), rank
		}
		out = append(out, p)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].iv.order < out[j].iv.order })
	return out, err
}

// fileOff returns the file offset of the piece's first byte.
func (p piece) fileOff() int64 {
	a := p.iv.a
	return a.dataAt(p.rank) + int64(p.from-a.Addr-a.pageStart(p.i))
}

// maxPFN returns one past the highest frame a real-address area covers.
func (f *File) maxPFN() model.PFN { return model.PFN(f.physical().maxPFN) }

// PageInfo returns the state of frame pfn in the physical view.
func (f *File) PageInfo(pfn model.PFN) model.PageInfo {
	ps, err := f.pieces(pfn)
	return f.pageInfo(pfn, ps, err)
}

func (f *File) pageInfo(pfn model.PFN, ps []piece, err error) model.PageInfo {
	pi := model.PageInfo{PFN: pfn, PhysAddr: pfn.Addr(PageSize), FileOffset: -1}
	if err != nil {
		pi.State, pi.Reason = model.StateUnreadable, "the bitmap cannot be read: "+err.Error()
		return pi
	}
	var covered [][2]uint64
	var lost, absent *piece
	for k := range ps {
		p := &ps[k]
		switch p.st {
		case pagePresent:
			if pi.State == "" {
				pi.State, pi.Codec, pi.FileOffset = model.StatePresent, model.CodecNone, model.FileOff(p.fileOff())
			}
			covered = append(covered, [2]uint64{p.from, p.to})
		case pageLost:
			if lost == nil {
				lost = p
			}
		default:
			if absent == nil {
				absent = p
			}
		}
	}
	switch {
	case pi.State == model.StatePresent:
		n := unionLen(covered)
		pi.StoredSize, pi.Partial = int64(n), n < PageSize
	case lost != nil:
		a := lost.iv.a
		pi.State = model.StateLost
		if lost.i < a.bits {
			pi.FileOffset = model.FileOff(lost.fileOff())
			pi.Reason = fmt.Sprintf("%s stores it, but the file ends before its data", areaName(a.comp, a.index, a.Name))
		} else {
			pi.Reason = fmt.Sprintf("%s covers it, but its bitmap bit is not in the file (the file ends or the walk stopped first)", areaName(a.comp, a.index, a.Name))
		}
	case absent != nil:
		a := absent.iv.a
		pi.State = model.StateNotInDump
		pi.Reason = fmt.Sprintf("not in memory at dump time (%s, page %d: bitmap bit clear)", areaName(a.comp, a.index, a.Name), absent.i)
	case uint64(pfn) >= f.physical().maxPFN:
		pi.State, pi.Reason = model.StateNotInDump, "beyond the highest real-address area"
	default:
		pi.State, pi.Reason = model.StateNotInDump, "no real-address area covers it"
	}
	return pi
}

// Defined returns, for a frame that real-address areas store in part, the
// byte ranges they store; the rest of the frame is in no area.
func (f *File) Defined(pfn model.PFN) [][2]model.PhysAddr {
	ps, err := f.pieces(pfn)
	if pi := f.pageInfo(pfn, ps, err); !pi.Partial {
		return nil
	}
	var rs [][2]uint64
	for _, p := range ps {
		if p.st == pagePresent {
			rs = append(rs, [2]uint64{p.from, p.to})
		}
	}
	return union(rs)
}

// union merges ranges into sorted disjoint ones.
func union(rs [][2]uint64) [][2]model.PhysAddr {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var out [][2]model.PhysAddr
	for _, r := range rs {
		if n := len(out); n > 0 && uint64(out[n-1][1]) >= r[0] {
			out[n-1][1] = model.PhysAddr(max(uint64(out[n-1][1]), r[1]))
			continue
		}
		out = append(out, [2]model.PhysAddr{model.PhysAddr(r[0]), model.PhysAddr(r[1])})
	}
	return out
}

// unionLen returns the number of bytes covered by the ranges.
func unionLen(rs [][2]uint64) uint64 {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var n, end uint64
	for _, r := range rs {
		from := max(r[0], end)
		if r[1] > from {
			n += r[1] - from
			end = r[1]
		}
	}
	return n
}

// ReadPage reads frame pfn into dst (one page): the bytes of every present
// piece, the first area in dump order winning where they overlap, zeros
// elsewhere.
// Pages are stored raw, so a strict read is an ordinary one.
func (f *File) ReadPage(pfn model.PFN, dst []byte, _ reader.ReadOptions) (model.PageInfo, error) {
	if len(dst) < PageSize {
		return model.PageInfo{}, fmt.Errorf("buffer of %d bytes is smaller than a page (%d)", len(dst), PageSize)
	}
	dst = dst[:PageSize]
	ps, err := f.pieces(pfn)
	pi := f.pageInfo(pfn, ps, err)
	if !pi.State.Readable() {
		return pi, model.AbsentError(f.src.Name, pi)
	}
	clear(dst)
	lo := uint64(pfn) * PageSize
	for k := len(ps) - 1; k >= 0; k-- {
		p := ps[k]
		if p.st != pagePresent {
			continue
		}
		off := p.fileOff()
		if err := f.src.ReadAt(dst[p.from-lo:p.to-lo], off, "area data"); err != nil {
			return pi, &model.PageError{File: f.src.Name, PFN: pfn, State: model.StateUnreadable, Off: model.FileOff(off), Msg: err.Error(), Err: err}
		}
	}
	return pi, nil
}

// ReadRange reads consecutive frames in order.
func (f *File) ReadRange(ctx context.Context, start model.PFN, count uint64, opt reader.ReadOptions, fn func(model.PageInfo, []byte, error) bool) error {
	return reader.ReadRangeByPage(ctx, f, start, count, opt, fn)
}

// modelState maps an area page state to the contract's page state.
func modelState(s pageState) model.PageState {
	switch s {
	case pagePresent:
		return model.StatePresent
	case pageAbsent:
		return model.StateNotInDump
	}
	return model.StateLost
}

// Runs walks the frames from `from` to MaxPFN in runs of equal state.
// Gaps between areas are skipped at once. Where every area covering a
// frame covers it whole, the run extends while each of them keeps its
// state (taken from its bitmap a byte at a time) and no other area starts;
// only frames that areas cover in part are looked at one by one. detail
// changes nothing: the bitmaps give every state.
func (f *File) Runs(ctx context.Context, from model.PFN, detail bool, yield func(model.PageRun) bool) error {
	ix := f.physical()
	w := reader.RunWriter{Yield: yield}
	emit := w.Add
	var ivs []*physIv
	collect := func(iv *physIv) { ivs = append(ivs, iv) }
	pfn := uint64(from)
	for steps := 0; pfn < ix.maxPFN; steps++ {
		if steps&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		lo := pfn * PageSize
		ivs = ivs[:0]
		ix.overlapping(lo, lo+PageSize, collect)
		r := model.PageRun{Start: model.PFN(pfn), Count: 1}
		switch {
		case len(ivs) == 0:
			next := ix.maxPFN
			if s, ok := ix.nextStart(lo); ok {
				next = min(next, s/PageSize)
			}
			r.Count, r.State = next-pfn, model.StateNotInDump
		case wholePage(ivs, lo):
			st, n, err := f.wholeRun(ix, ivs, pfn)
			if err != nil {
				return err
			}
			r.Count, r.State = n, modelState(st)
		default:
			r.State = f.PageInfo(model.PFN(pfn)).State
		}
		if !emit(r) {
			return nil
		}
		pfn += r.Count
	}
	w.Flush()
	return nil
}

// wholePage reports whether every area in ivs covers the page at lo whole.
func wholePage(ivs []*physIv, lo uint64) bool {
	for _, iv := range ivs {
		if iv.start > lo || iv.end < lo+PageSize {
			return false
		}
	}
	return true
}

// wholeRun returns the combined state of frame pfn, which every area in
// ivs covers whole, and for how many frames it lasts: up to the first
// frame where an area changes state or stops covering whole frames, or
// another area starts. The combined state is present if any area has the
// frame present, else lost if any lost it, else not in the dump.
func (f *File) wholeRun(ix *physIndex, ivs []*physIv, pfn uint64) (pageState, uint64, error) {
	lo := pfn * PageSize
	limit := ix.maxPFN - pfn
	if s, ok := ix.nextStart(lo); ok {
		limit = min(limit, s/PageSize-pfn)
	}
	for _, iv := range ivs {
		limit = min(limit, (iv.end-lo)/PageSize)
	}
	limit = max(limit, 1)
	combined := pageAbsent
	for _, iv := range ivs {
		c, err := f.cursorAt(iv.a, pfn-iv.a.Addr/PageSize)
		if err != nil {
			return pageLost, 0, err
		}
		st, n, err := c.runFrom(limit)
		if err != nil {
			return pageLost, 0, err
		}
		limit = max(1, min(limit, n))
		if st == pagePresent || (st == pageLost && combined == pageAbsent) {
			combined = st
		}
	}
	return combined, limit, nil
}
