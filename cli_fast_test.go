package main

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// kongParse parses args as parseArgs does when fastParse declines: with
// kong's model of the whole grammar. ok is false when kong rejects the
// line or exits (help, --version); its output goes nowhere.
func kongParse(t testing.TB, args []string) (name string, cmd any, g *Globals, ok bool) {
	t.Helper()
	var cli CLI
	parser, err := kong.New(&cli, kong.Name(programName), kong.Vars{"version": "test"},
		kong.TypeMapper(reflect.TypeFor[string](), kong.MapperFunc(rawString)),
		kong.Writers(new(bytes.Buffer), new(bytes.Buffer)),
		kong.Exit(func(int) { panic(exitPanic(0)) }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			if _, exited := r.(exitPanic); !exited {
				panic(r)
			}
			ok = false
		}
	}()
	ctx, err := parser.Parse(jsonAfterCommand(args))
	if err != nil || ctx.Selected() == nil {
		return "", nil, nil, false
	}
	return ctx.Selected().Name, ctx.Selected().Target.Addr().Interface(), &cli.Globals, true
}

// sameAsKong fails t when fastParse takes args and kong does not, or
// gives another command or other values. It reports whether fastParse
// took the line.
func sameAsKong(t testing.TB, args []string) bool {
	t.Helper()
	cmd, g, ok := fastParse(args)
	if !ok {
		return false
	}
	name, kcmd, kg, kok := kongParse(t, args)
	switch {
	case !kok:
		t.Errorf("%q: fastParse took a line kong rejects", args)
	case reflect.TypeOf(cmd) != reflect.TypeOf(kcmd):
		t.Errorf("%q: fastParse chose %T, kong %s (%T)", args, cmd, name, kcmd)
	case !reflect.DeepEqual(cmd, kcmd):
		t.Errorf("%q: fastParse gave %+v, kong %+v", args, cmd, kcmd)
	case !reflect.DeepEqual(g, kg):
		t.Errorf("%q: fastParse's globals %+v, kong's %+v", args, *g, *kg)
	}
	return true
}

// flagSpec is one flag of the grammar, as fastParse collects it.
type flagSpec struct {
	name   string
	sample string // a value that parses; "" for a bool
}

// grammar lists every command fastParse may take and its flags, from
// the same structs (global flags first).
func grammar(t testing.TB) map[string][]flagSpec {
	t.Helper()
	out := map[string][]flagSpec{}
	ct := reflect.TypeFor[CLI]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if _, ok := f.Tag.Lookup("cmd"); !ok || f.Name == "TUI" || f.Name == "Help" {
			continue
		}
		name := f.Tag.Get("name")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		var p lineParser
		if !p.collect(reflect.New(reflect.TypeFor[Globals]()).Elem()) || !p.collect(reflect.New(f.Type).Elem()) {
			t.Fatalf("command %s: fastParse cannot take it (a tag or a type it does not know)", name)
		}
		var specs []flagSpec
		for _, fl := range p.flags {
			specs = append(specs, flagSpec{fl.name, sampleValue(fl.v.Type())})
		}
		out[name] = specs
	}
	return out
}

// sampleValue is a value of type t's flags that parses.
func sampleValue(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[string]():
		return "some,thing"
	case reflect.TypeFor[Addr]():
		return "ffffffff81000000"
	case reflect.TypeFor[Num]():
		return "0x10"
	case reflect.TypeFor[int](), reflect.TypeFor[int64]():
		return "7"
	}
	if t.Kind() == reflect.Int64 { // time.Duration
		return "1m30s"
	}
	return ""
}

// TestFastParseIsKong: every command but tui and help, with each of its
// flags and the global ones, given in every form fastParse takes, is
// taken by fastParse, and kong parses the line to the same values.
func TestFastParseIsKong(t *testing.T) {
	g := grammar(t)
	if len(g) < 20 {
		t.Fatalf("%d commands; the CLI has more", len(g))
	}
	for name, specs := range g {
		for _, fl := range specs {
			if fl.name == "version" { // kong.VersionFlag: kong prints and exits
				continue
			}
			var forms [][]string
			if fl.sample == "" {
				forms = [][]string{{"--" + fl.name}}
			} else {
				forms = [][]string{{"--" + fl.name, fl.sample}, {"--" + fl.name + "=" + fl.sample}}
			}
			for _, form := range forms {
				line := append(append([]string{name}, form...), requiredFlags(specs, name, fl.name)...)
				line = append(line, "a.vmcore")
				if name == "rearrange" {
					line = append(line, "b.vmcore")
				}
				if name == "version" {
					line = line[:len(line)-1]
				}
				if !sameAsKong(t, line) {
					t.Errorf("%q: fastParse declined a plain line", line)
				}
			}
		}
	}
	// Global flags before the command, and --json there (moved after it).
	for _, line := range [][]string{
		{"--cache", "d", "--json", "info", "f"},
		{"--timeout=5s", "--stats", "pages", "--json", "f", "g"},
		{"--cache", "info", "sym", "--name", "x", "f"}, // "info" is --cache's value
		{"info", "f", "--no-crash"},
		{"pages", "--json", "f", "g"},
		{"rearrange", "a", "--stats", "b"},
		{"find", "--text", "", "f"},
		{"find", "--text=", "f"},
		{"find", "--hex", "de ad", "f", "--max", "0x5"},
		{"verify", "--jobs", "0x2", "f"},
		{"bt", "--cpu", "1_0", "f"},
	} {
		if !sameAsKong(t, line) {
			t.Errorf("%q: fastParse declined a plain line", line)
		}
	}
}

