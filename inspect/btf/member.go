package btf

import (
	"fmt"
	"strconv"
	"strings"

	"dumpscope/model"
)

// Target returns the type t refers to (t.Ref, or the target of a pointer
// or array made from a C declaration).
func (s *Spec) Target(t Type) (Type, error) {
	if t.ref != nil {
		return *t.ref, nil
	}
	return s.TypeByID(t.Ref)
}

// isModifier reports the kinds that name another type without changing
// its layout: typedef, volatile, const, restrict, type_tag.
func isModifier(k Kind) bool {
	return k == KindTypedef || k == KindVolatile || k == KindConst || k == KindRestrict || k == KindTypeTag
}

// Resolve follows typedefs and qualifiers (const, volatile, restrict,
// type_tag) to the type that gives the layout, at most 32 steps (a cycle
// in damaged BTF is an error, not a hang).
func (s *Spec) Resolve(t Type) (Type, error) {
	start := t
	for range maxResolveDepth {
		if !isModifier(t.Kind) {
			return t, nil
		}
		next, err := s.Target(t)
		if err != nil {
			return t, fmt.Errorf("resolving %s: %w", s.TypeName(start), err)
		}
		t = next
	}
	return t, fmt.Errorf("resolving type %d: more than %d typedefs and qualifiers (a cycle?): %w", start.ID, maxResolveDepth, model.ErrCorrupt)
}

// Size returns the size in bytes of a type: ints, enums, structs, unions
// and floats give their own, pointers the pointer size, arrays their
// element size times their length; typedefs and qualifiers are resolved.
// Void, functions and forward declarations have no size (an error).
func (s *Spec) Size(t Type) (uint64, error) {
	return s.size(t, 0)
}

func (s *Spec) size(t Type, depth int) (uint64, error) {
	if depth > maxResolveDepth {
		return 0, fmt.Errorf("size of type %d: nested deeper than %d (a cycle?): %w", t.ID, maxResolveDepth, model.ErrCorrupt)
	}
	r, err := s.Resolve(t)
	if err != nil {
		return 0, err
	}
	switch r.Kind {
	case KindInt, KindEnum, KindEnum64, KindStruct, KindUnion, KindFloat, KindDatasec:
		return r.Size, nil
	case KindPtr:
		return uint64(s.PointerSize()), nil
	case KindArray:
		_, es, err := s.elem(r, depth+1)
		if err != nil {
			return 0, err
		}
		if es != 0 && uint64(r.Nelems) > (1<<63)/es {
			return 0, fmt.Errorf("size of %s: %d elements of %d bytes overflow: %w", s.TypeName(r), r.Nelems, es, model.ErrCorrupt)
		}
		return es * uint64(r.Nelems), nil
	case KindVar:
		v, err := s.Target(r)
		if err != nil {
			return 0, err
		}
		return s.size(v, depth+1)
	}
	return 0, fmt.Errorf("%s (%s) has no size: %w", s.TypeName(r), r.Kind, model.ErrNotFound)
}

// elem returns an array's element type and its size, sized at depth (as
// size counts it).
func (s *Spec) elem(array Type, depth int) (Type, uint64, error) {
	elem, err := s.Target(array)
	if err != nil {
		return Type{}, 0, err
	}
	es, err := s.size(elem, depth)
	return elem, es, err
}

// Field is where a member path leads inside a type.
type Field struct {
	// Offset is the byte offset from the start of the outer type: for a
	// bitfield, of the byte that holds its first bit.
	Offset uint64
	// BitOffset is the offset in bits from the start of the outer type.
	BitOffset uint64
	// BitfieldSize is the width of a bitfield in bits, 0 for an ordinary
	// member (either encoding: a kind_flag struct's member, or an INT with
	// BTF_INT_BITS narrower than its size).
	BitfieldSize uint32
	// Type is the member's type as declared (typedefs kept).
	Type Type
}

