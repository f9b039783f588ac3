package ui

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
	"dumpscope/ui/render"
)

// The data inspector, under the Memory view's cursor line: the bytes from
// the cursor read as u16, u32 and u64 in both byte orders (u8 is on the
// cursor line), the dump's own order first, and the pointer-sized value in
// that order named by kallsyms when it points at a kernel symbol. It reads
// only decoded pages the view holds (the cursor's and, when a value runs
// past its end, the next one); a value that reaches a page not read or not
// in the dump is shown as "-".

// inspectorRows is how many lines the inspector takes.
const inspectorRows = 2

// inspectorBytes returns up to 8 bytes from the cursor, from the pages in
// the cache.
func (m *memoryView) inspectorBytes() []byte {
	var out []byte
	for a := m.cur; len(out) < 8 && a < m.maxAddr; {
		e, ok := m.pages.peek(model.PFN(a / m.ps))
		if !ok || e.data == nil {
			break
		}
		off := a % m.ps
		n := min(uint64(8-len(out)), m.ps-off)
		out = append(out, e.data[off:off+n]...)
		a += n
	}
	return out
}

// inspectorLines draws the inspector in w cells: one line per byte order,
// decimals included when they fit.
func (m *memoryView) inspectorLines(st *styles, w int) []render.Line {
	b := m.inspectorBytes()
	orders := []struct {
		name  string
		order binary.ByteOrder
	}{{"le", binary.LittleEndian}, {"be", binary.BigEndian}}
	if m.c.Info.Endian == model.BigEndian {
		orders[0], orders[1] = orders[1], orders[0]
	}
	ptr := 8
	if m.c.Info.Arch == "i386" {
		ptr = 4
	}
	sym := ""
	if len(b) >= ptr {
		sym = symOff(m.syms, value(orders[0].order, b, ptr))
	}
	line := func(i int, decimal bool) render.Line {
		l := render.Line{st.label.Span(orders[i].name)}
		for _, size := range []int{2, 4, 8} {
			l = append(l, st.label.Span(fmt.Sprintf("  u%d ", 8*size)))
			if len(b) < size {
				l = append(l, st.dim.Span("-"))
				continue
			}
			v := value(orders[i].order, b, size)
			l = append(l, st.value.Span(fmt.Sprintf("%#0*x", 2*size, v)))
			if decimal {
				l = append(l, st.dim.Span(fmt.Sprintf(" %d", v)))
			}
		}
		if i == 0 {
			if sym != "" {
				l = append(l, st.title.Span("  → "+sym))
			}
			l = append(l, st.dim.Span("  (the dump's byte order)"))
		}
		return l
	}
	// Decimals in both lines, or in neither.
	out := []render.Line{line(0, true), line(1, true)}
	if render.Width(out[0].Plain()) > w || render.Width(out[1].Plain()) > w {
		out = []render.Line{line(0, false), line(1, false)}
	}
	return out
}

// value reads a size-byte unsigned value.
func value(o binary.ByteOrder, b []byte, size int) uint64 {
	switch size {
	case 2:
		return uint64(o.Uint16(b))
	case 4:
		return uint64(o.Uint32(b))
	}
	return o.Uint64(b)
}
