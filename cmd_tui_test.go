package main

import (
	"testing"

	"github.com/charmbracelet/colorprofile"
)

// TestColorChoice: NO_COLOR with any non-empty value and --color=never
// give the colourless theme and profile; --color=always wins over
// NO_COLOR; auto leaves detection to Bubble Tea.
func TestColorChoice(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		env     []string
		profile colorprofile.Profile
		mono    bool
	}{
		{"auto", []string{"TERM=xterm-256color"}, colorprofile.Unknown, false},
		{"auto", []string{"NO_COLOR=1"}, colorprofile.ASCII, true},
		{"auto", []string{"NO_COLOR=yes"}, colorprofile.ASCII, true},
		{"auto", []string{"NO_COLOR="}, colorprofile.Unknown, false},
		{"never", nil, colorprofile.ASCII, true},
		{"always", []string{"NO_COLOR=1", "TERM=dumb"}, colorprofile.ANSI256, false},
	} {
		p, mono := colorChoice(tc.flag, tc.env)
		if p != tc.profile || mono != tc.mono {
			t.Errorf("--color=%s %v: profile %v mono %v, want %v %v", tc.flag, tc.env, p, mono, tc.profile, tc.mono)
		}
	}
}
