package themes

import (
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
