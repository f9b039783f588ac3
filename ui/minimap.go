package ui

import (
	"context"
	"fmt"
	"math/bits"
	"strings"

	"dumpscope/model"
	"dumpscope/present"
	"dumpscope/reader"
	"dumpscope/ui/render"
)

// The minimap shows the whole pfn space as a grid of cells, each a bucket
// of frames coloured and marked by its state. One background pass over
// Dump.Runs fills a fixed number of buckets with counts by state; cells are
// then computed from the buckets whenever the grid's size changes, so
// drawing never touches the dump and costs the same for 2^28 frames as for
// 2^10.

// maxBuckets bounds the summary: 8192 buckets × 6 counters.
const maxBuckets = 8192

// stateIndex numbers the states in model.AllStates order.
func stateIndex(s model.PageState) int {
	for i, t := range model.AllStates {
		if t == s {
			return i
		}
	}
	return len(model.AllStates) - 1
}

// counts counts frames by state index.
type counts [6]uint64

// frameSplit maps n equal parts onto [0, total): part i starts at
// ceil(i·total/n), and pfn lies in part floor(pfn·n/total). It computes in
// 128 bits, so any 64-bit frame count works.
type frameSplit struct{ total, n uint64 }

func (s frameSplit) start(i uint64) uint64 {
	if s.n == 0 {
		return 0
	}
	hi, lo := bits.Mul64(i, s.total)
	q, r := bits.Div64(hi, lo, s.n)
	if r != 0 {
		q++
	}
	return q
}

func (s frameSplit) partOf(pfn uint64) uint64 {
	if s.total == 0 {
		return 0
	}
	hi, lo := bits.Mul64(pfn, s.n)
	q, _ := bits.Div64(hi, lo, s.total)
	return q
}

// pfnSummary is the result of the minimap pass.
type pfnSummary struct {
	split   frameSplit
	buckets []counts
	runs    uint64
}

// summarize walks every run once and adds it to the buckets.
func summarize(ctx context.Context, d reader.Dump, maxPFN uint64, progress func(done, total uint64)) (*pfnSummary, error) {
	nb := min(maxPFN, maxBuckets)
	s := &pfnSummary{split: frameSplit{maxPFN, nb}, buckets: make([]counts, nb)}
	if nb == 0 {
		return s, nil
	}
	err := d.Runs(ctx, 0, false, func(r model.PageRun) bool {
		s.runs++
		start, end := uint64(r.Start), min(uint64(r.End()), maxPFN)
		si := stateIndex(r.State)
		for b := s.split.partOf(start); b < nb && start < end; b++ {
			next := min(s.split.start(b+1), end)
			s.buckets[b][si] += next - start
			start = next
		}
		if s.runs&0x3ff == 0 || uint64(r.End()) >= maxPFN {
			progress(min(uint64(r.End()), maxPFN), maxPFN)
		}
		return ctx.Err() == nil
	})
	if err == nil {
		err = ctx.Err()
	}
	return s, err
}

// minimap is the grid drawn from a summary.
type minimap struct {
	sum        *pfnSummary
	maxPFN     uint64
	cols, rows int
	cells      []model.PageState // "" = no data yet
	mixed      []bool
}

// cellSplit maps the cells onto the frames; there are never more cells
// than frames.
func (m *minimap) cellSplit() frameSplit {
	return frameSplit{m.maxPFN, min(uint64(m.cols*m.rows), m.maxPFN)}
}

// setGrid sizes the grid and recomputes the cells.
func (m *minimap) setGrid(cols, rows int) {
	m.cols, m.rows = max(cols, 1), max(rows, 1)
	m.recompute()
}

