package btf

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"

	"dumpscope/model"
)

// lazyIndex is an open-addressing hash table from names to entries, built
// once on first use: slots hold an entry + 1 (0 is an empty slot), found
// by linear probing from the name's hash, so entries of one name appear
// in insertion (ID) order along their probe run. It has two to four slots
// a named item: type IDs take 4 bytes a slot, enumerators (type ID and
// index) 8. For Debian 6.1's vmlinux BTF (100,810 types)
// the name index is 512 KiB.
type lazyIndex[E uint32 | uint64] struct {
	once  sync.Once
	seed  maphash.Seed
	slots []E
}

func newSlots[E uint32 | uint64](n int) []E {
	size := 8
	if n > 2 {
		size = 1 << bits.Len(uint(2*n-1))
	}
	return make([]E, size)
}

func (x *lazyIndex[E]) insert(name []byte, entry E) {
	mask := uint64(len(x.slots) - 1)
	for i := maphash.Bytes(x.seed, name) & mask; ; i = (i + 1) & mask {
		if x.slots[i] == 0 {
			x.slots[i] = entry + 1
			return
		}
	}
}

// find calls fn with each entry whose hash run the name shares, in
// insertion order, until fn returns false; fn checks the name itself.
func (x *lazyIndex[E]) find(name string, fn func(entry E) bool) {
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, name) & mask; x.slots[i] != 0; i = (i + 1) & mask {
		if !fn(x.slots[i] - 1) {
			return
		}
	}
}

// indexed says which kinds live in the name space that lookups search:
// tags' names are their values, not names of types.
func indexed(k Kind) bool { return k != KindDeclTag && k != KindTypeTag }

// buildIndex fills x once with the entries each gives: each is called
// twice, to count the entries (which sizes the table) and to insert them.
// Entries without a name (name offset 0), and those whose name cannot be
// read or is empty, are left out: no lookup could find them.
func buildIndex[E uint32 | uint64](s *Spec, x *lazyIndex[E], each func(yield func(nameOff uint32, entry E))) *lazyIndex[E] {
	x.once.Do(func() {
		x.seed = maphash.MakeSeed()
		n := 0
		each(func(nameOff uint32, _ E) {
			if nameOff != 0 {
				n++
			}
		})
		x.slots = newSlots[E](n)
		each(func(nameOff uint32, entry E) {
			if nameOff == 0 {
				return
			}
			if name, err := s.name(nameOff); err == nil && len(name) > 0 {
				x.insert(name, entry)
			}
		})
	})
	return x
}

// nameIndex builds (once) the index of this blob's named types.
func (s *Spec) nameIndex() *lazyIndex[uint32] {
	return buildIndex(s, &s.names, func(yield func(uint32, uint32)) {
		for i, off := range s.offs {
			if indexed(infoKind(s.ByteOrder.Uint32(s.types[off+4:]))) {
				yield(s.ByteOrder.Uint32(s.types[off:]), uint32(s.firstID)+uint32(i))
			}
		}
	})
}

// eachByName calls fn for each type named name, in this blob (ID order)
// then in its base, until fn returns false. It decodes nothing but the
// names it compares.
func (s *Spec) eachByName(name string, fn func(o *Spec, id TypeID, off int) bool) {
	for o := s; o != nil; o = o.base {
		stop := false
		o.nameIndex().find(name, func(e uint32) bool {
			id := TypeID(e)
			off := int(o.offs[id-o.firstID])
			if n, err := o.name(o.ByteOrder.Uint32(o.types[off:])); err == nil && string(n) == name {
				stop = !fn(o, id, off)
			}
			return !stop
		})
		if stop {
			return
		}
	}
}

