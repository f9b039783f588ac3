package main

import (
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
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

// TestOneCommandParser: every command but tui and help is parsed by the
// one-command parser of parseArgs, which knows the same flags (global and
// the command's own) as the whole grammar; what it cannot parse goes to
// the whole grammar.
func TestOneCommandParser(t *testing.T) {
	full, err := newParser(&CLI{})
	if err != nil {
		t.Fatal(err)
	}
	flagNames := func(nodes ...*kong.Node) []string {
		var out []string
		for _, n := range nodes {
			for _, f := range n.Flags {
				out = append(out, f.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range full.Model.Children {
		f, ok := commandField(c.Name)
		if !ok {
			t.Errorf("command %s: no CLI field found by its name (give the field a name tag)", c.Name)
			continue
		}
		_, fast := namedCommand([]string{"--cache", "info", c.Name, "x"})
		if want := c.Name != "tui" && c.Name != "help"; fast != want {
			t.Errorf("command %s: one-command parser %v, want %v", c.Name, fast, want)
		}
		one, err := newParser(reflect.New(reflect.StructOf([]reflect.StructField{
			{Name: "Globals", Type: reflect.TypeFor[Globals](), Tag: `embed:""`},
			{Name: f.Name, Type: f.Type, Tag: f.Tag},
		})).Interface())
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(one.Model.Children) != 1 || one.Model.Children[0].Name != c.Name {
			t.Fatalf("%s: the one-command parser has %d commands", c.Name, len(one.Model.Children))
		}
		if g, w := flagNames(one.Model.Node, one.Model.Children[0]), flagNames(full.Model.Node, c); !slices.Equal(g, w) {
			t.Errorf("%s: flags %v, want %v", c.Name, g, w)
		}
	}
	for _, tc := range []struct {
		args []string
		cmd  string
		fast bool
	}{
		{[]string{"info", "f"}, "info", true},
		{[]string{"--json", "--cache", "dir", "info", "f"}, "info", true},
		{[]string{"--cache", "info", "sym", "f"}, "sym", true}, // "info" is --cache's value
		{[]string{"info", "--help"}, "", false},
		{[]string{"help", "info"}, "", false},
		{[]string{"f.vmcore"}, "", false},
		{[]string{"tui", "f"}, "", false},
		{[]string{"--", "info"}, "", false},
	} {
		f, ok := namedCommand(tc.args)
		if ok != tc.fast || (ok && !strings.EqualFold(f.Name, tc.cmd) && f.Tag.Get("name") != tc.cmd) {
			t.Errorf("%q: field %q, %v; want %q, %v", tc.args, f.Name, ok, tc.cmd, tc.fast)
		}
	}
	// A line the one-command parser rejects gets the whole grammar's
	// message.
	_, errFull := func() (*kong.Context, error) {
		p, _ := newParser(&CLI{})
		return p.Parse([]string{"info", "--bogus", "f"})
	}()
	_, errOne := parseArgs([]string{"info", "--bogus", "f"})
	if errFull == nil || errOne == nil || errFull.Error() != errOne.Error() {
		t.Errorf("a bad flag: %v, want %v", errOne, errFull)
	}
}
