package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dumpscope/inspect/btf"
	"dumpscope/model"
)

// StructOptions shape what Struct shows.
type StructOptions struct {
	// Depth bounds the nesting shown below the object (structs, unions and
	// arrays deeper print as "{...}"); 0 means 12.
	Depth int
	// Hex prints integers in hexadecimal (crash's struct -x).
	Hex bool
}

// maxStructDepth bounds Depth.
const maxStructDepth = 64

// Struct reads a kernel object typed from the dump's own BTF at addr, as
// crash's `struct TYPE ADDR` shows it: nested members, char arrays as
// strings, pointers in hex with the symbol they point to, enums by name.
// typ names a struct, union or typedef ("task_struct", "struct
// task_struct", "union thread_union"), optionally with a member path
// ("task_struct.thread.sp", "module.mem[0]"): then only that member is
// shown, read at its place in the object. Types are looked up in vmlinux
// BTF, then in the modules' split BTF.
func (k *Kernel) Struct(ctx context.Context, typ string, addr uint64, o StructOptions) (*model.Struct, error) {
	what := fmt.Sprintf("%s at %#x", typ, addr)
	if o.Depth <= 0 {
		o.Depth = 12
	}
	o.Depth = min(o.Depth, maxStructDepth)
	kind, name, path, err := parseTypeArg(typ)
	if err != nil {
		return nil, &MissingError{File: k.name, What: what, Err: err}
	}
	spec, err := k.BTF(ctx)
	if err != nil {
		return nil, err
	}
	t, from, s, err := k.findStructType(ctx, spec, kind, name)
	if err != nil {
		return nil, &MissingError{File: k.name, What: what, Err: err}
	}
	at := addr
	vt := t
	if path != "" {
		f, err := s.Field(t, path)
		if err != nil {
			return nil, &MissingError{File: k.name, What: what, Err: err}
		}
		if f.BitfieldSize != 0 {
			return nil, &MissingError{File: k.name, What: what,
				Err: fmt.Errorf("%s is a bitfield of %d bits: show the structure that holds it: %w", path, f.BitfieldSize, model.ErrUnsupported)}
		}
		at, vt = addr+f.Offset, f.Type
	}
	read := func(va uint64, p []byte) error { return k.readVirt(ctx, va, p) }
	v, err := s.Format(vt, read, at, btf.FormatOptions{MaxDepth: o.Depth, Hex: o.Hex, Symbolize: k.pointerName(ctx)})
	if err != nil {
		return nil, &MissingError{File: k.name, What: what, Err: err}
	}
	if path != "" {
		v.Name = path
	}
	out := &model.Struct{Type: s.TypeName(t), Member: path, Addr: model.VirtAddr(addr), Value: v, From: from}
	if v.Error != "" && len(v.Children) == 0 {
		// Nothing of the object could be read: say why, with what would
		// have kept it.
		var b [1]byte
		if err := k.readVirt(ctx, at, b[:]); err != nil {
			return out, k.missing(what, err)
		}
		return out, &MissingError{File: k.name, What: what, Err: fmt.Errorf("%s: %w", v.Error, model.ErrPageAbsent)}
	}
	return out, nil
}

// parseTypeArg splits "struct task_struct.thread.sp" into the kind
// keyword, the type name and the member path.
func parseTypeArg(typ string) (kind, name, path string, err error) {
	s := strings.TrimSpace(typ)
	for _, kw := range []string{"struct", "union", "enum"} {
		if rest, ok := strings.CutPrefix(s, kw+" "); ok {
			kind, s = kw, strings.TrimSpace(rest)
			break
		}
	}
	end := strings.IndexAny(s, ".[")
	if end < 0 {
		end = len(s)
	}
	name, path = s[:end], strings.TrimPrefix(s[end:], ".")
	if name == "" || strings.ContainsAny(name, " *()") {
		return "", "", "", fmt.Errorf("%q is not a type name (TYPE or TYPE.member, like task_struct.comm): %w", typ, model.ErrNotFound)
	}
	return kind, name, path, nil
}

// findStructType looks a type up in vmlinux BTF, then in each module's.
func (k *Kernel) findStructType(ctx context.Context, spec *btf.Spec, kind, name string) (btf.Type, string, *btf.Spec, error) {
	kinds := []btf.Kind{btf.KindStruct, btf.KindUnion, btf.KindTypedef, btf.KindEnum, btf.KindInt}
	switch kind {
	case "struct":
		kinds = []btf.Kind{btf.KindStruct}
	case "union":
		kinds = []btf.Kind{btf.KindUnion}
	case "enum":
		kinds = []btf.Kind{btf.KindEnum}
	}
	find := func(s *btf.Spec) (btf.Type, error) {
		var first error
		for _, kd := range kinds {
			t, err := s.FindType(kd, name)
			if err == nil {
				return t, nil
			}
			if first == nil || !errors.Is(err, model.ErrNotFound) {
				first = err
			}
		}
		return btf.Type{}, first
	}
	t, err := find(spec)
	if err == nil {
		return t, "vmlinux", spec, nil
	}
	mods, _ := k.moduleSpecs(ctx)
	for _, m := range mods {
		if mt, merr := find(m.spec); merr == nil && mt.ID >= m.spec.FirstID() {
			return mt, m.name, m.spec, nil
		}
	}
	return btf.Type{}, "", nil, err
}

// pointerName names what a pointer points to, for Format.
func (k *Kernel) pointerName(ctx context.Context) func(uint64) (string, bool) {
	return func(va uint64) (string, bool) {
		r, ok := k.Symbolize(ctx, va)
		if !ok {
			return "", false
		}
		s := r.Symbol.Name
		if r.Offset != 0 {
			s += fmt.Sprintf("+%#x", r.Offset)
		}
		if r.Module != "" {
			s += " [" + r.Module + "]"
		}
		return s, true
	}
}
