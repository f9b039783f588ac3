// Package themes holds the terminal UI's looks as values: a Theme is a set
// of lipgloss styles, one per role the UI draws (header, tabs, hex bytes,
// page states, problems, ...). There are no package-level styles; the UI
// builds a Theme once from the terminal background (tea.BackgroundColorMsg)
// or from the user's choice and passes it down.
//
// Every theme keeps meaning visible without colour: the selection is
// reversed, highlighted bytes are underlined, errors are bold, and the page
// states the UI colours also carry distinct glyphs. Mono has no colour at
// all and is what NO_COLOR and --color=never select.
package themes

import (
	"image/color"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// Theme is every style the UI draws with. Styles are inline (no padding,
// borders or widths): layout is the UI's business.
type Theme struct {
	// Name is how `:theme NAME` selects the theme.
	Name string
	// Dark is true for themes meant for dark backgrounds.
	Dark bool
	// Colour is false for Mono, which uses attributes only.
	Colour bool

	// Header is the top line (file, format, arch, ...); HeaderKey its
	// labels.
	Header, HeaderKey lipgloss.Style
	// TabActive and TabInactive draw the view tabs.
	TabActive, TabInactive lipgloss.Style
	// Title heads a section; Label and Value draw "label value" pairs; Dim
	// is secondary text.
	Title, Label, Value, Dim lipgloss.Style
	// Selected is the selected row of a list or tree.
	Selected lipgloss.Style
	// Address is the address column of hex views; Byte a non-zero byte;
	// Zero a zero byte; Printable and Unprintable the ASCII column.
	Address, Byte, Zero, Printable, Unprintable lipgloss.Style
	// Highlight marks the bytes of the selected field; Cursor the byte
	// under the cursor; Match a search hit.
	Highlight, Cursor, Match lipgloss.Style
	// Error, Warning, Note and OK grade problems and results.
	Error, Warning, Note, OK lipgloss.Style
	// Status is the status line; Key and KeyDesc the key help.
	Status, Key, KeyDesc lipgloss.Style
	// Prompt is the command line's prefix.
	Prompt lipgloss.Style
	// Present, ZeroFill, Excluded, NotInDump, Lost and Unreadable colour
	// the page states (with glyphs, so colour is never needed).
	Present, ZeroFill, Excluded, NotInDump, Lost, Unreadable lipgloss.Style
}

// palette is the colours a coloured theme is made of.
type palette struct {
	fg, dim, accent, accent2, addr, zero, text lipgloss.Style
	headerBG, tabBG                            color.Color
	red, yellow, blue, green, cyan, magenta    color.Color
	grey                                       color.Color
}

func fg(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }

// build assembles a coloured theme from a palette.
func build(name string, dark bool, p palette) Theme {
	s := lipgloss.NewStyle
	return Theme{
		Name: name, Dark: dark, Colour: true,
		Header:      p.fg.Background(p.headerBG).Bold(true),
		HeaderKey:   p.dim.Background(p.headerBG),
		TabActive:   s().Reverse(true).Bold(true),
		TabInactive: p.dim,
		Title:       p.accent.Bold(true),
		Label:       p.dim,
		Value:       p.text,
		Dim:         p.dim,
		Selected:    s().Reverse(true),
		Address:     p.addr,
		Byte:        p.text,
		Zero:        p.zero,
		Printable:   p.accent2,
		Unprintable: p.zero,
		Highlight:   fg(p.yellow).Underline(true).Bold(true),
		Cursor:      s().Reverse(true).Bold(true),
		Match:       fg(p.magenta).Underline(true).Bold(true),
		Error:       fg(p.red).Bold(true),
		Warning:     fg(p.yellow).Bold(true),
		Note:        fg(p.blue),
		OK:          fg(p.green).Bold(true),
		Status:      p.fg.Background(p.tabBG),
		Key:         p.accent.Bold(true),
		KeyDesc:     p.dim,
		Prompt:      p.accent.Bold(true),
		Present:     fg(p.green),
		ZeroFill:    fg(p.cyan),
		Excluded:    fg(p.blue),
		NotInDump:   fg(p.grey),
		Lost:        fg(p.yellow).Bold(true),
		Unreadable:  fg(p.red).Bold(true),
	}
}

// Dark is the default theme, meant for dark terminal backgrounds and
// readable on light ones too, since it is what the UI draws with until
// (and unless) the terminal says which background it has: text is drawn
// in the terminal's own foreground colour, and every other colour is a
// middle tone that keeps a contrast of at least 3:1 against black and
// against white (WCAG's minimum for large text and UI components; see
// TestDarkReadsOnEitherBackground). Bars with their own background (the
// header, the status line) carry their own foreground.
func Dark() Theme {
	c := lipgloss.Color
	def := lipgloss.NewStyle()
	t := build("dark", true, palette{
		fg: def, dim: fg(c("#808898")), text: def,
		accent: fg(c("#5e81ac")), accent2: fg(c("#5a9a4a")), addr: fg(c("#4c8fa6")), zero: fg(c("#5c6478")),
		headerBG: c("#2e3440"), tabBG: c("#3b4252"),
		red: c("#d9534f"), yellow: c("#b08800"), blue: c("#5e81ac"), green: c("#5a9a4a"),
		cyan: c("#3f9aa8"), magenta: c("#b16ccf"), grey: c("#6b7389"),
	})
	bar := fg(c("#d8dee9"))
	t.Header = bar.Background(c("#2e3440")).Bold(true)
	t.HeaderKey = fg(c("#a3abbf")).Background(c("#2e3440"))
	t.Status = bar.Background(c("#3b4252"))
	return t
}

// Light is the default theme for light terminal backgrounds.
func Light() Theme {
	c := lipgloss.Color
	return build("light", false, palette{
		fg: fg(c("#1f2328")), dim: fg(c("#59636e")), text: fg(c("#1f2328")),
		accent: fg(c("#0550ae")), accent2: fg(c("#116329")), addr: fg(c("#0a5e78")), zero: fg(c("#a0a8b4")),
		headerBG: c("#dde3ea"), tabBG: c("#eaeef2"),
		red: c("#c0242c"), yellow: c("#8a5a00"), blue: c("#0550ae"), green: c("#116329"),
		cyan: c("#0a5e78"), magenta: c("#8250df"), grey: c("#8c959f"),
	})
}

// HighContrast uses the 16 basic ANSI colours at full strength, bold text
// and no backgrounds, for low-vision users and poor terminals.
func HighContrast() Theme {
	c := lipgloss.Color
	white, yellow, cyan, green := fg(c("15")).Bold(true), fg(c("11")), fg(c("14")), fg(c("10"))
	t := build("high-contrast", true, palette{
		fg: white, dim: fg(c("15")), text: white, accent: yellow.Bold(true), accent2: green, addr: cyan, zero: fg(c("7")),
		headerBG: c("0"), tabBG: c("0"),
		red: c("9"), yellow: c("11"), blue: c("12"), green: c("10"), cyan: c("14"), magenta: c("13"), grey: c("7"),
	})
	t.Header = white.Reverse(true)
	t.HeaderKey = fg(c("15")).Reverse(true)
	t.Status = white.Reverse(true)
	return t
}

// Mono has no colour: bold, underline, reverse and faint only. NO_COLOR and
// --color=never select it.
func Mono() Theme {
	s := lipgloss.NewStyle
	plain := s()
	return Theme{
		Name: "mono", Dark: true, Colour: false,
		Header: s().Bold(true), HeaderKey: plain,
		TabActive: s().Reverse(true).Bold(true), TabInactive: plain,
		Title: s().Bold(true), Label: plain, Value: plain, Dim: plain,
		Selected: s().Reverse(true),
		Address:  plain, Byte: plain, Zero: plain, Printable: plain, Unprintable: plain,
		Highlight: s().Underline(true).Bold(true), Cursor: s().Reverse(true).Bold(true), Match: s().Underline(true).Bold(true),
		Error: s().Bold(true), Warning: s().Bold(true), Note: plain, OK: s().Bold(true),
		Status: plain, Key: s().Bold(true), KeyDesc: plain, Prompt: s().Bold(true),
		Present: plain, ZeroFill: plain, Excluded: plain, NotInDump: plain, Lost: s().Bold(true), Unreadable: s().Bold(true),
	}
}

// DarkFromCOLORFGBG reads the terminal background from COLORFGBG, which
// rxvt, Konsole and other terminals set to "fg;bg" (or "fg;xpm;bg") as
// colour numbers of the 16-colour palette. As Vim decides it (option.c,
// term_bg_default), backgrounds 0-6 and 8 are dark and the other numbers
// light; ok is false when the variable is unset or its background is not
// a number ("default").
func DarkFromCOLORFGBG(v string) (dark, ok bool) {
	i := strings.LastIndexByte(v, ';')
	if i < 0 {
		return false, false
	}
	n, err := strconv.Atoi(v[i+1:])
	if err != nil || n < 0 || n > 15 {
		return false, false
	}
	return n <= 6 || n == 8, true
}

// New returns the default theme for a dark or light background.
func New(isDark bool) Theme {
	if isDark {
		return Dark()
	}
	return Light()
}

// Names lists the themes ByName knows, in the order help shows them.
func Names() []string { return []string{"dark", "light", "high-contrast", "mono"} }

// ByName returns the named theme; "auto" picks dark or light from isDark.
func ByName(name string, isDark bool) (Theme, bool) {
	switch name {
	case "dark":
		return Dark(), true
	case "light":
		return Light(), true
	case "high-contrast", "hc":
		return HighContrast(), true
	case "mono", "none", "nocolor":
		return Mono(), true
	case "auto":
		return New(isDark), true
	}
	return Theme{}, false
}

// Known reports whether ByName accepts name.
func Known(name string) bool {
	return slices.Contains(append(Names(), "auto", "hc", "none", "nocolor"), name)
}
