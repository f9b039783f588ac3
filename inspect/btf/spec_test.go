package btf

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"dumpscope/model"
)

func TestEveryKind(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.String(), func(t *testing.T) {
			s, z := loadZoo(t, bo)
			if s.ByteOrder != bo {
				t.Fatalf("byte order %v, want %v", s.ByteOrder, bo)
			}
			get := func(id TypeID) Type {
				t.Helper()
				ty, err := s.TypeByID(id)
				if err != nil {
					t.Fatalf("type %d: %v", id, err)
				}
				return ty
			}
			checks := []struct {
				id   TypeID
				want Type
			}{
				{z.Int, Type{ID: z.Int, Kind: KindInt, Name: "int", Size: 4, Encoding: IntSigned, Bits: 32}},
				{z.Bool, Type{ID: z.Bool, Kind: KindInt, Name: "_Bool", Size: 1, Encoding: IntBool, Bits: 8}},
				{z.CharPtr, Type{ID: z.CharPtr, Kind: KindPtr, Ref: z.Char}},
				{z.CharArr, Type{ID: z.CharArr, Kind: KindArray, Ref: z.Char, Index: z.Int, Nelems: 16}},
				{z.ListHead, Type{ID: z.ListHead, Kind: KindStruct, Name: "list_head", Vlen: 2, Size: 16}},
				{z.State, Type{ID: z.State, Kind: KindEnum, Name: "state", Vlen: 3, Size: 4}},
				{z.Big, Type{ID: z.Big, Kind: KindEnum64, Name: "big", Vlen: 2, Size: 8, KindFlag: true}},
				{z.Opaque, Type{ID: z.Opaque, Kind: KindFwd, Name: "opaque"}},
				{z.U32, Type{ID: z.U32, Kind: KindTypedef, Name: "u32", Ref: z.Uint}},
				{z.VolInt, Type{ID: z.VolInt, Kind: KindVolatile, Ref: z.Int}},
				{z.ConstChar, Type{ID: z.ConstChar, Kind: KindConst, Ref: z.Char}},
				{z.RestrictCharPtr, Type{ID: z.RestrictCharPtr, Kind: KindRestrict, Ref: z.CharPtr}},
				{z.Proto, Type{ID: z.Proto, Kind: KindFuncProto, Vlen: 2, Ref: z.Int}},
				{z.Func, Type{ID: z.Func, Kind: KindFunc, Name: "do_thing", Vlen: 1, Ref: z.Proto, Linkage: 1}},
				{z.Var, Type{ID: z.Var, Kind: KindVar, Name: "runqueues", Ref: z.Task, Linkage: 1}},
				{z.Datasec, Type{ID: z.Datasec, Kind: KindDatasec, Name: ".data..percpu", Vlen: 1, Size: 128}},
				{z.Double, Type{ID: z.Double, Kind: KindFloat, Name: "double", Size: 8}},
				{z.DeclTag, Type{ID: z.DeclTag, Kind: KindDeclTag, Name: "user", Ref: z.Task, Component: -1}},
				{z.TypeTag, Type{ID: z.TypeTag, Kind: KindTypeTag, Name: "rcu", Ref: z.ListHead}},
				{z.LegacyHi, Type{ID: z.LegacyHi, Kind: KindInt, Name: "unsigned int", Size: 4, IntOffset: 2, Bits: 12}},
				{0, Type{}},
			}
			for _, c := range checks {
				if got := get(c.id); !reflect.DeepEqual(got, c.want) {
					t.Errorf("type %d:\n got %+v\nwant %+v", c.id, got, c.want)
				}
			}
			ms, err := s.Members(get(z.Task))
			if err != nil {
				t.Fatal(err)
			}
			if ms[2] != (Member{Name: "b", Type: z.Uint, BitOffset: 35, BitfieldSize: 5}) || ms[7].Name != "" || len(ms) != 12 {
				t.Errorf("task members: %+v", ms)
			}
			es, err := s.Enumerators(get(z.Big))
			if err != nil || !reflect.DeepEqual(es, []Enumerator{{"NEG", ^uint64(0)}, {"HUGE", 1 << 40}}) {
				t.Errorf("enum64: %+v %v", es, err)
			}
			es, err = s.Enumerators(get(z.State))
			if err != nil || es[2] != (Enumerator{"DEAD", 0x80}) {
				t.Errorf("enum: %+v %v", es, err)
			}
			ps, err := s.Params(get(z.Proto))
			if err != nil || !reflect.DeepEqual(ps, []Param{{"head", z.ListPtr}, {"", 0}}) {
				t.Errorf("params: %+v %v", ps, err)
			}
			vs, err := s.Vars(get(z.Datasec))
			if err != nil || !reflect.DeepEqual(vs, []VarSecinfo{{z.Var, 0, 88}}) {
				t.Errorf("datasec: %+v %v", vs, err)
			}
			if _, err := s.Members(get(z.Int)); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("Members(int): %v", err)
			}
			if _, err := s.TypeByID(s.LastID() + 1); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("TypeByID past the end: %v", err)
			}
		})
	}
}

