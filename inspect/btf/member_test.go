package btf

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"dumpscope/model"
)

func TestFieldPaths(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	task, _ := s.TypeByID(z.Task)
	cases := []struct {
		path        string
		off, bitOff uint64
		bitSize     uint32
		typeName    string
	}{
		{"state", 0, 0, 0, "enum state"},
		{"b", 4, 35, 5, "unsigned int"},
		{"c", 5, 40, 2, "int"},
		{"comm", 8, 64, 0, "char [16]"},
		{"comm[3]", 11, 88, 0, "char"},
		{"tasks.prev", 32, 256, 0, "struct list_head *"},
		{"x", 48, 384, 0, "u32"}, // through the anonymous union and struct
		{"y", 52, 416, 0, "u32"},
		{"z", 48, 384, 0, "long unsigned int"},
		{"vals[2]", 84, 672, 0, "int"},
		{"fn", 56, 448, 0, "int (*)(struct list_head *, ...)"},
		{"", 0, 0, 0, "struct task"},
	}
	for _, c := range cases {
		f, err := s.Field(task, c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if f.Offset != c.off || f.BitOffset != c.bitOff || f.BitfieldSize != c.bitSize || s.TypeName(f.Type) != c.typeName {
			t.Errorf("%s: got %d/%d/%d %q, want %d/%d/%d %q", c.path, f.Offset, f.BitOffset, f.BitfieldSize, s.TypeName(f.Type), c.off, c.bitOff, c.bitSize, c.typeName)
		}
	}
	// The older bitfield encoding: widths and part of the offset in the
	// INT.
	legacy, _ := s.TypeByID(z.Legacy)
	if f, err := s.Field(legacy, "hi"); err != nil || f.BitOffset != 4 || f.BitfieldSize != 12 || f.Offset != 0 {
		t.Errorf("legacy hi: %+v %v", f, err)
	}
	if f, err := s.Field(legacy, "lo"); err != nil || f.BitOffset != 0 || f.BitfieldSize != 4 {
		t.Errorf("legacy lo: %+v %v", f, err)
	}
	// FieldOf starts from a type name.
	ty, f, err := s.FieldOf("task.tasks.next")
	if err != nil || ty.ID != z.Task || f.Offset != 24 {
		t.Errorf("FieldOf: %+v %+v %v", ty, f, err)
	}
	if _, f, err := s.FieldOf("u32"); err != nil || s.TypeName(f.Type) != "u32" {
		t.Errorf("FieldOf(typedef): %+v %v", f, err)
	}
	if ty, f, err := s.FieldOf("lists_t[1].prev"); err != nil || ty.ID != z.ListsT || f.Offset != 24 {
		t.Errorf("FieldOf(lists_t[1].prev) = %+v %+v %v", ty, f, err)
	}
	if _, _, err := s.FieldOf("task[1].comm"); err == nil || !strings.Contains(err.Error(), "[1]") {
		t.Errorf("FieldOf(task[1].comm) indexes a struct: %v", err)
	}
}

func TestFieldErrors(t *testing.T) {
	s, z := loadZoo(t, binary.BigEndian)
	task, _ := s.TypeByID(z.Task)
	cases := []struct{ path, typ, member, msg string }{
		{"tasks.nxt", "struct list_head", "nxt", `no member "nxt" in struct list_head (path "tasks.nxt")`},
		{"nope", "struct task", "nope", `no member "nope" in struct task`},
		{"comm[16]", "char [16]", "[16]", "index 16 out of bounds [0,16) in char [16]"},
		{"state.x", "enum state", "x", "not a struct or union"},
		{"tasks[1]", "struct list_head", "[1]", "not an array"},
		{"comm[x]", "char [16]", "[x]", "bad array index"},
	}
	for _, c := range cases {
		_, err := s.Field(task, c.path)
		var me *MemberError
		if !errors.As(err, &me) || !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s: %v, want a MemberError", c.path, err)
			continue
		}
		if me.Type != c.typ || me.Member != c.member || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %q (type %q member %q), want type %q member %q containing %q", c.path, err, me.Type, me.Member, c.typ, c.member, c.msg)
		}
	}
	if _, _, err := s.FieldOf("nosuch.x"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("FieldOf(nosuch): %v", err)
	}
}

