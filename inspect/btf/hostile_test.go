package btf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"dumpscope/model"
)

func isFormatErr(err error) bool {
	return errors.Is(err, model.ErrTruncated) || errors.Is(err, model.ErrCorrupt) || errors.Is(err, model.ErrUnsupported)
}

// TestTruncated: every prefix of a valid blob is refused with a typed
// error, never a panic.
func TestTruncated(t *testing.T) {
	for _, bo := range byteOrders {
		w, _ := writeZoo(bo)
		b := w.bytes()
		for n := range len(b) {
			if _, err := NewSpec(b[:n], nil); !isFormatErr(err) {
				t.Fatalf("%v prefix of %d bytes: %v", bo, n, err)
			}
		}
		// A type section whose length cuts the last record.
		cut := append([]byte(nil), b...)
		bo.PutUint32(cut[12:], bo.Uint32(cut[12:])-4)
		if _, err := NewSpec(cut, nil); !errors.Is(err, model.ErrTruncated) {
			t.Errorf("type_len cutting a record: %v", err)
		}
	}
}

func TestBadHeaders(t *testing.T) {
	w, _ := writeZoo(binary.LittleEndian)
	good := w.bytes()
	le := binary.LittleEndian
	cases := map[string]func(b []byte){
		"magic":             func(b []byte) { b[0] = 0 },
		"version":           func(b []byte) { b[2] = 2 },
		"flags":             func(b []byte) { b[3] = 1 },
		"hdr_len short":     func(b []byte) { le.PutUint32(b[4:], 20) },
		"hdr_len huge":      func(b []byte) { le.PutUint32(b[4:], 1<<20) },
		"hdr_len unaligned": func(b []byte) { le.PutUint32(b[4:], 26) },
		"type_off":          func(b []byte) { le.PutUint32(b[8:], 2) },
		"type section out":  func(b []byte) { le.PutUint32(b[12:], 1<<30) },
		"string section out": func(b []byte) {
			le.PutUint32(b[20:], le.Uint32(b[20:])+1)
		},
		"overlap":         func(b []byte) { le.PutUint32(b[16:], le.Uint32(b[16:])-4) },
		"strings no NUL":  func(b []byte) { b[len(b)-1] = 'x' },
		"strings no 0":    func(b []byte) { b[24+le.Uint32(b[16:])] = 'x' },
		"string_len zero": func(b []byte) { le.PutUint32(b[20:], 0) },
		"kind 0":          func(b []byte) { le.PutUint32(b[24+4:], 0) },
		"unknown kind":    func(b []byte) { le.PutUint32(b[24+4:], 99<<24) },
		"huge vlen":       func(b []byte) { le.PutUint32(b[24+4:], uint32(KindStruct)<<24|0xffffff) },
	}
	for name, mutate := range cases {
		b := append([]byte(nil), good...)
		mutate(b)
		if _, err := NewSpec(b, nil); !isFormatErr(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Layout sections: misaligned, or not between types and strings.
	w2 := newWriter(le)
	w2.Int("int", 4, IntSigned, 0, 32)
	w2.layouts = kindLayouts[:]
	for name, mutate := range map[string]func(b []byte){
		"layout unaligned": func(b []byte) { le.PutUint32(b[24:], le.Uint32(b[24:])+2) },
		"layout in types":  func(b []byte) { le.PutUint32(b[24:], 0) },
		"layout past strs": func(b []byte) { le.PutUint32(b[28:], le.Uint32(b[28:])+8) },
	} {
		b := w2.bytes()
		mutate(b)
		if _, err := NewSpec(b, nil); !isFormatErr(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A layout entry that is not a multiple of 4 bytes, for an unknown kind.
	w3 := newWriter(le)
	w3.layouts = append(kindLayouts[:], Layout{InfoSize: 3})
	w3.raw(0, info(20, false, 0), 0)
	if _, err := NewSpec(w3.bytes(), nil); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("layout info_sz 3: %v", err)
	}
}

// TestHugeVlen: a vlen the blob cannot hold is an error before anything
// proportional to it is allocated.
func TestHugeVlen(t *testing.T) {
	w := newWriter(binary.BigEndian)
	w.Int("int", 4, IntSigned, 0, 32)
	w.raw(0, info(KindEnum, false, 0xffffff), 4)
	b := w.bytes()
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := NewSpec(b, nil); !errors.Is(err, model.ErrTruncated) {
			t.Fatalf("huge vlen: %v", err)
		}
	})
	if allocs > 10 {
		t.Errorf("refusing a huge vlen made %v allocations", allocs)
	}
}

// TestCycles: typedef, pointer, array and anonymous-member cycles end in
// errors (or bounded text), not hangs or stack overflows.
func TestCycles(t *testing.T) {
	w := newWriter(binary.LittleEndian)
	intID := w.Int("int", 4, IntSigned, 0, 32)
	tdA := w.Ref(KindTypedef, "a_t", intID+2) // → b_t
	tdB := w.Ref(KindTypedef, "b_t", tdA)     // → a_t
	ptr := w.Ptr(intID + 3)                   // points to itself
	arr := w.Array(intID+4, intID, 2)         // its own element
	self := w.Struct("self", 8, false, wm{"", intID + 5, 0, 0}, wm{"v", intID, 0, 0})
	cstA := w.Ref(KindConst, "", intID+7) // const → volatile → const
	w.Ref(KindVolatile, "", cstA)
	user := w.Struct("user", 16, false, wm{"t", tdA, 0, 0}, wm{"s", self, 32, 0}, wm{"p", ptr, 64, 0})
	s, err := NewSpec(w.bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []TypeID{tdA, tdB, arr, cstA} {
		ty, _ := s.TypeByID(id)
		if _, err := s.Resolve(ty); id != arr && !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("Resolve(%d): %v", id, err)
		}
		if _, err := s.Size(ty); !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("Size(%d): %v", id, err)
		}
		if name := s.TypeName(ty); (id == arr || id == cstA) && !strings.Contains(name, "too deep") {
			t.Errorf("TypeName(%d) = %q", id, name)
		}
	}
	pty, _ := s.TypeByID(ptr)
	if name := s.TypeName(pty); !strings.Contains(name, "too deep") {
		t.Errorf("TypeName(ptr cycle) = %q", name)
	}
	selfTy, _ := s.TypeByID(self)
	if _, err := s.Field(selfTy, "nope"); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("anonymous member cycle: %v", err)
	}
	if f, err := s.Field(selfTy, "v"); err != nil || f.Offset != 0 {
		t.Errorf("Field(v) before the cycle: %+v %v", f, err)
	}
	u, _ := s.TypeByID(user)
	mem := newMem()
	v, err := s.Format(u, mem.read, 0x1000, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Children[0].Error == "" {
		t.Errorf("typedef cycle member formatted: %+v", v.Children[0])
	}
	if got := countNodes(v); got > 10000 {
		t.Errorf("%d nodes", got)
	}
}

