package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"dumpscope/inspect/btf"
	"dumpscope/model"
	"dumpscope/reader"
)

// The kernel's own types come from BTF in its memory (package
// inspect/btf): vmlinux BTF lies in place between the kallsyms symbols
// __start_BTF and __stop_BTF (kernel/bpf/btf.c btf_parse_vmlinux reads it
// there), which a kernel has when built with CONFIG_DEBUG_INFO_BTF and
// names when built with CONFIG_KALLSYMS_ALL. Each module's split BTF hangs
// off the list btf_modules (see moduleBTF).

// BTF returns the kernel's vmlinux BTF, read from memory on first use.
// Only the blob is copied (a few MiB); types are decoded when asked for.
func (k *Kernel) BTF(ctx context.Context) (*btf.Spec, error) {
	return k.objs.btf.get(ctx, k.loadBTF)
}

// btfSymbols returns the kernel's BTF and its symbols, what every reader
// of kernel objects starts from.
func (k *Kernel) btfSymbols(ctx context.Context) (*btf.Spec, *Symbols, error) {
	spec, err := k.BTF(ctx)
	if err != nil {
		return nil, nil, err
	}
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, nil, err
	}
	return spec, syms, nil
}

func (k *Kernel) loadBTF(ctx context.Context) (*btf.Spec, error) {
	const what = "the kernel's BTF (types of task_struct, module, rq …)"
	syms, err := k.Symbols(ctx)
	if err != nil {
		return nil, k.missing(what, err)
	}
	start, ok1 := syms.addrOf("__start_BTF")
	stop, ok2 := syms.addrOf("__stop_BTF")
	if !ok1 || !ok2 {
		return nil, k.noBTF(syms, what)
	}
	if stop <= start || stop-start > btf.MaxBlobSize {
		return nil, &MissingError{File: k.name, What: what,
			Err: fmt.Errorf("__start_BTF %#x and __stop_BTF %#x do not bound a blob of 1..%d bytes: %w", start, stop, btf.MaxBlobSize, model.ErrCorrupt)}
	}
	read := k.reader(ctx)
	spec, err := btf.Load(btf.MemoryReader(btf.ReadFunc(read), start), int64(stop-start), nil)
	if err != nil {
		return nil, k.missing(fmt.Sprintf("%s at __start_BTF %#x", what, start), err)
	}
	return spec, nil
}

// noBTF explains why kallsyms names no BTF.
func (k *Kernel) noBTF(syms *Symbols, what string) error {
	if !syms.AllSymbols() {
		return &MissingError{File: k.name, What: what,
			Err:  fmt.Errorf("kallsyms holds text symbols only, so __start_BTF is not named: %w", model.ErrNotFound),
			Hint: "the kernel was built without CONFIG_KALLSYMS_ALL; data symbols (init_task, modules, __start_BTF) need it"}
	}
	return &MissingError{File: k.name, What: what,
		Err:  fmt.Errorf("kallsyms has no __start_BTF: %w", model.ErrNotFound),
		Hint: "the kernel was built without CONFIG_DEBUG_INFO_BTF, so it carries no types; tasks, modules and structures need them"}
}

// symAddr returns the address of a kallsyms symbol a feature needs, or
// an error that says why it is missing.
func (k *Kernel) symAddr(syms *Symbols, name, what string) (uint64, error) {
	if v, ok := syms.addrOf(name); ok {
		return v, nil
	}
	hint := ""
	if !syms.AllSymbols() {
		hint = "the kernel was built without CONFIG_KALLSYMS_ALL: kallsyms names its text only"
	}
	return 0, &MissingError{File: k.name, What: what,
		Err: fmt.Errorf("no symbol %s in kallsyms: %w", name, model.ErrNotFound), Hint: hint}
}

// field is where a member lies in a structure: byte offset and size
// (ok false when the kernel's structure has no such member).
type field struct {
	off, size uint64
	ok        bool
}

// layout resolves members of kernel structures in BTF for one reader.
// Required members that are missing are collected, so that one error
// names all of them.
type layout struct {
	spec    *btf.Spec
	missing []string
	err     error // damaged BTF
}

// field returns a member that must exist ("task_struct.pid").
func (l *layout) field(path string) field {
	f := l.optional(path)
	if !f.ok {
		l.missing = append(l.missing, path)
	}
	return f
}

// optional returns a member that some kernels lack.
func (l *layout) optional(path string) field {
	_, f, err := l.spec.FieldOf(path)
	if err != nil {
		if !isNotFound(err) && l.err == nil {
			l.err = err
		}
		return field{}
	}
	size, err := l.spec.Size(f.Type)
	if err != nil || f.BitfieldSize != 0 {
		return field{}
	}
	return field{off: f.Offset, size: size, ok: true}
}

// first returns the first of several member paths the kernel has (a
// member renamed across releases: task_struct.__state or .state).
func (l *layout) first(paths ...string) field {
	for _, p := range paths {
		if f := l.optional(p); f.ok {
			return f
		}
	}
	l.missing = append(l.missing, strings.Join(paths, " or "))
	return field{}
}

// size returns the size of a struct that must exist.
func (l *layout) size(name string) uint64 {
	t, err := l.spec.FindType(btf.KindStruct, name)
	if err == nil {
		var n uint64
		if n, err = l.spec.Size(t); err == nil {
			return n
		}
	}
	l.missing = append(l.missing, "struct "+name)
	return 0
}

// scalars checks that members read as integers or pointers are 1, 2, 4
// or 8 bytes and lie within a structure of size bytes (0: not checked):
// damaged BTF must not make a read large.
func (l *layout) scalars(size uint64, fs ...field) {
	for _, f := range fs {
		if !f.ok {
			continue
		}
		if f.size != 1 && f.size != 2 && f.size != 4 && f.size != 8 || size != 0 && f.off+f.size > size {
			if l.err == nil {
				l.err = fmt.Errorf("a member of %d bytes at offset %d is not an integer or pointer inside its structure: %w", f.size, f.off, model.ErrCorrupt)
			}
		}
	}
}

// check reports what was missing, naming what it was needed for.
func (l *layout) check(k *Kernel, what string) error {
	if l.err != nil {
		return &MissingError{File: k.name, What: what, Err: l.err}
	}
	if len(l.missing) == 0 {
		return nil
	}
	return &MissingError{File: k.name, What: what,
		Err:  fmt.Errorf("the kernel's BTF lacks %s: %w", strings.Join(l.missing, ", "), model.ErrNotFound),
		Hint: "a kernel release whose structures dumpscope does not know yet"}
}

func isNotFound(err error) bool {
	return errors.Is(err, model.ErrNotFound)
}

// uintAt reads an unsigned little-endian integer of f.size bytes at
// f.off in b (0 when the member is absent or does not fit).
func uintAt(b []byte, f field) uint64 {
	if !f.ok || f.off+f.size > uint64(len(b)) {
		return 0
	}
	v, _ := reader.UintAt(binary.LittleEndian, b[f.off:f.off+f.size])
	return v
}

// intAt reads a signed integer (sign-extended from f.size bytes).
func intAt(b []byte, f field) int64 {
	v := uintAt(b, f)
	switch f.size {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

// cString returns the NUL-terminated string of the char array f in b.
func cStringAt(b []byte, f field) string {
	if !f.ok || f.off+f.size > uint64(len(b)) {
		return ""
	}
	s := b[f.off : f.off+f.size]
	for i, c := range s {
		if c == 0 {
			return string(s[:i])
		}
	}
	return string(s)
}

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
