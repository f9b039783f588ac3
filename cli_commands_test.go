package main

import (
	"fmt"
	"runtime/debug"
	"slices"
	"testing"

	"dumpscope/inspect/kernel"
	"dumpscope/model"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"info", "info", 0}, {"inf", "info", 1}, {"infoo", "info", 1}, {"ifno", "info", 1}, {"imfo", "info", 1}, {"in", "info", 2}, {"xyz", "info", 2}} {
		if d := min(editDistance(tc.a, tc.b), 2); d != tc.d {
			t.Errorf("%q %q: %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(bi), "dumpscope v1.2.3, revision abc123 of 2026-01-02T03:04:05Z (with local changes), go1.26"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// TestJSONAfterCommand: a --json before the command moves after it;
// values of global flags are not taken for the command.
func TestJSONAfterCommand(t *testing.T) {
	for _, tc := range [][2][]string{
		{{"--json", "info", "f"}, {"info", "--json", "f"}},
		{{"--cache", "dir", "--json", "pages", "f"}, {"--cache", "dir", "pages", "--json", "f"}},
		{{"--json", "--timeout=5s", "verify", "f"}, {"--timeout=5s", "verify", "--json", "f"}},
		{{"info", "--json", "f"}, {"info", "--json", "f"}},
		{{"--", "--json"}, {"--", "--json"}},
	} {
		if got := jsonAfterCommand(tc[0]); !slices.Equal(got, tc[1]) {
			t.Errorf("%q: %q, want %q", tc[0], got, tc[1])
		}
	}
}

// TestExitCodes: the README's exit codes for the kinds of errors commands
// return. Kernel data the engine cannot read is absent data (1), even when
// what stops it is a kind of BTF it does not know (ErrUnsupported, which
// alone means a file that cannot be opened: 2).
func TestExitCodes(t *testing.T) {
	btfKind := model.Errorf("", "btf_type", -1, model.ErrUnsupported, "unknown kind 127 and no layout section describes it")
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, exitOK},
		{"usage", usageError{"--depth must be 1..64"}, exitUsage},
		{"open", openError{model.Errorf("x", "", 0, model.ErrUnrecognized, "unknown magic")}, exitUsage},
		{"unsupported format", model.Errorf("x", "", 0, model.ErrUnsupported, "version 9"), exitUsage},
		{"kernel data of an unknown kind", &kernel.MissingError{File: "x", What: "the kernel's BTF", Err: btfKind}, exitAbsent},
		{"kernel data wrapped again", fmt.Errorf("tasks: %w", &kernel.MissingError{What: "the kernel's BTF", Err: btfKind}), exitAbsent},
		{"absent page", model.ErrPageAbsent, exitAbsent},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}
