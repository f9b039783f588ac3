package themes

import (
	"image/color"
	"math"
	"reflect"
	"regexp"
	"testing"

	"charm.land/lipgloss/v2"
)

// styles returns every lipgloss.Style field of a theme by name.
func styles(t Theme) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	v := reflect.ValueOf(t)
	for i := 0; i < v.NumField(); i++ {
		if s, ok := v.Field(i).Interface().(lipgloss.Style); ok {
			out[v.Type().Field(i).Name] = s
		}
	}
	return out
}

var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;:]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:[;:][0-9;:]*)?m`)

func TestByNameKnowsEveryName(t *testing.T) {
	for _, n := range Names() {
		th, ok := ByName(n, true)
		if !ok || th.Name != n {
			t.Errorf("ByName(%q) = %q, %v", n, th.Name, ok)
		}
		if !Known(n) {
			t.Errorf("Known(%q) is false", n)
		}
	}
	if th, _ := ByName("auto", false); th.Name != "light" {
		t.Errorf("auto on a light background gives %s", th.Name)
	}
	if th, _ := ByName("auto", true); th.Name != "dark" {
		t.Errorf("auto on a dark background gives %s", th.Name)
	}
	if _, ok := ByName("pink", true); ok || Known("pink") {
		t.Error("an unknown theme is accepted")
	}
}

// TestMeaningWithoutColour: the selection, the cursor and the active tab
// are reversed in every theme, highlights are underlined, and Mono draws
// no colour at all.
func TestMeaningWithoutColour(t *testing.T) {
	for _, n := range Names() {
		th, _ := ByName(n, true)
		for name, s := range map[string]lipgloss.Style{"Selected": th.Selected, "Cursor": th.Cursor, "TabActive": th.TabActive} {
			if !s.GetReverse() {
				t.Errorf("%s.%s is not reversed", n, name)
			}
		}
		for name, s := range map[string]lipgloss.Style{"Highlight": th.Highlight, "Match": th.Match} {
			if !s.GetUnderline() {
				t.Errorf("%s.%s is not underlined", n, name)
			}
		}
		if !th.Error.GetBold() || !th.Lost.GetBold() || !th.Unreadable.GetBold() {
			t.Errorf("%s: errors and damaged pages are not bold", n)
		}
	}
	for name, s := range styles(Mono()) {
		if out := s.Render("x"); colourSGR.MatchString(out) {
			t.Errorf("Mono.%s draws colour: %q", name, out)
		}
	}
	colours := 0
	for _, s := range styles(Dark()) {
		if colourSGR.MatchString(s.Render("x")) {
			colours++
		}
	}
	if colours < 10 {
		t.Errorf("Dark draws only %d styles in colour", colours)
	}
}

// TestStylesAreInline: the UI lays text out itself, so no style may pad,
// border or size it.
func TestStylesAreInline(t *testing.T) {
	for _, n := range Names() {
		th, _ := ByName(n, true)
		for name, s := range styles(th) {
			if got := lipgloss.Width(s.Render("ab")); got != 2 {
				t.Errorf("%s.%s renders \"ab\" %d cells wide", n, name, got)
			}
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG 2 relative luminance of a colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// TestDarkReadsOnEitherBackground: Dark is drawn until the terminal says
// which background it has, so it must read on both: text without a
// background of its own is in the terminal's foreground or keeps 3:1
// against black and against white; text with a background keeps 4.5:1
// against it (issue 12 item 26).
func TestDarkReadsOnEitherBackground(t *testing.T) {
	black, white := color.RGBA{A: 0xff}, color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	for name, s := range styles(Dark()) {
		fgc, bgc := s.GetForeground(), s.GetBackground()
		_, noFG := fgc.(lipgloss.NoColor)
		_, noBG := bgc.(lipgloss.NoColor)
		switch {
		case !noBG && noFG:
			t.Errorf("Dark.%s has a background but the terminal's foreground, which may not read on it", name)
		case !noBG:
			if c := contrast(fgc, bgc); c < 4.5 {
				t.Errorf("Dark.%s: contrast %.2f against its own background", name, c)
			}
		case !noFG:
			for bgName, bg := range map[string]color.Color{"black": black, "white": white} {
				if c := contrast(fgc, bg); c < 3 {
					t.Errorf("Dark.%s: contrast %.2f on %s", name, c, bgName)
				}
			}
		}
	}
}

func TestDarkFromCOLORFGBG(t *testing.T) {
	for _, tc := range []struct {
		v        string
		dark, ok bool
	}{
		{"15;0", true, true}, {"0;15", false, true}, {"7;8", true, true}, {"0;7", false, true},
		{"12;default;4", true, true}, {"15;default", false, false}, {"", false, false}, {"0;16", false, false}, {"bogus", false, false},
	} {
		if dark, ok := DarkFromCOLORFGBG(tc.v); dark != tc.dark || ok != tc.ok {
			t.Errorf("DarkFromCOLORFGBG(%q) = %v, %v, want %v, %v", tc.v, dark, ok, tc.dark, tc.ok)
		}
	}
}
