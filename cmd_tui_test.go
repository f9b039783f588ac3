package main

import (
	"io"
	"os"
	"testing"
	"time"

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

// TestTUINeedsATerminal: `dumpscope FILE | cat` says in one line that the
// terminal UI needs a terminal and what prints the same as text, and
// exits 2 at once (issue 12 item 18; ui's TestTmuxNeedsATerminal runs the
// binary with a pipe or /dev/null on either side).
func TestTUINeedsATerminal(t *testing.T) {
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	done := make(chan int, 1)
	go func() { done <- run([]string{"/var/crash/my dump"}) }()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
	}
	os.Stdout, os.Stderr = oldOut, oldErr
	outW.Close()
	errW.Close()
	stdout, _ := io.ReadAll(outR)
	stderr, _ := io.ReadAll(errR)
	want := "dumpscope: the terminal UI needs a terminal and standard output is not one; `dumpscope info '/var/crash/my dump'` prints what it shows as text\n"
	if code != exitUsage || string(stderr) != want || len(stdout) != 0 {
		t.Fatalf("exit %d, stderr %q, stdout %q; want exit 2 and %q", code, stderr, stdout, want)
	}
}
