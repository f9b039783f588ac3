package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/alecthomas/kong"

	"dumpscope/open"
)

// description is the top of `dumpscope --help`.
const description = `Open kernel crash dumps and show what is inside them, byte by byte.

With no command, "dumpscope FILE..." opens the terminal UI on the dump
("dumpscope" alone opens it on an embedded demo dump); "dumpscope tui
--help" lists its flags: --theme (auto, dark, light, high-contrast, mono)
and --color. Every view is also a command below; most have a --json form.`

// jsonFlag is the --json flag of the commands that have a JSON form;
// commands without one do not offer it.
type jsonFlag struct {
	JSON bool `name:"json" help:"Write JSON instead of text (the JSON contract is in README.md)."`
}

// jsonCommand is a command with a --json flag.
type jsonCommand interface{ wantsJSON() bool }

func (j *jsonFlag) wantsJSON() bool { return j.JSON }

// parsed is a parsed command line.
type parsed struct {
	// command is the selected command's struct (nil when kong selected
	// none), run runs it.
	command any
	run     func(rc *runContext) error
	globals *Globals
	// parser and ctx are kong's, when kong parsed the line (fastParse
	// declined it); tuiFiles are then the terminal UI's FILE arguments
	// (suggestCommand).
	parser   *kong.Kong
	ctx      *kong.Context
	tuiFiles []string
}

// parseArgs parses the command line: fastParse takes the plain lines,
// kong the rest (help, the terminal UI, mistakes, rare forms), so that
// every message is the one kong's model of the whole grammar gives.
func parseArgs(args []string) (parsed, error) {
	if cmd, g, ok := fastParse(args); ok {
		return parsed{command: cmd, run: cmd.Run, globals: g}, nil
	}
	var cli CLI
	parser, err := newParser(&cli)
	if err != nil {
		return parsed{}, err
	}
	ctx, err := parser.Parse(jsonAfterCommand(args))
	p := parsed{run: func(rc *runContext) error { return ctx.Run(rc) }, globals: &cli.Globals,
		parser: parser, ctx: ctx, tuiFiles: cli.TUI.Files}
	if err == nil && ctx.Selected() != nil {
		p.command = ctx.Selected().Target.Addr().Interface()
	}
	return p, err
}

// commandAt returns the index in args of the command (or, for the
// terminal UI, of the first FILE): the first argument that is not a flag,
// after the global flags and the values of those that take one. When "--"
// or the end comes first, ok is false and i is the index of "--" (or
// len(args)).
func commandAt(args []string) (i int, ok bool) {
	valued := globalValueFlags()
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			return i, false
		case strings.HasPrefix(a, "-"):
			if valued[a] {
				i++
			}
		default:
			return i, true
		}
	}
	return len(args), false
}

// commandField is the field of CLI that holds the command named name:
// its name tag, or its field name in lower case.
func commandField(name string) (reflect.StructField, bool) {
	t := reflect.TypeFor[CLI]()
	for i := range t.NumField() {
		f := t.Field(i)
		if _, ok := f.Tag.Lookup("cmd"); !ok {
			continue
		}
		n := f.Tag.Get("name")
		if n == "" {
			n = strings.ToLower(f.Name)
		}
		if n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// globalValueFlags are the global flags that take a value ("--cache" of
// "--cache DIR"), by their names in Globals' tags: found once per process
// (commandAt and jsonAfterCommand ask for them on every parse).
func globalValueFlags() map[string]bool {
	valueFlags.once.Do(func() { valueFlags.m = findValueFlags() })
	return valueFlags.m
}

// valueFlags holds globalValueFlags' answer; static data until first use.
var valueFlags struct {
	once sync.Once
	m    map[string]bool
}

func findValueFlags() map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if n := f.Tag.Get("name"); n != "" && f.Type.Kind() != reflect.Bool {
				out["--"+n] = true
			}
		}
	}
	walk(reflect.TypeFor[Globals]())
	return out
}

