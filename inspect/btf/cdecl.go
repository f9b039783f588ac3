package btf

import (
	"fmt"
	"strconv"
	"strings"

	"dumpscope/model"
)

// TypeName names a type as C (and gdb, and so crash) prints it:
// "unsigned int", "struct list_head *", "char [16]",
// "void (*)(struct work_struct *)", "const char *". Anonymous structs and
// unions print as "struct {...}". btf_type_tag annotations (__user,
// __percpu, __rcu) are not part of C's spelling and are left out.
func (s *Spec) TypeName(t Type) string {
	budget := declBudget
	return strings.TrimSpace(s.declarator(t, "", 0, &budget))
}

// declBudget bounds the types one name visits: a prototype's parameters
// can be prototypes again, so damaged BTF could otherwise make a name
// exponential in the nesting depth.
const declBudget = 512

// Declaration is the C declaration of name with type t: "char comm[16]",
// "struct list_head *next", "void (*func)(struct callback_head *)".
func (s *Spec) Declaration(t Type, name string) string {
	budget := declBudget
	return strings.TrimSpace(s.declarator(t, name, 0, &budget))
}

// declarator builds a C declaration inside out: pointers prefix "*",
// arrays and function parameters suffix, and a pointer to an array or a
// function parenthesises what it has so far.
func (s *Spec) declarator(t Type, inner string, depth int, budget *int) string {
	if *budget--; *budget < 0 {
		return "<type too large> " + inner
	}
	if depth > maxResolveDepth {
		return "<type nested too deep> " + inner
	}
	target := func() (Type, bool) {
		r, err := s.Target(t)
		return r, err == nil
	}
	switch t.Kind {
	case KindPtr:
		r, ok := target()
		if !ok {
			return fmt.Sprintf("<bad type %d> *%s", t.Ref, inner)
		}
		if r.Kind == KindFuncProto || r.Kind == KindArray {
			return s.declarator(r, "(*"+inner+")", depth+1, budget)
		}
		return s.declarator(r, "*"+inner, depth+1, budget)
	case KindArray:
		r, ok := target()
		if !ok {
			return fmt.Sprintf("<bad type %d> %s[%d]", t.Ref, inner, t.Nelems)
		}
		n := ""
		if t.Nelems != 0 {
			n = strconv.FormatUint(uint64(t.Nelems), 10)
		}
		return s.declarator(r, inner+"["+n+"]", depth+1, budget)
	case KindFuncProto:
		r, ok := target()
		if !ok {
			return fmt.Sprintf("<bad type %d> %s()", t.Ref, inner)
		}
		return s.declarator(r, inner+"("+s.paramList(t, depth, budget)+")", depth+1, budget)
	case KindConst, KindVolatile, KindRestrict:
		q := t.Kind.String()
		r, ok := target()
		if !ok {
			return fmt.Sprintf("%s <bad type %d> %s", q, t.Ref, inner)
		}
		if r.Kind == KindPtr { // "char *const p": the qualifier follows the star
			return s.declarator(r, q+" "+inner, depth+1, budget)
		}
		return q + " " + s.declarator(r, inner, depth+1, budget)
	case KindTypeTag:
		r, ok := target()
		if !ok {
			return fmt.Sprintf("<bad type %d> %s", t.Ref, inner)
		}
		return s.declarator(r, inner, depth+1, budget)
	case KindFunc:
		if r, ok := target(); ok && r.Kind == KindFuncProto {
			return s.declarator(r, t.Name+inner, depth+1, budget)
		}
	}
	base := s.baseName(t)
	if inner == "" {
		return base
	}
	return base + " " + inner
}

// baseName is the name of a type that has no declarator of its own.
func (s *Spec) baseName(t Type) string {
	tag := func(kw string) string {
		if t.Name == "" {
			return kw + " {...}"
		}
		return kw + " " + t.Name
	}
	switch t.Kind {
	case KindVoid:
		return "void"
	case KindStruct:
		return tag("struct")
	case KindUnion:
		return tag("union")
	case KindEnum, KindEnum64:
		return tag("enum")
	case KindFwd:
		if t.KindFlag {
			return tag("union")
		}
		return tag("struct")
	}
	if t.Name == "" {
		return fmt.Sprintf("<anonymous %s>", t.Kind)
	}
	return t.Name
}

