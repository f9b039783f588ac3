package render

import (
	"slices"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestStyledWidthAgreesWithAnsi(t *testing.T) {
	bold := PenOf(lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#81a1c1")))
	for _, s := range []string{
		"", "plain", bold.Paint("title") + " x " + bold.Paint("█·▓◆"),
		"tree ▾ ▸ │ ─ … • ↓ ← ✓ ✗", "wide 漢字 mixed", "tab\there", "e\u0301 combining", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
	} {
		if got, want := StyledWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("StyledWidth(%q) = %d, ansi says %d", s, got, want)
		}
	}
}

// TestLineRender: a line is cut with … and padded to exactly its width;
// a selection draws it in the selection pen only.
func TestLineRender(t *testing.T) {
	red := PenOf(lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")))
	rev := PenOf(lipgloss.NewStyle().Reverse(true))
	l := Line{red.Span("abc"), Text("  "), red.Span("defghij")}
	for w := 0; w < 16; w++ {
		out := l.Render(w, nil)
		if got := ansi.StringWidth(out); got != w {
			t.Errorf("Render(%d) is %d cells: %q", w, got, out)
		}
	}
	if got := ansi.Strip(l.Render(8, nil)); got != "abc  de…" {
		t.Errorf("Render(8) = %q, want the cut marked with …", got)
	}
	sel := l.Render(20, &rev)
	if !strings.HasPrefix(sel, rev.Open) || strings.Contains(sel, red.Open) {
		t.Errorf("a selected line keeps its own pens: %q", sel)
	}
	if l.Plain() != "abc  defghij" {
		t.Errorf("Plain = %q", l.Plain())
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want []string
	}{
		{"", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"abcdefghij xy", 4, []string{"abcd", "efgh", "ij", "xy"}},
		{"  spaced   out  ", 20, []string{"spaced out"}},
	} {
		if got := Wrap(tc.in, tc.w); !slices.Equal(got, tc.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

func TestCutPadFit(t *testing.T) {
	if got := Cut("abcdef", 4); got != "abc…" {
		t.Errorf("Cut = %q", got)
	}
	if got := Pad("ab", 4); got != "ab  " {
		t.Errorf("Pad = %q", got)
	}
	if got := CutMiddle("/very/long/path/name", 9); got != "/ver…name" {
		t.Errorf("CutMiddle = %q", got)
	}
	if got := Block([]string{"x", "yy"}, 3, 3); got != "x  \nyy \n   " {
		t.Errorf("Block = %q", got)
	}
	if got := SideBySide("a\nb", "c\nd", "|"); got != "a|c\nb|d" {
		t.Errorf("SideBySide = %q", got)
	}
}
