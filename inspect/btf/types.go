package btf

import (
	"fmt"

	"dumpscope/model"
)

// Type is one decoded type record: struct btf_type and its kind's
// singular tail. Vlen records (members, enumerators, parameters,
// variables of a section) are read on demand with Members, Enumerators,
// Params and Vars, so a Type is small and costs one name string.
type Type struct {
	ID       TypeID
	Kind     Kind
	Name     string // "" for anonymous types
	KindFlag bool   // bitfield members (struct, union), union (fwd), signed (enum, enum64)
	Vlen     int    // members, enumerators, parameters, variables; linkage (func)

	// Size in bytes: int, struct, union, enum, enum64, datasec, float.
	Size uint64
	// Ref is the type referred to: ptr, typedef, volatile, const,
	// restrict, type_tag (the target); func (its func_proto); func_proto
	// (the return type, 0 for void); var (the variable's type); decl_tag
	// (the tagged type); array (the element type).
	Ref TypeID

	// Int: BTF_INT_ENCODING, BTF_INT_OFFSET, BTF_INT_BITS.
	Encoding  IntEncoding
	IntOffset uint8
	Bits      uint8

	// Array: struct btf_array.
	Index  TypeID // the index type
	Nelems uint32

	// Var: btf_var.linkage; Func: the vlen (BTF_FUNC_STATIC, _GLOBAL,
	// _EXTERN).
	Linkage uint32
	// DeclTag: btf_decl_tag.component_idx, -1 for the type itself.
	Component int32

	// ref is the target of a pointer or array made by ParseType (a C
	// declaration), which has no ID of its own. Nil for types from the
	// blob.
	ref *Type
}

// IntEncoding is the BTF_INT_ENCODING bit set.
type IntEncoding uint8

// BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL.
const (
	IntSigned IntEncoding = 1 << 0
	IntChar   IntEncoding = 1 << 1
	IntBool   IntEncoding = 1 << 2
)

// Void is type ID 0.
var voidType = Type{Kind: KindVoid}

// TypeByID decodes one type record.
func (s *Spec) TypeByID(id TypeID) (Type, error) {
	if id == 0 {
		return voidType, nil
	}
	o, off, err := s.record(id)
	if err != nil {
		return Type{}, err
	}
	return o.decode(id, off)
}

// decode reads the record at off of this Spec's type section; the
// section walk guaranteed that the whole record lies inside it.
func (s *Spec) decode(id TypeID, off int) (Type, error) {
	b, bo := s.types[off:], s.ByteOrder
	info := bo.Uint32(b[4:])
	t := Type{
		ID:       id,
		Kind:     infoKind(info),
		KindFlag: infoKindFlag(info),
		Vlen:     int(infoVlen(info)),
	}
	name, err := s.nameString(bo.Uint32(b))
	t.Name = name
	if err != nil {
		return t, fmt.Errorf("type %d (%s): %w", id, t.Kind, err)
	}
	sizeType := bo.Uint32(b[8:])
	tail := b[typeHeaderSize:]
	switch t.Kind {
	case KindInt:
		t.Size = uint64(sizeType)
		v := bo.Uint32(tail)
		t.Encoding = IntEncoding(v >> 24 & 0x0f)
		t.IntOffset = uint8(v >> 16)
		t.Bits = uint8(v)
	case KindStruct, KindUnion, KindEnum, KindEnum64, KindDatasec, KindFloat:
		t.Size = uint64(sizeType)
	case KindArray:
		t.Ref = TypeID(bo.Uint32(tail))
		t.Index = TypeID(bo.Uint32(tail[4:]))
		t.Nelems = bo.Uint32(tail[8:])
	case KindVar:
		t.Ref = TypeID(sizeType)
		t.Linkage = bo.Uint32(tail)
	case KindDeclTag:
		t.Ref = TypeID(sizeType)
		t.Component = int32(bo.Uint32(tail))
	case KindFunc:
		t.Ref = TypeID(sizeType)
		t.Linkage = uint32(t.Vlen)
	case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag, KindFuncProto:
		t.Ref = TypeID(sizeType)
	}
	return t, nil
}

// Member is one struct btf_member of a struct or union.
type Member struct {
	Name string
	Type TypeID
	// BitOffset is the member's offset in bits from the start of the
	// struct: btf_member.offset, or its low 24 bits when the struct has
	// kind_flag set.
	BitOffset uint32
	// BitfieldSize is the high 8 bits of btf_member.offset when the struct
	// has kind_flag set: the width of a bitfield, 0 for an ordinary
	// member. Bitfields of BTF without kind_flag are INT types with
	// BTF_INT_BITS narrower than their size: see Field.
	BitfieldSize uint8
}

// Enumerator is a struct btf_enum or btf_enum64 of an enum.
type Enumerator struct {
	Name string
	// Value is the value extended to 64 bits by the enum's signedness
	// (kind_flag): compare it with a value read from memory extended the
	// same way (EnumName does).
	Value uint64
}

// Param is a struct btf_param of a func_proto. A variadic prototype ends
// with a parameter of type 0 and no name.
type Param struct {
	Name string
	Type TypeID
}