func (s *Spec) paramList(t Type, depth int, budget *int) string {
	ps, err := s.Params(t)
	if err != nil {
		return "<bad parameters>"
	}
	if len(ps) == 0 {
		return "void"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.Type == 0 && i == len(ps)-1 {
			parts[i] = "..."
			continue
		}
		pt, err := s.TypeByID(p.Type)
		if err != nil {
			parts[i] = fmt.Sprintf("<bad type %d>", p.Type)
			continue
		}
		parts[i] = strings.TrimSpace(s.declarator(pt, "", depth+1, budget))
	}
	return strings.Join(parts, ", ")
}

// Decl is a parsed C declaration of the simple kind a caller writes down
// for a kernel global: a base type, pointers, array dimensions and an
// optional name ("struct list_head modules", "unsigned long
// __per_cpu_offset[]", "struct task_struct *").
type Decl struct {
	// Kind says which name space Name is looked up in: KindStruct,
	// KindUnion, KindEnum, KindInt (C's integer words, canonicalised),
	// KindFloat, KindTypedef (any other name), KindVoid.
	Kind Kind
	// Name is the tag or type name: "task_struct", "unsigned long",
	// "atomic_t".
	Name string
	// Pointers counts the stars.
	Pointers int
	// Dims are the array dimensions in the order written; -1 for [].
	Dims []int64
	// Ident is the declared name, if the declaration has one.
	Ident string
}

// ParseDecl parses a C declaration: qualifiers (ignored), a base type
// ("struct X", "union X", "enum X", integer words such as "unsigned
// long", "void", or a typedef name), stars, an optional identifier and
// array dimensions. Function declarators are not supported.
func ParseDecl(decl string) (Decl, error) {
	toks, err := tokenize(decl)
	if err != nil {
		return Decl{}, err
	}
	var d Decl
	var words []string
	i := 0
	bad := func(why string) (Decl, error) {
		return Decl{}, fmt.Errorf("declaration %q: %s: %w", decl, why, model.ErrUnsupported)
	}
	isQual := func(w string) bool { return w == "const" || w == "volatile" || w == "restrict" }
	for ; i < len(toks); i++ {
		w := toks[i]
		switch {
		case isQual(w):
		case w == "struct" || w == "union" || w == "enum":
			if len(words) > 0 || d.Kind != 0 || i+1 >= len(toks) || !isIdent(toks[i+1]) {
				return bad("expected a tag name after " + w)
			}
			d.Kind, d.Name = map[string]Kind{"struct": KindStruct, "union": KindUnion, "enum": KindEnum}[w], toks[i+1]
			i++
		case intWord(w):
			if d.Kind != 0 {
				return bad("integer word " + w + " after a type name")
			}
			words = append(words, w)
		case isIdent(w) && d.Kind == 0 && len(words) == 0:
			d.Kind, d.Name = KindTypedef, w
		default:
			goto declarator
		}
	}
declarator:
	if len(words) > 0 {
		d.Kind, d.Name, err = canonicalInt(words)
		if err != nil {
			return bad(err.Error())
		}
	}
	if d.Kind == 0 { // KindVoid is 0 too, but void is read as a typedef name first
		return bad("no type")
	}
	if d.Kind == KindTypedef && d.Name == "void" {
		d.Kind = KindVoid
	}
	for ; i < len(toks) && (toks[i] == "*" || isQual(toks[i])); i++ {
		if toks[i] == "*" {
			d.Pointers++
		}
	}
	if i < len(toks) && isIdent(toks[i]) {
		d.Ident = toks[i]
		i++
	}
	for i < len(toks) && toks[i] == "[" {
		switch {
		case i+1 < len(toks) && toks[i+1] == "]":
			d.Dims = append(d.Dims, -1)
			i += 2
		case i+2 < len(toks) && toks[i+2] == "]":
			n, err := strconv.ParseUint(toks[i+1], 0, 32)
			if err != nil {
				return bad("array dimension " + toks[i+1])
			}
			d.Dims = append(d.Dims, int64(n))
			i += 3
		default:
			return bad("unterminated [")
		}
	}
	if i < len(toks) {
		return bad("unexpected " + quote(toks[i]))
	}
	if d.Kind == KindVoid && d.Pointers == 0 && len(d.Dims) == 0 && d.Ident != "" {
		return bad("a void object")
	}
	return d, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == ';':
			i++
		case c == '*' || c == '[' || c == ']':
			toks = append(toks, s[i:i+1])
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("declaration %q: unexpected %q (function declarators and expressions are not supported): %w", s, c, model.ErrUnsupported)
		}
		if len(toks) > 64 {
			return nil, fmt.Errorf("declaration %q: too long: %w", s, model.ErrUnsupported)
		}
	}
	return toks, nil
}