func TestParseDecl(t *testing.T) {
	cases := []struct {
		in   string
		want Decl
	}{
		{"struct task_struct", Decl{Kind: KindStruct, Name: "task_struct"}},
		{"struct list_head modules", Decl{Kind: KindStruct, Name: "list_head", Ident: "modules"}},
		{"unsigned long[]", Decl{Kind: KindInt, Name: "unsigned long", Dims: []int64{-1}}},
		{"unsigned long __per_cpu_offset[64];", Decl{Kind: KindInt, Name: "unsigned long", Dims: []int64{64}, Ident: "__per_cpu_offset"}},
		{"struct task_struct *", Decl{Kind: KindStruct, Name: "task_struct", Pointers: 1}},
		{"const char *const *argv", Decl{Kind: KindInt, Name: "char", Pointers: 2, Ident: "argv"}},
		{"long unsigned int", Decl{Kind: KindInt, Name: "unsigned long"}},
		{"long long", Decl{Kind: KindInt, Name: "long long"}},
		{"unsigned", Decl{Kind: KindInt, Name: "unsigned int"}},
		{"signed char", Decl{Kind: KindInt, Name: "signed char"}},
		{"short unsigned int", Decl{Kind: KindInt, Name: "unsigned short"}},
		{"_Bool", Decl{Kind: KindInt, Name: "_Bool"}},
		{"long double", Decl{Kind: KindFloat, Name: "long double"}},
		{"atomic_t panic_cpu", Decl{Kind: KindTypedef, Name: "atomic_t", Ident: "panic_cpu"}},
		{"union bpf_attr", Decl{Kind: KindUnion, Name: "bpf_attr"}},
		{"enum pid_type", Decl{Kind: KindEnum, Name: "pid_type"}},
		{"void *", Decl{Kind: KindVoid, Name: "void", Pointers: 1}},
		{"char *[4][2]", Decl{Kind: KindInt, Name: "char", Pointers: 1, Dims: []int64{4, 2}}},
		{"volatile unsigned long jiffies", Decl{Kind: KindInt, Name: "unsigned long", Ident: "jiffies"}},
	}
	for _, c := range cases {
		got, err := ParseDecl(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseDecl(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "struct", "struct *", "unsigned unsigned", "long long long", "char int", "int (*)(void)", "x y z", "int [", "int [q]", "void x", "short long", "float int", "struct a b c"} {
		if d, err := ParseDecl(bad); !errors.Is(err, model.ErrUnsupported) {
			t.Errorf("ParseDecl(%q) = %+v, %v; want an error", bad, d, err)
		}
	}
}

func TestParseType(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	cases := []struct {
		decl, name string
		size       uint64
	}{
		{"struct task", "struct task", 88},
		{"unsigned long[]", "long unsigned int []", 0},
		{"unsigned long[4]", "long unsigned int [4]", 32},
		{"struct task *", "struct task *", 8},
		{"struct task *[3]", "struct task *[3]", 24},
		{"u32", "u32", 4},
		{"unsigned", "unsigned int", 4},
		{"void *", "void *", 8},
		{"char **", "char **", 8},
		{"enum big", "enum big", 8},
		{"double", "double", 8},
	}
	for _, c := range cases {
		ty, err := s.ParseType(c.decl)
		if err != nil {
			t.Errorf("%s: %v", c.decl, err)
			continue
		}
		size, _ := s.Size(ty)
		if got := s.TypeName(ty); got != c.name || size != c.size {
			t.Errorf("%s: %q size %d, want %q size %d", c.decl, got, size, c.name, c.size)
		}
	}
	// A made pointer leads to the BTF's type; a made array indexes.
	p, _ := s.ParseType("struct task *")
	if target, err := s.Target(p); err != nil || target.ID != z.Task {
		t.Errorf("Target of a made pointer: %+v %v", target, err)
	}
	arr, _ := s.ParseType("unsigned long[]")
	if f, err := s.Field(arr, "[5]"); err != nil || f.Offset != 40 {
		t.Errorf("index into a flexible made array: %+v %v", f, err)
	}
	for _, missing := range []string{"struct nosuch", "short", "struct opaque", "nosuch_t"} {
		if _, err := s.ParseType(missing); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("ParseType(%q): %v", missing, err)
		}
	}
}

func TestGlobals(t *testing.T) {
	s, z := loadZoo(t, binary.LittleEndian)
	g, err := s.Global("runqueues")
	if err != nil || !g.FromBTF || !g.PerCPU || g.Type.ID != z.Task {
		t.Errorf("Global(runqueues) from the BTF VAR: %+v %v", g, err)
	}
	table := []Global{{Name: "init_task", Decl: "struct task"}, {Name: "cpu_number", Decl: "int", PerCPU: true}, {Name: "bad", Decl: "struct nosuch"}}
	g, err = s.GlobalIn(table, "init_task")
	if err != nil || g.FromBTF || g.PerCPU || g.Type.ID != z.Task {
		t.Errorf("GlobalIn(init_task): %+v %v", g, err)
	}
	if g, err := s.GlobalIn(table, "cpu_number"); err != nil || !g.PerCPU {
		t.Errorf("GlobalIn(cpu_number): %+v %v", g, err)
	}
	if _, err := s.GlobalIn(table, "bad"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("GlobalIn(bad): %v", err)
	}
	if _, err := s.Global("nosuch"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("Global(nosuch): %v", err)
	}
	// Every declaration of the kernel table parses.
	seen := map[string]bool{}
	for _, g := range KernelGlobals() {
		if _, err := ParseDecl(g.Decl); err != nil || g.Source == "" || g.Why == "" || seen[g.Name] {
			t.Errorf("KernelGlobals %s: %v (or no source, or listed twice)", g.Name, err)
		}
		seen[g.Name] = true
	}
}