// recompute derives each cell's state from the buckets it covers: damage
// (unreadable, lost) shows whenever present, otherwise the state of most
// frames; mixed records that a cell holds more than one state.
func (m *minimap) recompute() {
	cs := m.cellSplit()
	n := int(cs.n)
	m.cells = m.cells[:0]
	m.mixed = m.mixed[:0]
	if m.sum == nil || n == 0 {
		return
	}
	bs := m.sum.split
	for c := 0; c < n; c++ {
		a, b := cs.start(uint64(c)), cs.start(uint64(c+1))
		var sum counts
		first := bs.partOf(a)
		for j := first; j < bs.n && (j == first || bs.start(j) < b); j++ {
			for k := range sum {
				sum[k] += m.sum.buckets[j][k]
			}
		}
		m.cells = append(m.cells, dominant(sum))
		kinds := 0
		for _, v := range sum {
			if v > 0 {
				kinds++
			}
		}
		m.mixed = append(m.mixed, kinds > 1)
	}
}

func dominant(c counts) model.PageState {
	for _, s := range []model.PageState{model.StateUnreadable, model.StateLost} {
		if c[stateIndex(s)] > 0 {
			return s
		}
	}
	best, bi := uint64(0), -1
	for i := 0; i < 4; i++ {
		if c[i] > best {
			best, bi = c[i], i
		}
	}
	if bi < 0 {
		return model.StateNotInDump
	}
	return model.AllStates[bi]
}

// cellOf is the cell holding pfn.
func (m *minimap) cellOf(pfn uint64) int {
	cs := m.cellSplit()
	return int(min(cs.partOf(min(pfn, max(m.maxPFN, 1)-1)), max(cs.n, 1)-1))
}

// cellStart is the first frame of cell c.
func (m *minimap) cellStart(c int) uint64 {
	cs := m.cellSplit()
	return cs.start(uint64(clamp(c, 0, int(max(cs.n, 1))-1)))
}

// framesPerCell describes the scale.
func (m *minimap) framesPerCell() string {
	cs := m.cellSplit()
	if cs.n == 0 {
		return "no frames"
	}
	lo, hi := m.maxPFN/cs.n, (m.maxPFN+cs.n-1)/cs.n
	if lo == hi {
		return present.Count(int(lo), "frame") + " per cell"
	}
	return fmt.Sprintf("%d-%d frames per cell", lo, hi)
}

// view draws the grid, the cell holding the cursor pfn as ◆ (reversed,
// and bold when the map has the focus), so it shows in every theme and
// over every state, also before the pass has filled the cells (which are
// blank until then).
func (m *minimap) view(st *styles, cursorPFN uint64, focused bool) []string {
	out := make([]string, 0, m.rows)
	cur := m.cellOf(cursorPFN)
	n := int(m.cellSplit().n)
	var b strings.Builder
	for r := 0; r < m.rows; r++ {
		b.Reset()
		var p render.Pen
		set := func(q render.Pen) {
			if q != p {
				b.WriteString(p.Close)
				b.WriteString(q.Open)
				p = q
			}
		}
		for c := 0; c < m.cols; c++ {
			i := r*m.cols + c
			if i >= n {
				break
			}
			g, q := " ", st.dim
			if i < len(m.cells) {
				s := m.cells[i]
				g, q = present.StateGlyph(s), st.states[s]
				if m.mixed[i] {
					g = present.MostlyGlyph(s)
				}
			}
			if i == cur {
				g, q = "◆", st.cursor
				if !focused {
					q = st.selected
				}
			}
			set(q)
			b.WriteString(g)
		}
		set(render.Pen{})
		out = append(out, b.String())
	}
	return out
}

// legend lists the map's glyphs, a glyph and its words per item: the
// states, then the cells whose frames are not all in one state (drawn
// with the glyph of the state most of them are in), then the cursor.
func legend(st *styles) []render.Span {
	var out []render.Span
	for _, s := range model.AllStates {
		out = append(out, st.states[s].Span(present.StateGlyph(s)), st.dim.Span(" "+string(s)+"  "))
	}
	for _, s := range model.AllStates {
		if g := present.MostlyGlyph(s); g != present.StateGlyph(s) {
			out = append(out, st.states[s].Span(g), st.dim.Span(" mostly "+string(s)+"  "))
		}
	}
	return append(out, st.cursor.Span("◆"), st.dim.Span(" cursor"))
}
