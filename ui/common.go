package ui

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"dumpscope/inspect"
	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/themes"
)

// Common is what every view shares: the dump, what its headers say, the
// current styles and the context that ends with the program. Views hold a
// pointer to the one Common the root owns; only the root's Update changes
// it (theme switches), so views see the change at their next View.
type Common struct {
	// Ctx is cancelled when the UI quits; long work derives from it.
	Ctx context.Context
	// S is the inspection session over the dump: its kernel engine, reads,
	// searches and verification. Only commands (tea.Cmd functions) call
	// it, never Update or View: they may read the file.
	S *inspect.Session
	// Dump is S.Dump(), for the reader contract's own methods; likewise
	// only called from commands.
	Dump reader.Dump
	// Info is Dump.Info(), read once before the program starts.
	Info model.Info
	// Theme is the current theme and St its styles as pens.
	Theme themes.Theme
	St    *styles
}

// SetTheme switches the theme every view draws with.
func (c *Common) SetTheme(t themes.Theme) {
	c.Theme = t
	c.St = newStyles(t)
}

// pageSize returns the dump's page size as a uint64 (never 0).
func (c *Common) pageSize() uint64 {
	if c.Info.PageSize > 0 {
		return uint64(c.Info.PageSize)
	}
	return 4096
}

// pen draws text in one style. lipgloss renders a style in microseconds,
// which is too slow for hundreds of hex cells per frame, so every style is
// rendered once around a sentinel and the escape sequences on either side
// are kept (inline styles only: no padding, borders or widths).
type pen struct{ open, close string }

func penOf(st lipgloss.Style) pen {
	r := st.Render("x")
	i := strings.LastIndexByte(r, 'x')
	if i < 0 {
		return pen{}
	}
	return pen{open: r[:i], close: r[i+1:]}
}

// s wraps text in the pen's escapes.
func (p pen) s(text string) string {
	if p.open == "" || text == "" {
		return text
	}
	return p.open + text + p.close
}

// styles are the theme's styles as pens, plus the page-state pens in
// model.AllStates order.
type styles struct {
	header, headerKey, tabOn, tabOff                  pen
	title, label, value, dim, selected                pen
	addr, byte_, zero, printable, unprintable         pen
	highlight, cursor, match                          pen
	err, warn, note, ok, status, key, keyDesc, prompt pen
	states                                            map[model.PageState]pen
	helpKey, helpDesc, helpSep                        lipgloss.Style
}

func newStyles(t themes.Theme) *styles {
	return &styles{
		header: penOf(t.Header), headerKey: penOf(t.HeaderKey), tabOn: penOf(t.TabActive), tabOff: penOf(t.TabInactive),
		title: penOf(t.Title), label: penOf(t.Label), value: penOf(t.Value), dim: penOf(t.Dim), selected: penOf(t.Selected),
		addr: penOf(t.Address), byte_: penOf(t.Byte), zero: penOf(t.Zero), printable: penOf(t.Printable), unprintable: penOf(t.Unprintable),
		highlight: penOf(t.Highlight), cursor: penOf(t.Cursor), match: penOf(t.Match),
		err: penOf(t.Error), warn: penOf(t.Warning), note: penOf(t.Note), ok: penOf(t.OK),
		status: penOf(t.Status), key: penOf(t.Key), keyDesc: penOf(t.KeyDesc), prompt: penOf(t.Prompt),
		states: map[model.PageState]pen{
			model.StatePresent: penOf(t.Present), model.StateZeroFill: penOf(t.ZeroFill),
			model.StateExcluded: penOf(t.Excluded), model.StateNotInDump: penOf(t.NotInDump),
			model.StateLost: penOf(t.Lost), model.StateUnreadable: penOf(t.Unreadable),
		},
		helpKey: t.Key, helpDesc: t.KeyDesc, helpSep: t.Dim,
	}
}

// severity returns the pen and the glyph for a problem's severity; the
// glyph tells the severities apart without colour.
func (s *styles) severity(sev model.Severity) (pen, string) {
	switch sev {
	case model.SeverityError:
		return s.err, "✗ error"
	case model.SeverityWarning:
		return s.warn, "! warning"
	}
	return s.note, "i note"
}

// stateGlyph is the glyph of a page state in the minimap and legends, so
// states are told apart without colour.
func stateGlyph(st model.PageState) string {
	switch st {
	case model.StatePresent:
		return "█"
	case model.StateZeroFill:
		return "0"
	case model.StateExcluded:
		return "x"
	case model.StateNotInDump:
		return "·"
	case model.StateLost:
		return "!"
	case model.StateUnreadable:
		return "?"
	}
	return " "
}

// span is a piece of text drawn with one pen; a line is a row of spans.
type span struct {
	text string
	pen  pen
}

type line []span

// sp builds a span.
func sp(p pen, text string) span { return span{text: text, pen: p} }

// plain returns the line's text without styles.
func (l line) plain() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

// render draws the line cut and padded to exactly w cells. With sel the
// whole line is drawn in the selection pen instead of its own pens.
func (l line) render(w int, sel *pen) string {
	var b strings.Builder
	left := w
	for _, s := range l {
		if left <= 0 {
			break
		}
		t := s.text
		if tw := textWidth(t); tw > left {
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
			b.WriteString(s.pen.s(t))
		}
	}
	if left > 0 {
		b.WriteString(strings.Repeat(" ", left))
	}
	if sel != nil {
		return sel.s(b.String())
	}
	return b.String()
}

// textWidth is the width of plain text in cells.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return styledWidth(s)
		}
	}
	return len(s)
}

// styledWidth is the width in cells of a line with SGR escapes. It is
// exact and fast for what the UI draws (ASCII, box drawing, arrows and
// the glyphs of page states) and falls back to ansi.StringWidth for any
// other text.
func styledWidth(s string) int {
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

// fitLine cuts or pads a styled line to exactly w cells.
func fitLine(s string, w int) string {
	n := styledWidth(s)
	switch {
	case n > w:
		return ansi.Truncate(s, w, "")
	case n < w:
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// cut cuts plain text to at most w cells, ending with … when cut.
func cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if textWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// padRight pads plain text with spaces to w cells (cutting it if longer).
func padRight(s string, w int) string {
	s = cut(s, w)
	if n := textWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// block joins lines into exactly h lines of exactly w cells.
func block(lines []string, w, h int) string {
	if h <= 0 {
		return ""
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fitLine(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return strings.Join(out, "\n")
}

// sideBySide joins two blocks of equal height column by column, with a
// one-cell gutter drawn in the dim pen.
func sideBySide(left, right string, gutter string) string {
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

// hexDigits returns how many hex digits v needs (at least min).
func hexDigits(v uint64, atLeast int) int {
	n := 1
	for v >>= 4; v != 0; v >>= 4 {
		n++
	}
	return max(n, atLeast)
}

// humanBytes formats a size as "4096 (4 KiB)".
func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d (%.4g %s)", n, f, units[i])
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

// errText is an error as one line.
func errText(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// cutMiddle shortens plain text to w cells by replacing its middle with …,
// so both the start and the end of a path stay visible.
func cutMiddle(s string, w int) string {
	if textWidth(s) <= w || w < 5 {
		return cut(s, w)
	}
	r := []rune(s)
	head := (w - 1) / 2
	tail := w - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