// Field follows a member path inside t: member names separated by dots,
// array indexes in brackets ("thread.sp", "mem[1].base", "[3]" on an
// array), looking through anonymous structs and unions. It does not
// follow pointers: offsets are within one object. Errors are
// *MemberError naming the missing member and the type searched.
func (s *Spec) Field(t Type, path string) (Field, error) {
	f := Field{Type: t}
	rest := path
	for rest != "" {
		var comp string
		comp, rest = nextComponent(rest)
		cur, err := s.Resolve(f.Type)
		if err != nil {
			return f, err
		}
		if strings.HasPrefix(comp, "[") {
			f, err = s.index(f, cur, comp, path)
		} else {
			f, err = s.memberStep(f, cur, comp, path)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// FieldOf is Field on a path that starts with a struct or union name
// ("task_struct.thread.sp", "rq.curr"): the first component is looked up
// as a struct, then a union, then a typedef.
func (s *Spec) FieldOf(path string) (Type, Field, error) {
	name, rest, _ := strings.Cut(path, ".")
	if i := strings.IndexByte(name, '['); i >= 0 { // "atomic_long_t[2]..."
		if rest != "" {
			rest = "." + rest
		}
		name, rest = name[:i], name[i:]+rest
	}
	var t Type
	var err error
	for _, k := range []Kind{KindStruct, KindUnion, KindTypedef} {
		if t, err = s.FindType(k, name); err == nil {
			break
		}
	}
	if err != nil {
		return Type{}, Field{}, fmt.Errorf("no struct, union or typedef named %q: %w", name, model.ErrNotFound)
	}
	f, err := s.Field(t, rest)
	return t, f, err
}

// nextComponent splits "a.b[2].c" into "a" and "b[2].c", "[2].c" into
// "[2]" and ".c" → "c".
func nextComponent(p string) (string, string) {
	p = strings.TrimPrefix(p, ".")
	if strings.HasPrefix(p, "[") {
		if i := strings.IndexByte(p, ']'); i >= 0 {
			return p[:i+1], strings.TrimPrefix(p[i+1:], ".")
		}
		return p, ""
	}
	i := strings.IndexAny(p, ".[")
	if i < 0 {
		return p, ""
	}
	return p[:i], strings.TrimPrefix(p[i:], ".")
}

func (s *Spec) index(f Field, cur Type, comp, path string) (Field, error) {
	mErr := &MemberError{Type: s.TypeName(f.Type), Member: comp, Path: path, Err: model.ErrNotFound}
	if cur.Kind != KindArray {
		mErr.Msg = "cannot index " + comp + ": not an array"
		return f, mErr
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(comp[1:], "]"), 0, 32)
	if err != nil || !strings.HasSuffix(comp, "]") {
		mErr.Msg = "bad array index " + quote(comp)
		return f, mErr
	}
	// Flexible arrays (nelems 0) can be indexed: the caller knows their
	// length from elsewhere.
	if cur.Nelems != 0 && n >= uint64(cur.Nelems) {
		mErr.Msg = fmt.Sprintf("index %d out of bounds [0,%d)", n, cur.Nelems)
		return f, mErr
	}
	elem, es, err := s.elem(cur, 0)
	if err != nil {
		return f, err
	}
	if es != 0 && n > (1<<60)/es {
		mErr.Msg = fmt.Sprintf("index %d of %d-byte elements overflows", n, es)
		return f, mErr
	}
	f.Offset += n * es
	f.BitOffset += 8 * n * es
	f.BitfieldSize = 0
	f.Type = elem
	return f, nil
}

func (s *Spec) memberStep(f Field, cur Type, name, path string) (Field, error) {
	if cur.Kind != KindStruct && cur.Kind != KindUnion {
		return f, &MemberError{Type: s.TypeName(f.Type), Member: name, Path: path, Err: model.ErrNotFound,
			Msg: fmt.Sprintf("no member %q: not a struct or union (%s)", name, cur.Kind)}
	}
	budget := memberBudget
	m, bitOff, found, err := s.findMember(cur, name, 0, &budget)
	if err != nil {
		return f, err
	}
	if !found {
		return f, &MemberError{Type: s.TypeName(cur), Member: name, Path: path, Err: model.ErrNotFound}
	}
	f.BitOffset += bitOff
	f.BitfieldSize = uint32(m.BitfieldSize)
	f.Type, err = s.TypeByID(m.Type)
	if err != nil {
		return f, err
	}
	if m.BitfieldSize == 0 {
		// BTF without kind_flag encodes a bitfield as an INT whose bits
		// are narrower than its size, placed BTF_INT_OFFSET bits in
		// (Documentation/bpf/btf.rst 2.2.1).
		if r, err := s.Resolve(f.Type); err == nil && r.Kind == KindInt && (r.IntOffset != 0 || uint64(r.Bits) < 8*r.Size) {
			f.BitOffset += uint64(r.IntOffset)
			f.BitfieldSize = uint32(r.Bits)
		}
	}
	f.Offset = f.BitOffset / 8
	return f, nil
}

// memberBudget bounds the anonymous structs and unions one member lookup
// descends into: each can hold several, so damaged BTF could otherwise
// make a lookup exponential in the nesting depth. task_struct, the
// deepest user, has a few dozen.
const memberBudget = 4096

// findMember searches a struct or union for a member by name: its own
// named members first, then inside its anonymous struct and union
// members (C11 6.7.2.1: their members are members of the containing
// type; names are unique, so the order only matters for damaged BTF,
// where it keeps a cycle behind an anonymous member from hiding a direct
// member). It returns the member and its bit offset from the start of t,
// reading nothing but the names it compares.
func (s *Spec) findMember(t Type, name string, depth int, budget *int) (Member, uint64, bool, error) {
	if *budget--; *budget < 0 {
		return Member{}, 0, false, fmt.Errorf("more than %d anonymous members searched for %q (damaged BTF?): %w", memberBudget, name, model.ErrCorrupt)
	}
	if depth > maxResolveDepth {
		return Member{}, 0, false, fmt.Errorf("anonymous members of %s nested deeper than %d (a cycle?): %w", s.TypeName(t), maxResolveDepth, model.ErrCorrupt)
	}
	o, recs, err := s.vlenRecords(t, 12, KindStruct, KindUnion)
	if err != nil {
		return Member{}, 0, false, err
	}
	bo := o.ByteOrder
	n := len(recs) / 12
	for i := range n {
		nm, err := o.name(bo.Uint32(recs[12*i:]))
		if err != nil {
			return Member{}, 0, false, fmt.Errorf("member %d of %s: %w", i, s.TypeName(t), err)
		}
		if len(nm) > 0 && string(nm) == name {
			m, err := o.member(recs, i, t.KindFlag)
			return m, uint64(m.BitOffset), err == nil, err
		}
	}
	for i := range n {
		if nm, _ := o.name(bo.Uint32(recs[12*i:])); len(nm) > 0 {
			continue
		}
		m, err := o.member(recs, i, t.KindFlag)
		if err != nil {
			return Member{}, 0, false, err
		}
		inner, err := s.TypeByID(m.Type)
		if err != nil {
			return Member{}, 0, false, err
		}
		if inner, err = s.Resolve(inner); err != nil || inner.Kind != KindStruct && inner.Kind != KindUnion {
			continue // an unnamed bitfield (padding), or damaged
		}
		im, off, found, err := s.findMember(inner, name, depth+1, budget)
		if err != nil || found {
			return im, uint64(m.BitOffset) + off, found, err
		}
	}
	return Member{}, 0, false, nil
}
