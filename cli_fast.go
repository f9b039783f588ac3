package main

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"dumpscope/present"
)

// runner is a command: every command type has Run.
type runner interface{ Run(rc *runContext) error }

// fastParse parses the plain command lines, which are nearly all of them,
// without building kong's model of the grammar: that model (reflection
// over every command, tag parsing, help interpolation) costs about 2 ms of
// a command's start, more than most short commands spend on their work.
//
// A plain line names a command other than tui and help; its other words
// are long flags of that command or of Globals (--name, --name VALUE,
// --name=VALUE), each at most once, and positional arguments. The values
// parse as kong parses them (the same strconv, time and present calls).
// Anything else it declines (ok is false) and kong parses the line: help,
// --version, a short flag, "-", "--", a value that starts with "-", a bool
// given a value, a repeated or unknown flag, a value that does not parse,
// a missing required flag or argument, a tag this parser does not know.
// So every message, and every rare form, is kong's; TestFastParseIsKong
// and FuzzFastParse hold fastParse to kong's answers.
func fastParse(args []string) (cmd runner, g *Globals, ok bool) {
	args = jsonAfterCommand(args) // the command word stays where commandAt finds it
	at, ok := commandAt(args)
	if !ok {
		return nil, nil, false
	}
	field, ok := commandField(args[at])
	if !ok || field.Name == "TUI" || field.Name == "Help" {
		return nil, nil, false
	}

	g = new(Globals)
	target := reflect.New(field.Type)
	var p lineParser
	if !p.collect(reflect.ValueOf(g).Elem()) {
		return nil, nil, false
	}
	globals := len(p.flags)
	if !p.collect(target.Elem()) {
		return nil, nil, false
	}
	var positional []string
	var afterFlag []bool // whether a flag stands between a word and the one before
	flagged := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case i == at:
		case !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
			afterFlag = append(afterFlag, flagged && len(positional) > 1)
			flagged = false
		case !strings.HasPrefix(a, "--") || a == "--":
			return nil, nil, false
		default:
			name, value, inline := strings.Cut(a[2:], "=")
			f := p.flag(name)
			switch {
			case f == nil || f.seen || i < at && !slices.Contains(p.flags[:globals], f):
				// Before the command kong knows only the global flags.
				return nil, nil, false
			case f.v.Kind() == reflect.Bool:
				if inline || f.v.Type() != reflect.TypeFor[bool]() {
					return nil, nil, false // --flag=false, --version
				}
			case !inline:
				if i+1 >= len(args) || i+1 == at || strings.HasPrefix(args[i+1], "-") {
					return nil, nil, false
				}
				i++
				value = args[i]
			}
			if !setValue(f.v, value) {
				return nil, nil, false
			}
			f.seen = true
			flagged = true
		}
	}
	if !p.finish(positional, afterFlag) {
		return nil, nil, false
	}
	cmd, ok = target.Interface().(runner)
	return cmd, g, ok
}

// lineParser holds the flags and positional arguments of one command line
// (fastParse), in declaration order, as kong finds them in the structs.
type lineParser struct {
	flags []*fastFlag
	args  []fastArg
}

// fastFlag is one flag: its name, where its value goes and its tags.
type fastFlag struct {
	name     string
	v        reflect.Value
	def      string
	hasDef   bool
	required bool
	seen     bool
}

// fastArg is one positional argument: a string, or a []string that takes
// the rest.
type fastArg struct {
	v        reflect.Value
	optional bool
}

// fastTag reports whether fastParse knows a struct tag key; a field with
// any other makes it decline the line (kong may give that tag a meaning).
func fastTag(key string) bool {
	switch key {
	case "name", "help", "default", "placeholder", "required", "arg", "optional", "sep", "embed":
		return true
	}
	return false
}

// collect adds the flags and arguments of struct v: its exported fields,
// and those of its embedded structs (as kong flattens them). It returns
// false for a field fastParse does not handle.
func (p *lineParser) collect(v reflect.Value) bool {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		keys, ok := tagKeys(sf.Tag)
		if !ok {
			return false
		}
		for _, k := range keys {
			if !fastTag(k) {
				return false
			}
		}
		fv := v.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if !p.collect(fv) {
				return false
			}
			continue
		}
		if _, isArg := sf.Tag.Lookup("arg"); isArg {
			if sep, ok := sf.Tag.Lookup("sep"); ok && sep != "none" {
				return false
			}
			switch sf.Type {
			case reflect.TypeFor[string](), reflect.TypeFor[[]string]():
			default:
				return false
			}
			_, optional := sf.Tag.Lookup("optional")
			p.args = append(p.args, fastArg{v: fv, optional: optional})
			continue
		}
		if _, ok := sf.Tag.Lookup("sep"); ok || !settable(sf.Type) {
			return false
		}
		name := sf.Tag.Get("name")
		if name == "" {
			if name, ok = simpleName(sf.Name); !ok {
				return false
			}
		}
		def, hasDef := sf.Tag.Lookup("default")
		_, required := sf.Tag.Lookup("required")
		if strings.Contains(def, "${") || p.flag(name) != nil {
			return false
		}
		p.flags = append(p.flags, &fastFlag{name: name, v: fv, def: def, hasDef: hasDef, required: required})
	}
	return true
}