// VarSecinfo is a struct btf_var_secinfo of a datasec: a variable, its
// offset in the section and its size.
type VarSecinfo struct {
	Type   TypeID
	Offset uint32
	Size   uint32
}

// vlenRecords returns the vlen tail of t's record after checking t's kind
// and that the record is from this Spec chain.
func (s *Spec) vlenRecords(t Type, elem int, kinds ...Kind) (*Spec, []byte, error) {
	ok := false
	for _, k := range kinds {
		ok = ok || t.Kind == k
	}
	if !ok || t.ID == 0 {
		return nil, nil, fmt.Errorf("%s is a %s, not a %v: %w", label(t), t.Kind, kinds, model.ErrNotFound)
	}
	o, off, err := s.record(t.ID)
	if err != nil {
		return nil, nil, err
	}
	info := o.ByteOrder.Uint32(o.types[off+4:])
	start := off + typeHeaderSize + int(kindLayouts[t.Kind].InfoSize)
	n := int(infoVlen(info))
	return o, o.types[start : start+n*elem], nil
}

// Members reads the members of a struct or union.
func (s *Spec) Members(t Type) ([]Member, error) {
	o, b, err := s.vlenRecords(t, 12, KindStruct, KindUnion)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(b)/12)
	for i := range out {
		out[i], err = o.member(b, i, t.KindFlag)
		if err != nil {
			return out[:i], fmt.Errorf("member %d of %s: %w", i, label(t), err)
		}
	}
	return out, nil
}

func (s *Spec) member(b []byte, i int, kflag bool) (Member, error) {
	r := b[12*i:]
	m := Member{Type: TypeID(s.ByteOrder.Uint32(r[4:]))}
	off := s.ByteOrder.Uint32(r[8:])
	if kflag {
		m.BitOffset, m.BitfieldSize = off&0xffffff, uint8(off>>24)
	} else {
		m.BitOffset = off
	}
	var err error
	m.Name, err = s.nameString(s.ByteOrder.Uint32(r))
	return m, err
}

// Enumerators reads the values of an enum or enum64.
func (s *Spec) Enumerators(t Type) ([]Enumerator, error) {
	elem := 8
	if t.Kind == KindEnum64 {
		elem = 12
	}
	o, b, err := s.vlenRecords(t, elem, KindEnum, KindEnum64)
	if err != nil {
		return nil, err
	}
	out := make([]Enumerator, len(b)/elem)
	for i := range out {
		var name uint32
		name, out[i].Value = o.enumerator(b, i, t)
		out[i].Name, err = o.nameString(name)
		if err != nil {
			return out[:i], fmt.Errorf("enumerator %d of %s: %w", i, label(t), err)
		}
	}
	return out, nil
}

// enumerator decodes the i-th value of an enum's vlen records: its name
// offset and its value extended by the enum's signedness (kind_flag set:
// signed, include/uapi/linux/btf.h).
func (s *Spec) enumerator(b []byte, i int, t Type) (uint32, uint64) {
	bo := s.ByteOrder
	if t.Kind == KindEnum64 {
		r := b[12*i:]
		return bo.Uint32(r), uint64(bo.Uint32(r[8:]))<<32 | uint64(bo.Uint32(r[4:]))
	}
	r := b[8*i:]
	v := bo.Uint32(r[4:])
	if t.KindFlag {
		return bo.Uint32(r), uint64(int64(int32(v)))
	}
	return bo.Uint32(r), uint64(v)
}

// Params reads the parameters of a func_proto.
func (s *Spec) Params(t Type) ([]Param, error) {
	o, b, err := s.vlenRecords(t, 8, KindFuncProto)
	if err != nil {
		return nil, err
	}
	out := make([]Param, len(b)/8)
	for i := range out {
		out[i].Type = TypeID(o.ByteOrder.Uint32(b[8*i+4:]))
		out[i].Name, err = o.nameString(o.ByteOrder.Uint32(b[8*i:]))
		if err != nil {
			return out[:i], fmt.Errorf("parameter %d of %s: %w", i, label(t), err)
		}
	}
	return out, nil
}

// Vars reads the variables of a datasec.
func (s *Spec) Vars(t Type) ([]VarSecinfo, error) {
	o, b, err := s.vlenRecords(t, 12, KindDatasec)
	if err != nil {
		return nil, err
	}
	out := make([]VarSecinfo, len(b)/12)
	bo := o.ByteOrder
	for i := range out {
		r := b[12*i:]
		out[i] = VarSecinfo{Type: TypeID(bo.Uint32(r)), Offset: bo.Uint32(r[4:]), Size: bo.Uint32(r[8:])}
	}
	return out, nil
}

// label names a type for an error message without decoding anything
// else (TypeName would read parameters and referred types, and an error
// in those must not recurse into another message).
func label(t Type) string {
	if t.Name == "" {
		return fmt.Sprintf("%s type %d", t.Kind, t.ID)
	}
	return fmt.Sprintf("%s %s (type %d)", t.Kind, t.Name, t.ID)
}
