package btf

import (
	"encoding/binary"
	"testing"
)

// zoo holds the IDs of a blob with every kind, a kernel-like task struct
// with kind_flag bitfields, anonymous members and a union, and a struct
// with bitfields of the older INT encoding.
type zoo struct {
	Int, Uint, Char, Ulong, Bool, CharPtr, CharArr      TypeID
	ListHead, ListPtr, State, Big, Opaque, U32          TypeID
	VolInt, ConstChar, ConstCharPtr, RestrictCharPtr    TypeID
	Proto, Func, Var, Datasec, Double, DeclTag, TypeTag TypeID
	RcuListPtr, Task, TaskPtr, AnonUnion, AnonStruct    TypeID
	FnPtr, IntArr, Legacy, LegacyLo, LegacyHi           TypeID
	Shadow, ListsT                                      TypeID
}

// writeZoo writes the zoo. Layout of struct task (88 bytes), as C on
// either byte order would lay it out:
//
//	enum state state;            // 0
//	unsigned int a:3, b:5;       // bits 32..34, 35..39
//	int c:2;                     // bits 40..41
//	char comm[16];               // 8
//	struct list_head tasks;      // 24
//	struct task *parent;         // 40
//	union { struct { u32 x, y; }; unsigned long z; };  // 48
//	int (*fn)(struct list_head *head, ...);            // 56
//	enum big big;                // 64
//	_Bool ok;                    // 72
//	int vals[3];                 // 76
func writeZoo(bo byteOrder) (*blobWriter, zoo) {
	w := newWriter(bo)
	var z zoo
	z.Int = w.Int("int", 4, IntSigned, 0, 32)
	z.Uint = w.Int("unsigned int", 4, 0, 0, 32)
	z.Char = w.Int("char", 1, IntSigned, 0, 8)
	z.Ulong = w.Int("long unsigned int", 8, 0, 0, 64)
	z.Bool = w.Int("_Bool", 1, IntBool, 0, 8)
	z.CharPtr = w.Ptr(z.Char)
	z.CharArr = w.Array(z.Char, z.Int, 16)
	// The struct refers to the pointer after it: IDs may point forward.
	next := w.firstID + TypeID(w.n)
	z.ListHead = w.Struct("list_head", 16, false, wm{"next", next + 1, 0, 0}, wm{"prev", next + 1, 64, 0})
	z.ListPtr = w.Ptr(z.ListHead)
	z.State = w.Enum("state", 4, false, we{"RUNNING", 0}, we{"SLEEPING", 1}, we{"DEAD", 0x80})
	z.Big = w.Enum64("big", 8, true, we{"NEG", -1}, we{"HUGE", 1 << 40})
	z.Opaque = w.Fwd("opaque", false)
	z.U32 = w.Ref(KindTypedef, "u32", z.Uint)
	z.VolInt = w.Ref(KindVolatile, "", z.Int)
	z.ConstChar = w.Ref(KindConst, "", z.Char)
	z.ConstCharPtr = w.Ptr(z.ConstChar)
	z.RestrictCharPtr = w.Ref(KindRestrict, "", z.CharPtr)
	z.Proto = w.FuncProto(z.Int, wp{"head", z.ListPtr}, wp{"", 0})
	z.Func = w.Func("do_thing", z.Proto, 1)
	z.Task = w.firstID + TypeID(w.n) + 8 // written below, after the records that name it
	z.Var = w.Var("runqueues", z.Task, 1)
	z.Datasec = w.Datasec(".data..percpu", 128, VarSecinfo{z.Var, 0, 88})
	z.Double = w.Float("double", 8)
	z.DeclTag = w.DeclTag("user", z.Task, -1)
	z.TypeTag = w.Ref(KindTypeTag, "rcu", z.ListHead)
	z.RcuListPtr = w.Ptr(z.TypeTag)
	z.AnonStruct = w.Struct("", 8, false, wm{"x", z.U32, 0, 0}, wm{"y", z.U32, 32, 0})
	z.AnonUnion = w.Union("", 8, false, wm{"", z.AnonStruct, 0, 0}, wm{"z", z.Ulong, 0, 0})
	if got := w.Struct("task", 88, true,
		wm{"state", z.State, 0, 0},
		wm{"a", z.Uint, 32, 3},
		wm{"b", z.Uint, 35, 5},
		wm{"c", z.Int, 40, 2},
		wm{"comm", z.CharArr, 64, 0},
		wm{"tasks", z.ListHead, 192, 0},
		wm{"parent", z.Task + 1, 320, 0},
		wm{"", z.AnonUnion, 384, 0},
		wm{"fn", z.Task + 2, 448, 0},
		wm{"big", z.Big, 512, 0},
		wm{"ok", z.Bool, 576, 0},
		wm{"vals", z.Task + 3, 608, 0},
	); got != z.Task {
		panic("zoo: task written at the wrong ID")
	}
	z.TaskPtr = w.Ptr(z.Task)
	z.FnPtr = w.Ptr(z.Proto)
	z.IntArr = w.Array(z.Int, z.Int, 3)
	// struct legacy { unsigned lo:4; unsigned hi:12; } without kind_flag:
	// the INTs carry the widths; hi's INT carries 2 of its 4 offset bits.
	z.LegacyLo = w.Int("unsigned int", 4, 0, 0, 4)
	z.LegacyHi = w.Int("unsigned int", 4, 0, 2, 12)
	z.Legacy = w.Struct("legacy", 4, false, wm{"lo", z.LegacyLo, 0, 0}, wm{"hi", z.LegacyHi, 2, 0})
	// A second, different "struct task" after the first: lookups return
	// the first.
	z.Shadow = w.Struct("task", 4, false, wm{"only", z.Int, 0, 0})
	// typedef struct list_head lists_t[2];
	z.ListsT = w.Ref(KindTypedef, "lists_t", w.Array(z.ListHead, z.Int, 2))
	return w, z
}

func loadZoo(t testing.TB, bo byteOrder) (*Spec, zoo) {
	t.Helper()
	w, z := writeZoo(bo)
	s, err := NewSpec(w.bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, z
}

var byteOrders = []byteOrder{binary.LittleEndian, binary.BigEndian}