// jsonAfterCommand moves a --json that stands before the command name to
// just after it, so that "dumpscope --json info FILE" works as README
// promises although --json is the command's flag. Global flags that take
// a value are stepped over with it; "--" ends the flags.
func jsonAfterCommand(args []string) []string {
	cmd, ok := commandAt(args)
	valued := globalValueFlags()
	moved := false
	var out []string
	for i := 0; i < cmd; i++ {
		switch a := args[i]; {
		case a == "--json":
			moved = true
		case valued[a] && i+1 < cmd:
			out = append(out, a, args[i+1])
			i++
		default:
			out = append(out, a)
		}
	}
	switch {
	case ok:
		out = append(out, args[cmd])
		if moved {
			out = append(out, "--json")
		}
		return append(out, args[cmd+1:]...)
	case cmd < len(args): // "--": what follows is not flags
		return append(out, args[cmd:]...)
	case moved:
		out = append(out, "--json")
	}
	return out
}

// suggestCommand catches a mistyped command: "dumpscope inf FILE" opens
// the terminal UI on a file named inf, which does not exist; when such a
// name is one edit away from a command, say which.
func suggestCommand(parser *kong.Kong, ctx *kong.Context, files []string) error {
	if ctx == nil {
		return nil
	}
	if sel := ctx.Selected(); sel == nil || sel.Name != "tui" || len(files) == 0 {
		return nil
	}
	name := files[0]
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	for _, c := range parser.Model.Children {
		if c.Hidden || c.Name == "tui" || editDistance(name, c.Name) > 1 {
			continue
		}
		return usageError{fmt.Sprintf("%s: no such file or directory; did you mean the command %q (dumpscope %s ...)?", open.DisplayName(name), c.Name, c.Name)}
	}
	return nil
}

// editDistance is the Damerau-Levenshtein distance of a and b (insertions,
// deletions, substitutions and swaps of neighbours, each one edit), in
// bytes; it gives up (returns 2) beyond one edit of length difference.
func editDistance(a, b string) int {
	if d := len(a) - len(b); d > 1 || d < -1 {
		return 2
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// helpCmd is `dumpscope help [COMMAND...]`: what --help says.
type helpCmd struct {
	Command []string `arg:"" optional:"" name:"COMMAND" help:"The command to describe."`
}

func (c *helpCmd) Run(rc *runContext) error {
	if len(c.Command) > 0 {
		parser, err := newParser(&CLI{})
		if err != nil {
			return err
		}
		known := false
		var names []string
		for _, n := range parser.Model.Children {
			known = known || n.Name == c.Command[0]
			names = append(names, n.Name)
		}
		if !known {
			return usageError{fmt.Sprintf("help: no command %q; the commands are %s", c.Command[0], strings.Join(names, ", "))}
		}
	}
	rc.out.Flush()
	if code := run(append(append([]string(nil), c.Command...), "--help")); code != exitOK {
		return errSilent
	}
	return nil
}

// versionCmd is `dumpscope version`.
type versionCmd struct{}

func (versionCmd) Run(rc *runContext) error {
	_, err := fmt.Fprintln(rc.out, versionString())
	return err
}

// versionString names the build: the module version and, when go build
// recorded them, the VCS revision, its time and whether the tree had
// changes (runtime/debug.ReadBuildInfo).
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return programName + " (no build information)"
	}
	return versionOf(bi)
}

// versionOf says what bi says of the build.
func versionOf(bi *debug.BuildInfo) string {
	s := programName + " " + bi.Main.Version
	set := map[string]string{}
	for _, kv := range bi.Settings {
		set[kv.Key] = kv.Value
	}
	if rev := set["vcs.revision"]; rev != "" {
		s += ", revision " + rev
		if t := set["vcs.time"]; t != "" {
			s += " of " + t
		}
		if set["vcs.modified"] == "true" {
			s += " (with local changes)"
		}
	}
	return s + ", " + bi.GoVersion
}
