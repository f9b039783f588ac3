package main

import (
	"errors"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"dumpscope/ui"
)

// tuiCmd opens the terminal UI on a dump, or on the embedded demo dump
// when no FILE is given.
type tuiCmd struct {
	Theme string `enum:"auto,dark,light,high-contrast,mono" default:"auto" help:"Theme: auto (from the terminal background), dark, light, high-contrast or mono."`
	optFilesArg
}

func (c *tuiCmd) Run(rc *runContext) error {
	s, err := rc.openSession(c.Files)
	if err != nil {
		return err
	}
	defer s.Close()
	profile, mono := colorChoice(rc.Color, os.Environ())
	opts := ui.Options{Theme: c.Theme}
	if mono {
		opts.Theme = "mono"
	}
	m := ui.New(rc.ctx, s, opts)
	defer m.Close()
	var popts []tea.ProgramOption
	if profile != colorprofile.Unknown {
		popts = append(popts, tea.WithColorProfile(profile))
	}
	_, err = tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrInterrupted) {
		return nil
	}
	return err
}

// colorChoice maps --color and NO_COLOR to a colour profile for the
// renderer (Unknown: let Bubble Tea detect it) and whether the colourless
// theme must be used. NO_COLOR counts with any non-empty value
// (no-color.org); colorprofile alone only honours values that parse as
// true, so it is checked here.
func colorChoice(flag string, env []string) (colorprofile.Profile, bool) {
	noColor := false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			noColor = true
		}
	}
	switch {
	case flag == "never", flag != "always" && noColor:
		return colorprofile.ASCII, true
	case flag == "always":
		var clean []string
		for _, kv := range env {
			if !strings.HasPrefix(kv, "NO_COLOR=") {
				clean = append(clean, kv)
			}
		}
		if p := colorprofile.Detect(os.Stdout, clean); p >= colorprofile.ANSI256 {
			return p, false
		}
		return colorprofile.ANSI256, false
	}
	return colorprofile.Unknown, false
}