// requiredFlags are the required flags of a command, but the one named
// except, with values.
func requiredFlags(specs []flagSpec, cmd, except string) []string {
	var out []string
	f, _ := commandField(cmd)
	var p lineParser
	p.collect(reflect.New(f.Type).Elem())
	for _, fl := range p.flags {
		if fl.required && fl.name != except {
			out = append(out, "--"+fl.name, sampleValue(fl.v.Type()))
		}
	}
	return out
}

// TestFastParseDeclines: the lines kong must parse, for its messages or
// its meaning, are not taken.
func TestFastParseDeclines(t *testing.T) {
	for _, line := range [][]string{
		{}, {"f.vmcore"}, {"tui", "f"}, {"help", "info"}, {"info", "--help"}, {"info", "-h"},
		{"--version"}, {"info", "--version", "f"}, {"info", "--bogus", "f"}, {"inf", "f"},
		{"page", "f"}, {"page", "--pfn", "x", "f"}, {"page", "--pfn", "1", "--pfn", "2", "f"},
		{"info", "--json=false", "f"}, {"info", "--", "f"}, {"rearrange", "a", "-"}, {"rearrange", "a"},
		{"rearrange", "a", "b", "c"}, {"bt", "--cpu", "-1", "f"}, {"bt", "--cpu"}, {"--no-crash", "info", "f"},
		{"version", "x"}, {"--timeout", "5", "info", "f"}, {"pages"}, {"pages", "f", "--json", "g"},
	} {
		if _, _, ok := fastParse(line); ok {
			t.Errorf("%q: fastParse took it", line)
		}
	}
}

// TestFastParseRandomLines: random lines over the grammar's words, flags
// and values, odd ones included; what fastParse takes kong parses alike.
// Half are near-plain lines (a command, its flags with good values or a
// few odd words, files anywhere), half any words.
func TestFastParseRandomLines(t *testing.T) {
	g := grammar(t)
	words := fastParseWords(g)
	var names []string
	for name := range g {
		names = append(names, name)
	}
	slices.Sort(names)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2000
	if testing.Short() {
		n = 300
	}
	took := 0
	for i := range n {
		var line []string
		if i%2 == 0 {
			name := names[rng.IntN(len(names))]
			specs := g[name]
			line = []string{name}
			for range rng.IntN(5) {
				switch fl := specs[rng.IntN(len(specs))]; {
				case rng.IntN(8) == 0:
					line = append(line, words[rng.IntN(len(words))])
				case rng.IntN(4) == 0:
					line = append(line, "f")
				case fl.sample == "":
					line = append(line, "--"+fl.name)
				case rng.IntN(2) == 0:
					line = append(line, "--"+fl.name+"="+fl.sample)
				default:
					line = append(line, "--"+fl.name, fl.sample)
				}
			}
			if rng.IntN(4) > 0 {
				line = append(line, "f")
			}
			if rng.IntN(3) == 0 { // a global flag or --json before the command
				line = append([]string{words[25+rng.IntN(len(words)-25)]}, line...)
			}
		} else {
			line = make([]string, rng.IntN(7))
			for i := range line {
				line[i] = words[rng.IntN(len(words))]
			}
			if rng.IntN(3) > 0 {
				line = append([]string{words[rng.IntN(25)]}, line...)
			}
		}
		if sameAsKong(t, line) {
			took++
		}
	}
	if took < n/8 {
		t.Errorf("fastParse took %d of %d random lines: the test no longer reaches it", took, n)
	}
	t.Logf("fastParse took %d of %d random lines", took, n)
}

// fastParseWords are the words random lines are made of: the command
// names first, then flags in every form, values good and bad, and
// words kong treats specially.
func fastParseWords(g map[string][]flagSpec) []string {
	var cmds, rest []string
	for name, specs := range g {
		cmds = append(cmds, name)
		for _, fl := range specs {
			rest = append(rest, "--"+fl.name, "--"+fl.name+"=", "--"+fl.name+"=x")
			if fl.sample != "" {
				rest = append(rest, fl.sample, "--"+fl.name+"="+fl.sample)
			}
		}
	}
	slices.Sort(cmds)
	rest = append(rest, "f", "g.vmcore", "", "-", "--", "-h", "--help", "-1", "0x", "0b2", "1e3",
		"true", "false", "=", "--=", "---x", "tui", "help", "x,y", "\xff", "9223372036854775808",
		"18446744073709551616", "5", "5s", "-5s", "0o17", "1_000")
	for len(cmds) < 25 {
		cmds = append(cmds, "f")
	}
	return append(cmds[:25], rest...)
}

// FuzzFastParse: for any line (words split at NUL), what fastParse takes
// kong parses to the same command and values.
func FuzzFastParse(f *testing.F) {
	for _, s := range []string{"info\x00f", "--json\x00info\x00--no-crash\x00f", "page\x00--pfn=0x10\x00--count\x003\x00f",
		"read\x00--vaddr\x00ffff\x00--len\x0064\x00f", "--cache\x00d\x00verify\x00--jobs\x002\x00f", "version",
		"struct\x00--type\x00task_struct\x00--addr\x00init_task\x00f", "rearrange\x00a\x00b", "disasm\x00--count\x001_0\x00f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		if len(args) > 16 {
			return
		}
		sameAsKong(t, args)
	})
}

// TestFastParseAllocs: the point of fastParse is a cheap start; it must
// stay far below kong's cost.
func TestFastParseAllocs(t *testing.T) {
	line := []string{"--cache", "d", "page", "--pfn", "0x10", "--count=3", "--json", "f"}
	fast := testing.AllocsPerRun(20, func() { fastParse(line) })
	slow := testing.AllocsPerRun(5, func() { kongParse(t, line) })
	if fast*10 > slow {
		t.Errorf("fastParse: %v allocations, kong %v", fast, slow)
	}
	t.Logf("allocations: fastParse %v, kong %v", fast, slow)
}
