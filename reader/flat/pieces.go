package flat

import (
	"container/heap"
	"slices"
)

// piece maps the logical range [start, end) to stream bytes at pos.
type piece struct {
	start, end int64
	pos        int64 // stream offset of the byte at start
}

// overlay returns the disjoint, sorted pieces of the logical file after
// the records of later (in stream order) are replayed over base (disjoint,
// sorted, all older): where records overlap, the later one wins, as
// makedumpfile -R's pwrite replay decides. Pieces that are adjacent both in
// the logical file and in the stream are merged.
//
// It sorts once and sweeps once, so n records cost O(n log n) whatever
// their order. Inserting each record into a sorted list instead costs
// O(n) per record whenever records arrive out of logical order, which is
// how makedumpfile -F writes (a page descriptor record at a low offset,
// then page data at a high one, alternately): O(n²) for a stream.
//
// work, when not nil, is increased by the pieces moved and compared, for
// the test that checks the bound.
func overlay(base, later []piece, work *int64) []piece {
	type record struct {
		piece
		seq int // stream order: higher is later; base pieces are -1
	}
	all := make([]record, 0, len(base)+len(later))
	for _, p := range base {
		all = append(all, record{p, -1}) // disjoint: their order never matters
	}
	for i, p := range later {
		all = append(all, record{p, i})
	}
	count(work, len(all))
	slices.SortFunc(all, func(a, b record) int {
		count(work, 1)
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})

	out := make([]piece, 0, len(all))
	add := func(p piece) {
		count(work, 1)
		if n := len(out); n > 0 && out[n-1].end == p.start && out[n-1].pos+(out[n-1].end-out[n-1].start) == p.pos {
			out[n-1].end = p.end
			return
		}
		out = append(out, p)
	}
	disjoint := true
	for i := 1; i < len(all) && disjoint; i++ {
		disjoint = all[i].start >= all[i-1].end
	}
	count(work, len(all))
	if disjoint {
		// The usual case: no record rewrites another.
		for _, r := range all {
			add(r.piece)
		}
		return out
	}

	// The general case: cut the logical file at every record boundary; in
	// each stretch between two boundaries the latest record covering it
	// supplies the bytes. The records covering the current stretch are in
	// a heap ordered by stream order; records that ended are dropped when
	// they reach the top.
	bounds := make([]int64, 0, 2*len(all))
	for _, r := range all {
		bounds = append(bounds, r.start, r.end)
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	count(work, 2*len(bounds))
	covering := &latestFirst{}
	next := 0
	for i := 0; i+1 < len(bounds); i++ {
		at, to := bounds[i], bounds[i+1]
		for next < len(all) && all[next].start <= at {
			heap.Push(covering, heapRecord{all[next].piece, all[next].seq})
			next++
			count(work, 1)
		}
		for covering.Len() > 0 && (*covering)[0].end <= at {
			heap.Pop(covering)
			count(work, 1)
		}
		if covering.Len() == 0 {
			continue // a hole: no record writes [at, to)
		}
		top := (*covering)[0]
		add(piece{at, to, top.pos + (at - top.start)})
	}
	return out
}

func count(work *int64, n int) {
	if work != nil {
		*work += int64(n)
	}
}

// heapRecord is a record in the sweep's heap.
type heapRecord struct {
	piece
	seq int
}

// latestFirst is a heap of records, the latest in the stream on top.
type latestFirst []heapRecord

func (h latestFirst) Len() int           { return len(h) }
func (h latestFirst) Less(i, j int) bool { return h[i].seq > h[j].seq }
func (h latestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *latestFirst) Push(x any)        { *h = append(*h, x.(heapRecord)) }
func (h *latestFirst) Pop() any {
	x := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return x
}