// flag is the flag called name, or nil.
func (p *lineParser) flag(name string) *fastFlag {
	for _, f := range p.flags {
		if f.name == name {
			return f
		}
	}
	return nil
}

// finish gives the flags not on the line their defaults, and the
// positional words to the arguments in order; it returns false where kong
// would report an error (a required flag or argument missing, a word
// left over). A []string argument takes, as kong's does, the words up to
// the next flag: a word after that flag would be left over (afterFlag[i]
// says whether a flag stands between words[i-1] and words[i]).
func (p *lineParser) finish(words []string, afterFlag []bool) bool {
	for _, f := range p.flags {
		switch {
		case f.seen:
		case f.required:
			return false
		case f.hasDef && !setValue(f.v, f.def):
			return false
		}
	}
	for _, a := range p.args {
		if a.v.Kind() == reflect.Slice {
			if len(words) == 0 && !a.optional {
				return false
			}
			if slices.Contains(afterFlag[len(afterFlag)-len(words)+min(len(words), 1):], true) {
				return false
			}
			if len(words) > 0 {
				a.v.Set(reflect.ValueOf(append([]string(nil), words...)))
			}
			words = nil
			continue
		}
		if len(words) == 0 {
			if !a.optional {
				return false
			}
			continue
		}
		a.v.SetString(words[0])
		words = words[1:]
	}
	return len(words) == 0
}

// settable reports whether setValue handles values of type t.
func settable(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[bool](), reflect.TypeFor[kong.VersionFlag](), reflect.TypeFor[string](),
		reflect.TypeFor[int](), reflect.TypeFor[int64](), reflect.TypeFor[time.Duration](),
		reflect.TypeFor[Num](), reflect.TypeFor[Addr](),
		reflect.TypeFor[*int](), reflect.TypeFor[*int64](), reflect.TypeFor[*Addr]():
		return true
	}
	return false
}

// setValue parses s into v as kong's mapper for v's type does (for Num
// and Addr, their Decode): strings as given (rawString), integers by
// strconv.ParseInt with base 0, durations by time.ParseDuration. A bool
// is set true. It returns false when s does not parse.
func setValue(v reflect.Value, s string) bool {
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		if !setValue(p.Elem(), s) {
			return false
		}
		v.Set(p)
		return true
	}
	switch v.Type() {
	case reflect.TypeFor[bool]():
		v.SetBool(true)
	case reflect.TypeFor[string]():
		v.SetString(s)
	case reflect.TypeFor[int](), reflect.TypeFor[int64]():
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return false
		}
		v.SetInt(n)
	case reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(s)
		if err != nil {
			return false
		}
		v.SetInt(int64(d))
	case reflect.TypeFor[Num](), reflect.TypeFor[Addr]():
		parse := present.ParseNumber
		if v.Type() == reflect.TypeFor[Addr]() {
			parse = present.ParseAddress
		}
		n, err := parse(s)
		if err != nil {
			return false
		}
		v.SetUint(n)
	default:
		return false
	}
	return true
}

// simpleName is kong's flag name for a field without a name tag, for the
// field names where it is plain: one capital and lower-case letters
// (Count: count). For others ("ZeroFill", "PFN") ok is false: such a field
// needs a name tag for fastParse to take its command.
func simpleName(field string) (name string, ok bool) {
	if field == "" || field[0] < 'A' || field[0] > 'Z' {
		return "", false
	}
	for i := 1; i < len(field); i++ {
		if field[i] < 'a' || field[i] > 'z' {
			return "", false
		}
	}
	return strings.ToLower(field), true
}

// tagKeys lists the keys of a struct tag (`key:"value" ...`); ok is false
// for a tag that is not in that form.
func tagKeys(tag reflect.StructTag) (keys []string, ok bool) {
	s := strings.TrimLeft(string(tag), " ")
	for s != "" {
		i := strings.IndexByte(s, ':')
		if i <= 0 || i+1 >= len(s) || s[i+1] != '"' {
			return nil, false
		}
		keys = append(keys, s[:i])
		q, err := strconv.QuotedPrefix(s[i+1:])
		if err != nil {
			return nil, false
		}
		s = strings.TrimLeft(s[i+1+len(q):], " ")
	}
	return keys, true
}