func TestTypeNames(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	for id, want := range map[TypeID]string{
		0:                 "void",
		z.Ulong:           "long unsigned int",
		z.CharPtr:         "char *",
		z.CharArr:         "char [16]",
		z.ListPtr:         "struct list_head *",
		z.State:           "enum state",
		z.Big:             "enum big",
		z.Opaque:          "struct opaque",
		z.ConstCharPtr:    "const char *",
		z.RestrictCharPtr: "char *restrict",
		z.VolInt:          "volatile int",
		z.Proto:           "int (struct list_head *, ...)",
		z.FnPtr:           "int (*)(struct list_head *, ...)",
		z.Func:            "int do_thing(struct list_head *, ...)",
		z.RcuListPtr:      "struct list_head *",
		z.AnonUnion:       "union {...}",
		z.Double:          "double",
	} {
		ty, err := s.TypeByID(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.TypeName(ty); got != want {
			t.Errorf("TypeName(%d) = %q, want %q", id, got, want)
		}
	}
	fn, _ := s.TypeByID(z.FnPtr)
	if got := s.Declaration(fn, "fn"); got != "int (*fn)(struct list_head *, ...)" {
		t.Errorf("Declaration = %q", got)
	}
	arr, _ := s.TypeByID(z.CharArr)
	if got := s.Declaration(arr, "comm"); got != "char comm[16]" {
		t.Errorf("Declaration = %q", got)
	}
}

func TestSizes(t *testing.T) {
	s, z := loadZoo(t, binary.BigEndian)
	for id, want := range map[TypeID]uint64{
		z.Int: 4, z.CharArr: 16, z.ListHead: 16, z.ListPtr: 8, z.U32: 4, z.VolInt: 4,
		z.Task: 88, z.Big: 8, z.IntArr: 12, z.AnonUnion: 8, z.Var: 88, z.RcuListPtr: 8,
	} {
		ty, _ := s.TypeByID(id)
		if got, err := s.Size(ty); err != nil || got != want {
			t.Errorf("Size(%s) = %d, %v; want %d", s.TypeName(ty), got, err, want)
		}
	}
	for _, id := range []TypeID{0, z.Opaque, z.Proto, z.Func} {
		ty, _ := s.TypeByID(id)
		if _, err := s.Size(ty); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("Size(%s): %v, want ErrNotFound", s.TypeName(ty), err)
		}
	}
	if s.PointerSize() != 8 {
		t.Errorf("PointerSize %d", s.PointerSize())
	}
}

