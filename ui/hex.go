package ui

import (
	"dumpscope/ui/render"
	"strings"
)

// Hex rows, shared by the file view of Layout and Notes, the Memory view
// and the Components view: "ADDRESS  xx xx .. xx  xx .. xx  |ascii|", in
// hexdump -C's shape. Only visible rows are ever drawn.

// byteMark says how one byte is drawn.
type byteMark uint8

const (
	markNone      byteMark = iota
	markHighlight          // inside the selected field
	markMatch              // part of a search hit
	markCursor             // under the cursor
	markAbsent             // not in the dump (drawn "--")
)

// hexWidth is the width of a hex row.
func hexWidth(addrDigits, bpr int) int {
	groups := max(bpr/8, 1)
	return addrDigits + 2 + bpr*3 - 1 + (groups - 1) + 3 + bpr + 1
}

// chooseBPR picks the most bytes per row (16, 8 or 4) that fit in w.
func chooseBPR(w, addrDigits int) int {
	for _, b := range []int{16, 8} {
		if hexWidth(addrDigits, b) <= w {
			return b
		}
	}
	return 4
}

// hexDigits returns how many hex digits v needs (at least min).
func hexDigits(v uint64, atLeast int) int {
	n := 1
	for v >>= 4; v != 0; v >>= 4 {
		n++
	}
	return max(n, atLeast)
}

const hexDigitsLower = "0123456789abcdef"

// hexRow draws one row of bpr bytes at addr: data holds the bytes that
// are known (fewer at the end of a file), mark how each address is drawn
// (nil: plainly).
func hexRow(b *strings.Builder, st *styles, addrDigits, bpr int, addr uint64, data []byte, mark func(uint64) byteMark) {
	writeAddr(b, st, addr, addrDigits)
	b.WriteString("  ")
	var cur render.Pen
	set := func(p render.Pen) {
		if p != cur {
			b.WriteString(cur.Close)
			b.WriteString(p.Open)
			cur = p
		}
	}
	marks := make([]byteMark, bpr)
	if mark != nil {
		for i := range marks {
			marks[i] = mark(addr + uint64(i))
		}
	}
	for i := 0; i < bpr; i++ {
		if i > 0 {
			// The gap between two marked bytes keeps their pen, so a
			// highlighted field reads as one block.
			if i < len(data) && marks[i] != markNone && marks[i] == marks[i-1] {
				b.WriteByte(' ')
			} else {
				set(render.Pen{})
				b.WriteByte(' ')
			}
			if i%8 == 0 {
				b.WriteByte(' ')
			}
		}
		switch {
		case marks[i] == markAbsent:
			set(st.dim)
			b.WriteString("--")
		case i >= len(data):
			set(render.Pen{})
			b.WriteString("  ")
		default:
			c := data[i]
			set(bytePen(st, marks[i], c == 0))
			b.WriteByte(hexDigitsLower[c>>4])
			b.WriteByte(hexDigitsLower[c&15])
		}
	}
	set(render.Pen{})
	b.WriteString("  |")
	for i := 0; i < bpr; i++ {
		switch {
		case marks[i] == markAbsent || i >= len(data):
			set(render.Pen{})
			b.WriteByte(' ')
		default:
			c := data[i]
			printable := c >= 0x20 && c < 0x7f
			p := bytePen(st, marks[i], false)
			if marks[i] == markNone {
				p = st.unprintable
				if printable {
					p = st.printable
				}
			}
			set(p)
			if printable {
				b.WriteByte(c)
			} else {
				b.WriteByte('.')
			}
		}
	}
	set(render.Pen{})
	b.WriteByte('|')
}

func bytePen(st *styles, m byteMark, zero bool) render.Pen {
	switch m {
	case markCursor:
		return st.cursor
	case markMatch:
		return st.match
	case markHighlight:
		return st.highlight
	}
	if zero {
		return st.zero
	}
	return st.byte_
}

// hexMessageRow draws a row that holds a message instead of bytes (a page
// that is loading or not in the dump).
func hexMessageRow(b *strings.Builder, st *styles, addrDigits int, addr uint64, msg string, p render.Pen, w int) {
	writeAddr(b, st, addr, addrDigits)
	b.WriteString("  ")
	b.WriteString(p.Paint(render.Cut(msg, w-addrDigits-2)))
}

func writeAddr(b *strings.Builder, st *styles, addr uint64, digits int) {
	var buf [16]byte
	n := hexDigits(addr, digits)
	if n > 16 {
		n = 16
	}
	for i := n - 1; i >= 0; i-- {
		buf[i] = hexDigitsLower[addr&15]
		addr >>= 4
	}
	b.WriteString(st.addr.Open)
	b.Write(buf[:n])
	b.WriteString(st.addr.Close)
}
