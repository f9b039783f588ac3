// Package render draws styled text into cells: the terminal UI's text
// primitives, with no knowledge of dumps or views.
//
//   - A Pen draws text in one style; a Span is text drawn with one pen and
//     a Line a row of spans, rendered cut and padded to a width.
//   - Width and StyledWidth measure text in cells; Cut, CutMiddle, Pad and
//     Fit bring text to a width; Wrap breaks it into lines.
//   - Block and SideBySide assemble panes from lines.
//
// Everything here is a pure function of its arguments: no I/O, no global
// state, safe to call from Update and View.
package render

import (
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Pen draws text in one style. lipgloss renders a style in microseconds,
// which is too slow for hundreds of hex cells per frame, so a style is
// rendered once around a sentinel and the escape sequences on either side
// are kept (inline styles only: no padding, borders or widths). Open and
// Close are those sequences, for callers that switch pens byte by byte.
type Pen struct{ Open, Close string }

// PenOf makes the pen of a lipgloss style.
func PenOf(st lipgloss.Style) Pen {
	r := st.Render("x")
	i := strings.LastIndexByte(r, 'x')
	if i < 0 {
		return Pen{}
	}
	return Pen{Open: r[:i], Close: r[i+1:]}
}

// Paint wraps text in the pen's escapes.
func (p Pen) Paint(text string) string {
	if p.Open == "" || text == "" {
		return text
	}
	return p.Open + text + p.Close
}

// Span is a piece of text drawn with one pen.
type Span struct {
	Text string
	Pen  Pen
}

// Span makes a span of text in the pen.
func (p Pen) Span(text string) Span { return Span{Text: text, Pen: p} }

// Text makes a span of unstyled text.
func Text(text string) Span { return Span{Text: text} }

// Line is a row of spans.
type Line []Span

// Plain returns the line's text without styles.
func (l Line) Plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Render draws the line cut and padded to exactly w cells; a cut ends
// with …. With sel the whole line is drawn in the selection pen instead of
// its own pens.
func (l Line) Render(w int, sel *Pen) string {
	var b strings.Builder
	left := w
	for _, s := range l {
		if left <= 0 {
			break
		}
		t := s.Text
		if tw := Width(t); tw > left {
			if strings.TrimLeft(t, " ") == "" {
				t = t[:left]
			} else {
				t = ansi.Truncate(t, left-1, "") + "…"
			}
			left = 0
		} else {
			left -= tw
		}
		if sel != nil {
			b.WriteString(t)
		} else {
			b.WriteString(s.Pen.Paint(t))
		}
	}
	if left > 0 {
		b.WriteString(strings.Repeat(" ", left))
	}
	if sel != nil {
		return sel.Paint(b.String())
	}
	return b.String()
}

// Lines renders lines in w cells each.
func Lines(ls []Line, w int) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Render(w, nil)
	}
	return out
}

// Width is the width of plain text in cells.
func Width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return StyledWidth(s)
		}
	}
	return len(s)
}

// StyledWidth is the width in cells of a line with SGR escapes. It is
// exact and fast for what the UI draws (ASCII, box drawing, arrows and
// the glyphs of page states) and falls back to ansi.StringWidth for any
// other text.
func StyledWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			// CSI: parameters up to a final byte 0x40-0x7e.
			i += 2
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				i++
			}
			i++
		case c >= 0x20 && c < 0x7f:
			n++
			i++
		case c < 0x80:
			return ansi.StringWidth(s) // other control characters
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !narrowGlyph(r) {
				return ansi.StringWidth(s)
			}
			n++
			i += size
		}
	}
	return n
}

// narrowGlyph reports whether r is one of the single-cell symbol ranges
// the UI uses: punctuation (… •), arrows, box drawing, block elements,
// geometric shapes, check marks.
func narrowGlyph(r rune) bool {
	switch {
	case r >= 0x2010 && r <= 0x2027, r >= 0x2190 && r <= 0x21ff, r >= 0x2500 && r <= 0x25ff:
		return true
	case r == 0xb7, r == 0x2713, r == 0x2717:
		return true
	}
	return false
}

// Fit cuts or pads a styled line to exactly w cells.
func Fit(s string, w int) string {
	n := StyledWidth(s)
	switch {
	case n > w:
		return ansi.Truncate(s, w, "")
	case n < w:
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// Cut cuts plain text to at most w cells, ending with … when cut.
func Cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// CutMiddle shortens plain text to w cells by replacing its middle with …,
// so both the start and the end of a path stay visible.
func CutMiddle(s string, w int) string {
	if Width(s) <= w || w < 5 {
		return Cut(s, w)
	}
	r := []rune(s)
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// Pad pads plain text with spaces to w cells (cutting it if longer).
func Pad(s string, w int) string {
	s = Cut(s, w)
	if n := Width(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// Block joins lines into exactly h lines of exactly w cells.
func Block(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = Fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return strings.Join(out, "\n")
}

// SideBySide joins two blocks of equal height column by column, with a
// gutter between them.
func SideBySide(left, right string, gutter string) string {
	l := strings.Split(left, "\n")
	r := strings.Split(right, "\n")
	n := max(len(l), len(r))
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(l) {
			b.WriteString(l[i])
		}
		b.WriteString(gutter)
		if i < len(r) {
			b.WriteString(r[i])
		}
	}
	return b.String()
}

// Wrap breaks plain text into lines of at most w cells, at spaces where it
// can and inside words longer than a line. Empty text is one empty line.
func Wrap(s string, w int) []string {
	w = max(w, 1)
	var out []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		out = append(out, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.Fields(s) {
		ww := Width(word)
		if curW > 0 && curW+1+ww > w {
			flush()
		}
		for ww > w {
			if curW > 0 {
				flush()
			}
			r := []rune(word)
			n := min(w, len(r))
			out = append(out, string(r[:n]))
			word = string(r[n:])
			ww = Width(word)
		}
		if word == "" {
			continue
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	if curW > 0 || len(out) == 0 {
		flush()
	}
	return out
}