func countNodes(v Value) int {
	n := 1
	for _, c := range v.Children {
		n += countNodes(c)
	}
	return n
}

// TestBadReferences: names and type IDs outside the blob.
func TestBadReferences(t *testing.T) {
	w := newWriter(binary.LittleEndian)
	intID := w.Int("int", 4, IntSigned, 0, 32)
	badName := w.raw(1<<20, info(KindStruct, false, 0), 0)
	badMember := w.raw(w.str("bm"), info(KindStruct, false, 1), 4, 1<<20, uint32(intID), 0)
	badRef := w.Ptr(9999)
	badEnum := w.raw(w.str("be"), info(KindEnum, false, 1), 4, 1<<20, 1)
	holder := w.Struct("holder", 16, false, wm{"p", badRef, 0, 0}, wm{"q", 9999, 64, 0})
	s, err := NewSpec(w.bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TypeByID(badName); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("bad type name: %v", err)
	}
	bm, _ := s.TypeByID(badMember)
	if _, err := s.Members(bm); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("bad member name: %v", err)
	}
	if _, err := s.Field(bm, "x"); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("Field over a bad member name: %v", err)
	}
	be, _ := s.TypeByID(badEnum)
	if _, err := s.Enumerators(be); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("bad enumerator name: %v", err)
	}
	if _, _, err := s.Enumerator("x"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("Enumerator over a bad name: %v", err)
	}
	br, _ := s.TypeByID(badRef)
	if _, err := s.Target(br); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("Target of ID 9999: %v", err)
	}
	if name := s.TypeName(br); name != "<bad type 9999> *" {
		t.Errorf("TypeName = %q", name)
	}
	h, _ := s.TypeByID(holder)
	v, err := s.Format(h, newMem().read, 0, FormatOptions{})
	if err != nil || v.Children[0].Value != "0x0" || v.Children[1].Error == "" {
		t.Errorf("Format over bad references: %+v %v", v, err)
	}
	if _, err := s.FindType(KindStruct, "bm"); err != nil {
		t.Errorf("a good name next to bad ones: %v", err)
	}
}

