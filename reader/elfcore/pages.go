package elfcore

import (
	"container/heap"
	"context"
	"debug/elf"
	"fmt"
	"sort"

	"dumpscope/model"
	"dumpscope/reader"
)

// pieceKind says what a stretch of physical addresses holds.
type pieceKind uint8

const (
	kindData pieceKind = iota // bytes stored in the file
	kindZero                  // inside p_memsz beyond p_filesz: zeros by definition
	kindLost                  // stored per the header, but beyond the end of the file
)

// piece is a stretch of physical addresses served by one program header.
// Pieces are disjoint and sorted; where PT_LOADs overlap, stored data wins
// over zero fill, which wins over data lost to truncation, and an earlier
// program header wins over a later one.
type piece struct {
	start, end uint64 // physical byte range [start, end)
	fileOff    int64  // file offset of start (kindData, kindLost)
	prog       int32  // program header index
	kind       pieceKind
}

// pageIndex maps physical addresses to file bytes.
type pageIndex struct {
	pieces   []piece
	pageSize uint64
	maxPFN   uint64
	fileSize int64
}

// interval is a candidate piece before overlaps are resolved.
type interval struct {
	piece
	rank int // lower wins
}

// buildIndex turns the PT_LOADs into disjoint pieces with a sweep over
// their boundaries, choosing the best covering interval at every point.
func (f *File) buildIndex(pageSize uint64) *pageIndex {
	var ivs []interval
	var maxEnd uint64
	none := f.allOnes()
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if f.Class == elf.ELFCLASS32 && p.Paddr == none {
			continue // no physical address (32-bit highmem)
		}
		end := p.Paddr + p.Memsz
		if end < p.Paddr {
			continue // wraps: corrupt, reported by verify
		}
		maxEnd = max(maxEnd, end)
		if p.Off == none {
			continue // QEMU: mapping not backed by dumped memory
		}
		filesz := min(p.Filesz, p.Memsz)
		add := func(start, end uint64, off int64, k pieceKind) {
			if end > start {
				ivs = append(ivs, interval{piece{start, end, off, int32(i), k}, int(k)*MaxProgs*2 + i})
			}
		}
		// Split the stored part at the end of the file.
		stored := filesz
		if p.Off >= uint64(f.src.Len()) {
			stored = 0
		} else if avail := uint64(f.src.Len()) - p.Off; avail < filesz {
			stored = avail
		}
		add(p.Paddr, p.Paddr+stored, int64(p.Off), kindData)
		add(p.Paddr+stored, p.Paddr+filesz, int64(p.Off+stored), kindLost)
		add(p.Paddr+filesz, end, -1, kindZero)
	}
	ix := &pageIndex{pageSize: pageSize, maxPFN: (maxEnd + pageSize - 1) / pageSize, fileSize: f.src.Len()}
	if maxEnd > 0 && maxEnd%pageSize != 0 && maxEnd > ^uint64(0)-pageSize {
		ix.maxPFN = maxEnd / pageSize
	}
	ix.pieces = sweep(ivs)
	return ix
}

type event struct {
	at    uint64
	start bool
	iv    int
}

// activeHeap orders active intervals by rank.
type activeHeap struct {
	ivs []interval
	idx []int
}