func isIdent(w string) bool {
	return w != "" && (w[0] == '_' || w[0] >= 'a' && w[0] <= 'z' || w[0] >= 'A' && w[0] <= 'Z') && !intWord(w)
}

// intWord reports whether w is one of C's integer and floating words.
func intWord(w string) bool {
	switch w {
	case "signed", "unsigned", "char", "short", "int", "long", "_Bool", "float", "double":
		return true
	}
	return false
}

// canonicalInt turns C's integer and floating words in any order
// ("long unsigned", "unsigned long int") into one spelling, "unsigned
// long", that intSpellings expands to the names compilers give in DWARF
// and so in BTF.
func canonicalInt(words []string) (Kind, string, error) {
	n := map[string]int{}
	for _, w := range words {
		n[w]++
	}
	switch {
	case n["float"] == 1 && len(words) == 1:
		return KindFloat, "float", nil
	case n["double"] == 1 && len(words) == n["long"]+1 && n["long"] <= 1:
		return KindFloat, strings.Repeat("long ", n["long"]) + "double", nil
	case n["_Bool"] == 1 && len(words) == 1:
		return KindInt, "_Bool", nil
	case n["signed"]+n["unsigned"] > 1 || n["char"]+n["short"]+min(n["long"], 1) > 1 || n["long"] > 2 || n["int"] > 1 ||
		n["char"] == 1 && n["int"] == 1 || n["float"]+n["double"]+n["_Bool"] > 0:
		return 0, "", fmt.Errorf("bad integer type %q", strings.Join(words, " "))
	}
	sign := ""
	if n["unsigned"] == 1 {
		sign = "unsigned "
	}
	switch {
	case n["char"] == 1:
		if n["signed"] == 1 {
			sign = "signed "
		}
		return KindInt, sign + "char", nil
	case n["short"] == 1:
		return KindInt, sign + "short", nil
	case n["long"] == 2:
		return KindInt, sign + "long long", nil
	case n["long"] == 1:
		return KindInt, sign + "long", nil
	}
	return KindInt, sign + "int", nil
}

// intSpellings lists the names gcc and clang give a canonical integer
// type in DWARF (pahole copies them into BTF): gcc writes "long unsigned
// int", clang "unsigned long".
func intSpellings(canon string) []string {
	gcc := map[string]string{
		"short": "short int", "unsigned short": "short unsigned int",
		"long": "long int", "unsigned long": "long unsigned int",
		"long long": "long long int", "unsigned long long": "long long unsigned int",
		"unsigned int": "unsigned int", "int": "int",
	}
	out := []string{canon}
	if g, ok := gcc[canon]; ok && g != canon {
		out = append(out, g)
	}
	if canon == "unsigned int" {
		out = append(out, "unsigned")
	}
	return out
}

// ParseType parses a C declaration (see ParseDecl) and finds its base
// type in the BTF; pointers and arrays the BTF does not hold are made for
// it (they have ID 0 and print and size like any other).
func (s *Spec) ParseType(decl string) (Type, error) {
	d, err := ParseDecl(decl)
	if err != nil {
		return Type{}, err
	}
	return s.DeclType(d)
}

// DeclType finds the type a parsed declaration names.
func (s *Spec) DeclType(d Decl) (Type, error) {
	var t Type
	var err error
	switch d.Kind {
	case KindVoid:
		t = voidType
	case KindInt:
		err = fmt.Errorf("no integer type %q in BTF: %w", d.Name, model.ErrNotFound)
		for _, name := range intSpellings(d.Name) {
			if it, e := s.FindType(KindInt, name); e == nil {
				t, err = it, nil
				break
			}
		}
	case KindTypedef:
		t, err = s.FindType(KindTypedef, d.Name)
		if err != nil { // a base type spelt as one word, e.g. "bool" on a BTF without its typedef
			for _, k := range []Kind{KindInt, KindFloat} {
				if bt, e := s.FindType(k, d.Name); e == nil {
					t, err = bt, nil
					break
				}
			}
		}
	default:
		t, err = s.FindType(d.Kind, d.Name)
	}
	if err != nil {
		return Type{}, err
	}
	for range d.Pointers {
		target := t
		t = Type{Kind: KindPtr, Ref: target.ID, ref: &target}
	}
	for i := len(d.Dims) - 1; i >= 0; i-- {
		elem := t
		n := uint32(0)
		if d.Dims[i] > 0 {
			n = uint32(d.Dims[i])
		}
		t = Type{Kind: KindArray, Ref: elem.ID, Nelems: n, ref: &elem}
	}
	return t, nil
}