// countingReader counts the calls and bytes a Load asks of its reader.
type countingReader struct {
	r            io.ReaderAt
	calls, bytes int
	fail         bool
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.bytes += len(p)
	if c.fail && off > 0 {
		return 0, errors.New("page absent")
	}
	return c.r.ReadAt(p, off)
}

func TestLoadReader(t *testing.T) {
	w, z := writeZoo(binary.LittleEndian)
	b := w.bytes()
	// The caller's span may be larger than the blob: Load reads what the
	// header names, no more.
	padded := append(append([]byte(nil), b...), make([]byte, 8192)...)
	c := &countingReader{r: bytes.NewReader(padded)}
	s, err := Load(c, int64(len(padded)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.bytes > len(b)+maxHeaderLen || len(s.Raw()) != len(b) || c.calls > 2 {
		t.Errorf("Load read %d bytes in %d calls for a %d-byte blob", c.bytes, c.calls, len(b))
	}
	if ty, err := s.FindType(KindStruct, "task"); err != nil || ty.ID != z.Task {
		t.Errorf("loaded spec: %+v %v", ty, err)
	}
	// A span shorter than the sections, a failing reader, bad sizes.
	if _, err := Load(bytes.NewReader(b), int64(len(b)-1), nil); !errors.Is(err, model.ErrTruncated) {
		t.Errorf("short span: %v", err)
	}
	big := make([]byte, maxHeaderLen+100)
	copy(big, b[:24])
	binary.LittleEndian.PutUint32(big[20:], uint32(len(big)-24))
	big[len(big)-1] = 0
	if _, err := Load(&countingReader{r: bytes.NewReader(big), fail: true}, int64(len(big)), nil); !errors.Is(err, model.ErrTruncated) {
		t.Errorf("failing reader: %v", err)
	}
	// MemoryReader: memory from a base address, bounded by the address
	// space; a read error reaches Load's caller.
	mem := newMem()
	mem.put(0xffff000000001000, b)
	if s, err := Load(MemoryReader(mem.read, 0xffff000000001000), int64(len(b)), nil); err != nil || s.NumTypes() != int(z.ListsT) {
		t.Errorf("Load(MemoryReader): %v", err)
	}
	if _, err := MemoryReader(mem.read, ^uint64(0)-10).ReadAt(make([]byte, 4), 100); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("MemoryReader past the address space: %v", err)
	}
	mem.bad[0xffff000000001000/4096] = true
	if _, err := Load(MemoryReader(mem.read, 0xffff000000001000), int64(len(b)), nil); !errors.Is(err, model.ErrTruncated) || !strings.Contains(err.Error(), "absent") {
		t.Errorf("Load over an absent page: %v", err)
	}
	for _, size := range []int64{0, -1, MaxBlobSize + 1} {
		if _, err := Load(bytes.NewReader(b), size, nil); !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("size %d: %v", size, err)
		}
	}
}

// TestExponential: a prototype whose parameters point back to it, and a
// struct whose anonymous members are itself, branch at every level: names
// and member lookups stay bounded.
func TestExponential(t *testing.T) {
	w := newWriter(binary.LittleEndian)
	intID := w.Int("int", 4, IntSigned, 0, 32)
	ptr := w.Ptr(intID + 2)
	var ps []wp
	var ms []wm
	for range 8 {
		ps = append(ps, wp{"p", ptr})
		ms = append(ms, wm{"", intID + 3, 0, 0})
	}
	proto := w.FuncProto(intID, ps...)
	self := w.Struct("self", 8, false, ms...)
	s, err := NewSpec(w.bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := s.TypeByID(proto)
	if name := s.TypeName(pt); !strings.Contains(name, "too large") || len(name) > 1<<20 {
		t.Errorf("TypeName of a self-referring prototype: %d bytes", len(name))
	}
	st, _ := s.TypeByID(self)
	if _, err := s.Field(st, "x"); !errors.Is(err, model.ErrCorrupt) {
		t.Errorf("Field through self-referring anonymous members: %v", err)
	}
	v, err := s.Format(st, newMem().read, 0, FormatOptions{})
	if err != nil || countNodes(v) > 10001 {
		t.Errorf("Format: %d nodes, %v", countNodes(v), err)
	}
}