func (h activeHeap) Len() int           { return len(h.idx) }
func (h activeHeap) Less(i, j int) bool { return h.ivs[h.idx[i]].rank < h.ivs[h.idx[j]].rank }
func (h activeHeap) Swap(i, j int)      { h.idx[i], h.idx[j] = h.idx[j], h.idx[i] }
func (h *activeHeap) Push(x any)        { h.idx = append(h.idx, x.(int)) }
func (h *activeHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

func sweep(ivs []interval) []piece {
	if len(ivs) == 0 {
		return nil
	}
	evs := make([]event, 0, 2*len(ivs))
	for i, iv := range ivs {
		evs = append(evs, event{iv.start, true, i}, event{iv.end, false, i})
	}
	sort.Slice(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	h := &activeHeap{ivs: ivs}
	var out []piece
	for k := 0; k < len(evs); {
		at := evs[k].at
		for ; k < len(evs) && evs[k].at == at; k++ {
			if evs[k].start {
				heap.Push(h, evs[k].iv)
			}
		}
		// Drop intervals that have ended (lazy deletion).
		for h.Len() > 0 && ivs[h.idx[0]].end <= at {
			heap.Pop(h)
		}
		if h.Len() == 0 || k == len(evs) {
			continue
		}
		next := evs[k].at
		best := ivs[h.idx[0]]
		p := best.piece
		p.start, p.end = at, next
		if p.kind != kindZero {
			p.fileOff = best.fileOff + int64(at-best.start)
		}
		if n := len(out); n > 0 && out[n-1].end == p.start && out[n-1].prog == p.prog && out[n-1].kind == p.kind {
			out[n-1].end = p.end
			continue
		}
		out = append(out, p)
	}
	return out
}

// find returns the index of the first piece that ends after addr.
func (ix *pageIndex) find(addr uint64) int {
	return sort.Search(len(ix.pieces), func(i int) bool { return ix.pieces[i].end > addr })
}

// pageInfo describes frame pfn from the pieces that overlap it.
func (ix *pageIndex) pageInfo(pfn model.PFN, fileName string) model.PageInfo {
	ps := ix.pageSize
	start := uint64(pfn) * ps
	end := start + ps
	pi := model.PageInfo{PFN: pfn, PhysAddr: model.PhysAddr(start), FileOffset: -1}
	var data, zero, lost uint64
	var firstData, firstLost *piece
	for i := ix.find(start); i < len(ix.pieces) && ix.pieces[i].start < end; i++ {
		p := &ix.pieces[i]
		n := min(p.end, end) - max(p.start, start)
		switch p.kind {
		case kindData:
			data += n
			if firstData == nil {
				firstData = p
			}
		case kindZero:
			zero += n
		case kindLost:
			lost += n
			if firstLost == nil {
				firstLost = p
			}
		}
	}
	covered := data + zero + lost
	switch {
	case uint64(pfn) >= ix.maxPFN:
		pi.State, pi.Reason = model.StateNotInDump, "beyond the highest PT_LOAD"
	case lost > 0:
		// Where the page's data starts: in the stored part if any of it
		// made it into the file, else where the header places it.
		p := firstLost
		if firstData != nil && firstData.start < firstLost.start {
			p = firstData
		}
		pi.State, pi.Code = model.StateLost, model.CodeTruncated
		pi.FileOffset = model.FileOff(p.fileOff + int64(max(start, p.start)-p.start))
		pi.Reason = fmt.Sprintf("PT_LOAD [%d] places its data beyond the end of the file, which was cut at %#x", firstLost.prog, ix.fileSize)
	case data > 0:
		pi.State, pi.Codec, pi.StoredSize = model.StatePresent, model.CodecNone, int64(data)
		pi.FileOffset = model.FileOff(firstData.fileOff + int64(max(start, firstData.start)-firstData.start))
		pi.Partial = covered < ps
	case zero > 0:
		pi.State, pi.Partial = model.StateZeroFill, covered < ps
		pi.Reason = "inside a PT_LOAD beyond p_filesz: zeros by definition"
	default:
		pi.State, pi.Reason = model.StateNotInDump, "no PT_LOAD covers it"
	}
	return pi
}

// defined returns, for a frame the PT_LOADs cover in part, the byte ranges
// they define (stored or zero-filled), merged; nil for other frames.
func (ix *pageIndex) defined(pfn model.PFN) [][2]model.PhysAddr {
	if pi := ix.pageInfo(pfn, ""); !pi.Partial {
		return nil
	}
	start := uint64(pfn) * ix.pageSize
	end := start + ix.pageSize
	var out [][2]model.PhysAddr
	for i := ix.find(start); i < len(ix.pieces) && ix.pieces[i].start < end; i++ {
		p := ix.pieces[i]
		if p.kind == kindLost {
			continue
		}
		from, to := model.PhysAddr(max(p.start, start)), model.PhysAddr(min(p.end, end))
		if n := len(out); n > 0 && out[n-1][1] == from {
			out[n-1][1] = to
			continue
		}
		out = append(out, [2]model.PhysAddr{from, to})
	}
	return out
}

// wholeData returns how many frames from pfn (up to end) one data piece
// holds whole, one after the other in the file: 0 when pfn is not such a
// frame. Pieces are disjoint, so no other piece touches those frames.
func (ix *pageIndex) wholeData(pfn, end uint64) uint64 {
	ps := ix.pageSize
	start := pfn * ps
	if pfn >= ix.maxPFN || start/ps != pfn {
		return 0
	}
	i := ix.find(start)
	if i == len(ix.pieces) {
		return 0
	}
	p := ix.pieces[i]
	if p.kind != kindData || p.start > start || p.end < start+ps {
		return 0
	}
	return min((p.end-start)/ps, end-pfn, ix.maxPFN-pfn)
}

// readPage fills dst (one page) from the pieces that overlap pfn.
func (f *File) readPage(ix *pageIndex, pfn model.PFN, dst []byte) (model.PageInfo, error) {
	pi := ix.pageInfo(pfn, f.src.Name)
	if !pi.State.Readable() {
		return pi, model.AbsentError(f.src.Name, pi)
	}
	clear(dst)
	start := uint64(pfn) * ix.pageSize
	end := start + ix.pageSize
	for i := ix.find(start); i < len(ix.pieces) && ix.pieces[i].start < end; i++ {
		p := ix.pieces[i]
		if p.kind != kindData {
			continue
		}
		from, to := max(p.start, start), min(p.end, end)
		off := p.fileOff + int64(from-p.start)
		if err := f.src.ReadAt(dst[from-start:to-start], off, "PT_LOAD data"); err != nil {
			// The program header is named only when a read fails:
			// formatting its name for every page cost a tenth of a read.
			msg := fmt.Sprintf("PT_LOAD [%d] data: %v", p.prog, err)
			return pi, &model.PageError{File: f.src.Name, PFN: pfn, State: model.StateUnreadable, Off: model.FileOff(off), Msg: msg, Err: err}
		}
	}
	return pi, nil
}

// runs walks the frames from `from` to maxPFN in runs of equal state.
func (ix *pageIndex) runs(ctx context.Context, from model.PFN, yield func(model.PageRun) bool) error {
	ps := ix.pageSize
	w := reader.RunWriter{Yield: yield}
	emit := w.Add
	pfn := uint64(from)
	i := ix.find(pfn * ps)
	for steps := 0; pfn < ix.maxPFN; steps++ {
		if steps&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		start := pfn * ps
		for i < len(ix.pieces) && ix.pieces[i].end <= start {
			i++
		}
		var r model.PageRun
		switch {
		case i == len(ix.pieces) || ix.pieces[i].start >= start+ps:
			// A gap: no piece touches this page.
			next := ix.maxPFN
			if i < len(ix.pieces) {
				next = min(next, ix.pieces[i].start/ps)
			}
			r = model.PageRun{Start: model.PFN(pfn), Count: next - pfn, State: model.StateNotInDump}
		case ix.pieces[i].start <= start && ix.pieces[i].end >= start+ps:
			// Whole pages inside one piece.
			p := ix.pieces[i]
			n := min(p.end/ps, ix.maxPFN) - pfn
			r = model.PageRun{Start: model.PFN(pfn), Count: n, State: kindState(p.kind)}
		default:
			pi := ix.pageInfo(model.PFN(pfn), "")
			r = model.PageRun{Start: model.PFN(pfn), Count: 1, State: pi.State}
		}
		if !emit(r) {
			return nil
		}
		pfn += r.Count
	}
	w.Flush()
	return nil
}

func kindState(k pieceKind) model.PageState {
	switch k {
	case kindData:
		return model.StatePresent
	case kindZero:
		return model.StateZeroFill
	}
	return model.StateLost
}