func TestLookupByName(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	ty, err := s.FindType(KindStruct, "task")
	if err != nil || ty.ID != z.Task {
		t.Errorf("FindType(struct task) = %d, %v; want the first definition %d", ty.ID, err, z.Task)
	}
	all, err := s.TypesByName("task")
	if err != nil || len(all) != 2 || all[1].ID != z.Shadow {
		t.Errorf("TypesByName(task) = %+v, %v", all, err)
	}
	if ty, err := s.FindType(KindEnum, "big"); err != nil || ty.ID != z.Big {
		t.Errorf("FindType(enum big) finds the enum64: %d %v", ty.ID, err)
	}
	_, err = s.FindType(KindStruct, "opaque")
	if !errors.Is(err, model.ErrNotFound) || err.Error() == "" {
		t.Errorf("FindType(struct opaque) = %v, want only declared", err)
	}
	if _, err := s.FindType(KindUnion, "list_head"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("FindType(union list_head): %v", err)
	}
	if _, err := s.FindType(KindStruct, "user"); err == nil {
		t.Error("decl_tag names must not be found as types")
	}
	ety, e, err := s.Enumerator("HUGE")
	if err != nil || ety.ID != z.Big || e.Value != 1<<40 {
		t.Errorf("Enumerator(HUGE) = %+v %+v %v", ety, e, err)
	}
	state, _ := s.TypeByID(z.State)
	if n, ok := s.EnumName(state, 0x80); !ok || n != "DEAD" {
		t.Errorf("EnumName(0x80) = %q %v", n, ok)
	}
	if _, ok := s.EnumName(state, 7); ok {
		t.Error("EnumName(7) found a name")
	}
	big, _ := s.TypeByID(z.Big)
	if n, ok := s.EnumName(big, ^uint64(0)); !ok || n != "NEG" {
		t.Errorf("EnumName(-1) = %q %v", n, ok)
	}
	if _, _, err := s.Enumerator("NOPE"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("Enumerator(NOPE): %v", err)
	}
}

// TestSplit loads split BTF on top of the zoo: IDs and string offsets
// continue after the base's, types refer to base types, and lookups see
// both.
func TestSplit(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.String(), func(t *testing.T) {
			base, z := loadZoo(t, bo)
			w := newSplitWriter(base)
			modPtr := w.Ptr(z.Task) // a pointer to a base type
			mod := w.Struct("fw_cfg_entry", 32, false,
				wm{"list", z.ListHead, 0, 0},  // base type
				wm{"owner", modPtr, 128, 0},   // split type
				wm{"name", z.CharPtr, 192, 0}, // base type
			)
			w.Enum("fw_cfg_state", 4, false, we{"FW_CFG_ON", 1}, we{"RUNNING", 9})
			// Reuse a base string by its base offset: no copy in the split
			// blob's strings.
			w.raw(mustNameOff(t, base, z.ListHead), info(KindTypedef, false, 0), uint32(z.ListHead))
			s, err := NewSpec(w.bytes(), base)
			if err != nil {
				t.Fatal(err)
			}
			if s.FirstID() != base.LastID()+1 || s.LastID() != base.LastID()+4 {
				t.Fatalf("split IDs %d..%d after base's %d", s.FirstID(), s.LastID(), base.LastID())
			}
			ty, err := s.FindType(KindStruct, "fw_cfg_entry")
			if err != nil || ty.ID != mod {
				t.Fatalf("FindType(module struct) = %+v %v", ty, err)
			}
			if _, err := base.FindType(KindStruct, "fw_cfg_entry"); err == nil {
				t.Error("the base sees a type of the split BTF")
			}
			f, err := s.Field(ty, "owner")
			if err != nil || f.Offset != 16 || s.TypeName(f.Type) != "struct task *" {
				t.Errorf("Field(owner) = %+v %v", f, err)
			}
			f, err = s.Field(ty, "list.prev")
			if err != nil || f.Offset != 8 {
				t.Errorf("Field(list.prev) = %+v %v", f, err)
			}
			if task, err := s.FindType(KindStruct, "task"); err != nil || task.ID != z.Task {
				t.Errorf("base type through the split Spec: %+v %v", task, err)
			}
			td, err := s.FindType(KindTypedef, "list_head")
			if err != nil || td.Ref != z.ListHead {
				t.Errorf("typedef named by a base string: %+v %v", td, err)
			}
			// RUNNING is in both: the split BTF's own comes first.
			if ety, e, err := s.Enumerator("RUNNING"); err != nil || ety.Name != "fw_cfg_state" || e.Value != 9 {
				t.Errorf("Enumerator(RUNNING) = %s %+v %v", ety.Name, e, err)
			}
			if _, e, err := s.Enumerator("DEAD"); err != nil || e.Value != 0x80 {
				t.Errorf("Enumerator(DEAD) through the base: %+v %v", e, err)
			}
			if s.PointerSize() != 8 {
				t.Errorf("split PointerSize %d", s.PointerSize())
			}
			// A split blob of the other byte order is refused.
			other := newWriter(byteOrders[0])
			if bo == byteOrders[0] {
				other = newWriter(byteOrders[1])
			}
			other.strs = nil
			other.Int("x", 4, 0, 0, 32)
			if _, err := NewSpec(other.bytes(), base); !errors.Is(err, model.ErrCorrupt) {
				t.Errorf("split of the other byte order: %v", err)
			}
		})
	}
}