// TypesByName returns every type named name (structs, unions, enums,
// typedefs, forward declarations, ints, funcs, vars ...): this blob's
// first, in ID order, then its base's.
func (s *Spec) TypesByName(name string) ([]Type, error) {
	var out []Type
	var err error
	s.eachByName(name, func(o *Spec, id TypeID, off int) bool {
		var t Type
		t, err = o.decode(id, off)
		out = append(out, t)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no type named %q in BTF: %w", name, model.ErrNotFound)
	}
	return out, nil
}

// FindType returns the type of that kind and name: the first definition
// in this blob, then in its base. A C "enum X" may be an enum or an
// enum64, so KindEnum finds both. A struct, union or enum that is only
// declared (a fwd, or an enum without enumerators) is skipped while a
// full definition exists; when none does, the error says the type is
// only declared and wraps ErrNotFound.
func (s *Spec) FindType(kind Kind, name string) (Type, error) {
	var found, decl Type
	ok, declared := false, false
	var err error
	s.eachByName(name, func(o *Spec, id TypeID, off int) bool {
		info := o.ByteOrder.Uint32(o.types[off+4:])
		k := infoKind(info)
		match := k == kind || kind == KindEnum && k == KindEnum64
		isDecl := k == KindFwd && infoKindFlag(info) == (kind == KindUnion) && (kind == KindStruct || kind == KindUnion) ||
			match && (k == KindEnum || k == KindEnum64) && infoVlen(info) == 0
		if !match && !isDecl {
			return true
		}
		var t Type
		t, err = o.decode(id, off)
		if err != nil {
			return false
		}
		if isDecl {
			if !declared {
				decl, declared = t, true
			}
			return true
		}
		found, ok = t, true
		return false
	})
	switch {
	case err != nil:
		return Type{}, err
	case ok:
		return found, nil
	case declared:
		return decl, fmt.Errorf("%s %s is only declared (%s, type %d) in this BTF, not defined: %w", kind, name, decl.Kind, decl.ID, model.ErrNotFound)
	}
	return Type{}, fmt.Errorf("no %s named %q in BTF: %w", kind, name, model.ErrNotFound)
}

// enumIndex builds (once) the index of this blob's enumerators: entries
// are type ID << 32 | enumerator index.
func (s *Spec) enumIndex() *lazyIndex[uint64] {
	return buildIndex(s, &s.enums, func(yield func(uint32, uint64)) {
		bo := s.ByteOrder
		for i, off := range s.offs {
			info := bo.Uint32(s.types[off+4:])
			k := infoKind(info)
			if k != KindEnum && k != KindEnum64 {
				continue
			}
			elem := int(kindLayouts[k].ElemSize)
			recs := s.types[int(off)+typeHeaderSize:]
			for j := range int(infoVlen(info)) {
				yield(bo.Uint32(recs[j*elem:]), (uint64(s.firstID)+uint64(i))<<32|uint64(j))
			}
		}
	})
}

// Enumerator finds an enumerator by name ("PIDTYPE_PID", "TASK_COMM_LEN")
// among all enums, in this blob then its base, and returns its enum type
// and value.
func (s *Spec) Enumerator(name string) (Type, Enumerator, error) {
	for o := s; o != nil; o = o.base {
		var t Type
		var e Enumerator
		found := false
		var err error
		o.enumIndex().find(name, func(entry uint64) bool {
			id, j := TypeID(entry>>32), int(uint32(entry))
			off := int(o.offs[id-o.firstID])
			info := o.ByteOrder.Uint32(o.types[off+4:])
			elem := int(kindLayouts[infoKind(info)].ElemSize)
			recs := o.types[off+typeHeaderSize:]
			n, nerr := o.name(o.ByteOrder.Uint32(recs[j*elem:]))
			if nerr != nil || string(n) != name {
				return true
			}
			t, err = o.decode(id, off)
			if err == nil {
				_, e.Value = o.enumerator(recs, j, t)
				e.Name = name
			}
			found = true
			return false
		})
		if err != nil {
			return Type{}, Enumerator{}, err
		}
		if found {
			return t, e, nil
		}
	}
	return Type{}, Enumerator{}, fmt.Errorf("no enumerator %q in BTF: %w", name, model.ErrNotFound)
}

// EnumName returns the name of the enumerator of t (an enum or enum64,
// after typedefs) whose value is v, v being read from memory as t.Size
// bytes. It allocates only the name it returns.
func (s *Spec) EnumName(t Type, v uint64) (string, bool) {
	t, err := s.Resolve(t)
	if err != nil || t.Kind != KindEnum && t.Kind != KindEnum64 {
		return "", false
	}
	elem := int(kindLayouts[t.Kind].ElemSize)
	o, recs, err := s.vlenRecords(t, elem, KindEnum, KindEnum64)
	if err != nil {
		return "", false
	}
	v = extend(v, t.Size, t.KindFlag)
	for j := range len(recs) / elem {
		nameOff, ev := o.enumerator(recs, j, t)
		if extend(ev, t.Size, t.KindFlag) == v {
			name, err := o.nameString(nameOff)
			return name, err == nil
		}
	}
	return "", false
}

// extend truncates v to size bytes and sign- or zero-extends it back to
// 64 bits.
func extend(v, size uint64, signed bool) uint64 {
	if size == 0 || size >= 8 {
		return v
	}
	shift := 64 - 8*size
	if signed {
		return uint64(int64(v<<shift) >> shift)
	}
	return v << shift >> shift
}

// PointerSize is the size of a pointer on the kernel this BTF describes:
// the size of C's long, as libbpf's determine_ptr_size finds it, or 8
// when the BTF names no long (it always does for a kernel). Split BTF
// uses its base's.
func (s *Spec) PointerSize() int {
	for s.base != nil {
		s = s.base
	}
	s.ptrOnce.Do(func() {
		s.ptrSize = 8
		for _, name := range []string{"long int", "long unsigned int", "long", "unsigned long", "long signed int", "signed long"} {
			if t, err := s.FindType(KindInt, name); err == nil && (t.Size == 4 || t.Size == 8) {
				s.ptrSize = int(t.Size)
				return
			}
		}
	})
	return s.ptrSize
}
