package kernel

import (
	"encoding/binary"
	"sort"
	"testing"

	"dumpscope/inspect/btf"
	"dumpscope/model"
)

// btfGen writes a BTF blob (include/uapi/linux/btf.h) of a few types, to
// give the engine the layouts of kernels the fixtures are not.
type btfGen struct {
	types []byte
	strs  []byte
	n     uint32 // the last type ID
}

func newBTFGen() *btfGen { return &btfGen{strs: []byte{0}} }

func (g *btfGen) str(s string) uint32 {
	if s == "" {
		return 0
	}
	off := uint32(len(g.strs))
	g.strs = append(append(g.strs, s...), 0)
	return off
}

func (g *btfGen) u32(vs ...uint32) {
	for _, v := range vs {
		g.types = binary.LittleEndian.AppendUint32(g.types, v)
	}
}

// typ writes struct btf_type and returns its ID.
func (g *btfGen) typ(name string, kind btf.Kind, vlen int, sizeOrType uint32) uint32 {
	g.u32(g.str(name), uint32(kind)<<24|uint32(vlen), sizeOrType)
	g.n++
	return g.n
}

func (g *btfGen) intType(name string, size uint32, signed bool) uint32 {
	id := g.typ(name, btf.KindInt, 0, size)
	enc := uint32(0)
	if signed {
		enc = 1
	}
	g.u32(enc<<24 | size*8)
	return id
}

func (g *btfGen) ptr(to uint32) uint32 { return g.typ("", btf.KindPtr, 0, to) }

func (g *btfGen) array(elem, index, n uint32) uint32 {
	id := g.typ("", btf.KindArray, 0, 0)
	g.u32(elem, index, n)
	return id
}

// member is a struct member: name, type and byte offset.
type member struct {
	name string
	typ  uint32
	off  uint32
}

func (g *btfGen) structType(name string, size uint32, ms ...member) uint32 {
	id := g.typ(name, btf.KindStruct, len(ms), size)
	for _, m := range ms {
		g.u32(g.str(m.name), m.typ, m.off*8)
	}
	return id
}

func (g *btfGen) enumType(name string, names ...string) uint32 {
	id := g.typ(name, btf.KindEnum, len(names), 4)
	for i, n := range names {
		g.u32(g.str(n), uint32(i))
	}
	return id
}

func (g *btfGen) spec(t *testing.T) *btf.Spec {
	t.Helper()
	h := make([]byte, 24)
	binary.LittleEndian.PutUint16(h, 0xeb9f)
	h[2] = 1
	binary.LittleEndian.PutUint32(h[4:], 24)
	binary.LittleEndian.PutUint32(h[8:], 0)
	binary.LittleEndian.PutUint32(h[12:], uint32(len(g.types)))
	binary.LittleEndian.PutUint32(h[16:], uint32(len(g.types)))
	binary.LittleEndian.PutUint32(h[20:], uint32(len(g.strs)))
	s, err := btf.NewSpec(append(append(h, g.types...), g.strs...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// symbolsOf builds a symbol table from a list, as decodeKallsyms would.
func symbolsOf(list []model.Symbol) *Symbols {
	s := &Symbols{syms: list}
	sort.SliceStable(s.syms, func(i, j int) bool { return s.syms[i].Addr < s.syms[j].Addr })
	s.indexNames()
	s.index(make([]bool, len(list)))
	return s
}

// withObjects gives a test kernel its symbols and BTF, as if read from
// memory.
func withObjects(k *Kernel, syms *Symbols, spec *btf.Spec) {
	k.syms.done, k.syms.val = true, syms
	k.objs.btf.done, k.objs.btf.val = true, spec
}
