package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"dumpscope/ui"
)

// tuiCmd opens the terminal UI on a dump, or on the embedded demo dump
// when no FILE is given.
type tuiCmd struct {
	Theme string `enum:"auto,dark,light,high-contrast,mono" default:"auto" help:"Theme: auto (from the terminal background), dark, light, high-contrast or mono."`
	Color string `enum:"auto,always,never" default:"auto" help:"Use colour: auto (terminal and NO_COLOR decide), always or never."`
	optFilesArg
}

func (c *tuiCmd) Run(rc *runContext) error {
	if err := needTerminal(os.Stdin, os.Stdout, c.Files); err != nil {
		return err
	}
	rc.interactive = true
	// A dump without a VMCOREINFO note is searched for one on first use
	// of the kernel engine: the UI shows that search in its status line
	// (a meter on standard error would draw over the screen).
	search := ui.NewProgress()
	rc.recoverProgress = search.Report
	s, err := rc.openSession(c.Files)
	if err != nil {
		return err
	}
	defer s.Close()
	profile, mono := colorChoice(c.Color, os.Environ())
	opts := ui.Options{Theme: c.Theme, ColorFGBG: os.Getenv("COLORFGBG"), VMCoreInfoSearch: search}
	if mono {
		opts.Theme = "mono"
	}
	m := ui.New(rc.ctx, s, opts)
	defer m.Close()
	popts := []tea.ProgramOption{tea.WithFPS(ui.FrameRate)}
	if profile != colorprofile.Unknown {
		popts = append(popts, tea.WithColorProfile(profile))
	}
	_, err = tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrInterrupted) {
		return nil
	}
	return err
}

// needTerminal refuses to start the terminal UI when standard input or
// standard output is not a terminal (`dumpscope FILE | cat`, a cron job, a
// script): the UI would wait for keys that never come or draw escape
// sequences into a file. It names the command that prints the same facts
// as text.
func needTerminal(in, out *os.File, files []string) error {
	which := ""
	switch {
	case !term.IsTerminal(out.Fd()):
		which = "standard output"
	case !term.IsTerminal(in.Fd()):
		which = "standard input"
	default:
		return nil
	}
	args := make([]string, len(files))
	for i, f := range files {
		args[i] = shellWord(f)
	}
	cmd := strings.TrimSpace(programName + " info " + strings.Join(args, " "))
	return usageError{fmt.Sprintf("the terminal UI needs a terminal and %s is not one; `%s` prints what it shows as text", which, cmd)}
}

// shellWord quotes a file name for a shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+,@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