func mustNameOff(t *testing.T, s *Spec, id TypeID) uint32 {
	t.Helper()
	o, off, err := s.record(id)
	if err != nil {
		t.Fatal(err)
	}
	return o.ByteOrder.Uint32(o.types[off:])
}

// TestExtendedHeader: a 2026 header with a layout section that sizes a
// kind this package does not know (skipped, the types after it still
// read), a longer header with unknown zero bytes, and a vlen above 16
// bits.
func TestExtendedHeader(t *testing.T) {
	for _, bo := range byteOrders {
		w := newWriter(bo)
		intID := w.Int("int", 4, IntSigned, 0, 32)
		w.layouts = append(kindLayouts[:], Layout{}, Layout{InfoSize: 4, ElemSize: 8}) // kinds 20 and 21
		w.raw(w.str("loc"), info(21, false, 2), 0, 7, 1, 2, 3, 4)
		after := w.Ptr(intID)
		s, err := NewSpec(w.bytes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Header.HdrLen != 32 || s.Header.LayoutLen != 22*4 || len(s.layouts) != 22 {
			t.Fatalf("header %+v, %d layouts", s.Header, len(s.layouts))
		}
		unk, err := s.TypeByID(after - 1)
		if err != nil || unk.Kind != 21 || unk.Kind.Known() || unk.Name != "loc" {
			t.Errorf("unknown kind: %+v %v", unk, err)
		}
		if p, err := s.TypeByID(after); err != nil || p.Kind != KindPtr || p.Ref != intID {
			t.Errorf("type after the unknown kind: %+v %v", p, err)
		}
		// Without the layout section the unknown kind cannot be skipped.
		w.layouts = nil
		w.hdrLen = 40
		w.hdrTail = make([]byte, 8)
		if _, err := NewSpec(w.bytes(), nil); !errors.Is(err, model.ErrUnsupported) {
			t.Errorf("unknown kind without layout: %v", err)
		}
	}
	// hdr_len 40 with zero tail, no layout.
	w := newWriter(binary.LittleEndian)
	w.hdrLen = 40
	w.Int("int", 4, IntSigned, 0, 32)
	if s, err := NewSpec(w.bytes(), nil); err != nil || s.Header.HdrLen != 40 || s.NumTypes() != 1 {
		t.Errorf("hdr_len 40: %v", err)
	}
	// A vlen above 65535 (the 24-bit field of 2026): 70000 enumerators.
	w = newWriter(binary.BigEndian)
	var es []we
	for i := range 70000 {
		es = append(es, we{"E" + strconv.Itoa(i), int64(i)})
	}
	id := w.Enum("wide", 4, false, es...)
	w.Int("int", 4, IntSigned, 0, 32)
	s, err := NewSpec(w.bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ty, _ := s.TypeByID(id)
	if ty.Vlen != 70000 {
		t.Errorf("vlen %d", ty.Vlen)
	}
	if n, ok := s.EnumName(ty, 69999); !ok || n != "E69999" {
		t.Errorf("EnumName(69999) = %q", n)
	}
	if _, err := s.FindType(KindInt, "int"); err != nil {
		t.Errorf("type after the wide enum: %v", err)
	}
}

// TestConcurrentLookups: the lazy indexes are built once however many
// goroutines ask first (run under -race).
func TestConcurrentLookups(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	done := make(chan error)
	for range 8 {
		go func() {
			ty, err := s.FindType(KindStruct, "task")
			if err == nil && ty.ID != z.Task {
				err = errors.New("wrong type")
			}
			if _, _, e := s.Enumerator("DEAD"); err == nil {
				err = e
			}
			if s.PointerSize() != 8 && err == nil {
				err = errors.New("pointer size")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
