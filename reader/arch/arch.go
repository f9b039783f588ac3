// Package arch describes the register structures found in crash dumps,
// byte by byte: the Linux elf_prstatus of each architecture, QEMU's x86
// CPU-state note, Xen's vcpu_guest_context (x86_32, x86_64, ia64) and the
// ia64 mapped_regs page.
//
// Each structure is a table of fields (name, offset, size, group, meaning).
// One table serves two purposes: decoding the registers of a CPU
// (Struct.Registers) and labelling every byte of the structure in the
// layout view (Struct.Layout). Offsets come from ../shared/docs/formats.md
// §3.4, §3.6 and §5, which cite the kernel, QEMU and Xen headers.
package arch

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Spec is one field of a structure.
type Spec struct {
	Name    string
	Off     int
	Size    int
	Group   string // a model.Group* constant for registers; "" for non-registers
	Meaning string
	// Reg marks fields that are registers of the CPU (exported in the
	// register set); other fields are labelled in the layout only.
	Reg bool
	// Bits decodes the value bit by bit, for flag and control registers.
	Bits BitsFunc
	// Text marks byte arrays that hold NUL-terminated text.
	Text bool
}

// BitsFunc appends the named bit fields of a register's value v to dst.
// Appending lets one decoding of a register set share one array for the
// bits of all its registers.
type BitsFunc func(dst []model.BitField, v uint64) []model.BitField

// Struct is a register structure: a name, a size and its fields in offset
// order.
type Struct struct {
	Name   string // C name, e.g. "elf_prstatus"
	Arch   string // architecture of the register layout
	Size   int
	Fields []Spec
	// nRegs and nBits count the register fields and their decoded bits,
	// so that Registers allocates once; newStruct sets them.
	nRegs, nBits int
}

// lazyStruct is a layout built on first use, as sync.OnceValue builds a
// value. sync.OnceValue allocates its state when it is called, so a
// package variable made by it costs every process start; a lazyStruct
// variable is static data.
type lazyStruct struct {
	once sync.Once
	s    *Struct
}

// get returns the layout, which build makes the first time.
func (l *lazyStruct) get(build func() *Struct) *Struct {
	l.once.Do(func() { l.s = build() })
	return l.s
}

// newStruct makes a Struct of the fields and counts what Registers needs.
func newStruct(name, archName string, size int, fields []Spec) *Struct {
	s := &Struct{Name: name, Arch: archName, Size: size, Fields: fields}
	for _, f := range fields {
		if !f.Reg {
			continue
		}
		s.nRegs++
		if f.Bits != nil {
			s.nBits += len(f.Bits(nil, 0))
		}
	}
	return s
}

// Field returns the spec with the given name.
func (s *Struct) Field(name string) (Spec, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Spec{}, false
}

// value decodes an unsigned integer field of 1, 2, 4 or 8 bytes.
func value(order binary.ByteOrder, b []byte, f Spec) (uint64, bool) {
	if f.Off < 0 || f.Off+f.Size > len(b) {
		return 0, false
	}
	return reader.UintAt(order, b[f.Off:f.Off+f.Size])
}

// Value decodes the named integer field of b.
func (s *Struct) Value(order binary.ByteOrder, b []byte, name string) (uint64, bool) {
	f, ok := s.Field(name)
	if !ok {
		return 0, false
	}
	return value(order, b, f)
}

// Register decodes the named register of b, as Registers would: the
// first register field of that name that b holds.
func (s *Struct) Register(order binary.ByteOrder, b []byte, name string) (uint64, bool) {
	for _, f := range s.Fields {
		if f.Reg && f.Name == name {
			if v, ok := value(order, b, f); ok {
				return v, true
			}
		}
	}
	return 0, false
}

// Registers decodes the register fields of b, a copy of the structure that
// starts at file offset base. Fields that b is too short to hold are left
// out.
func (s *Struct) Registers(order binary.ByteOrder, b []byte, base int64) []model.Register {
	regs := make([]model.Register, 0, s.nRegs)
	// The bits of every register share one array (decoding a CPU's
	// registers is part of opening a dump); each register's slice is
	// capped so that an append past it cannot reach its neighbour's.
	bits := make([]model.BitField, 0, s.nBits)
	for _, f := range s.Fields {
		if !f.Reg {
			continue
		}
		v, ok := value(order, b, f)
		if !ok {
			continue
		}
		r := model.Register{Name: f.Name, Value: v, Group: f.Group, Offset: model.FileOff(base + int64(f.Off)), Size: f.Size}
		if f.Bits != nil {
			start := len(bits)
			bits = f.Bits(bits, v)
			r.Bits = bits[start:len(bits):len(bits)]
		}
		regs = append(regs, r)
	}
	return regs
}

// Layout labels every byte of b (the structure at file offset base) with its
// field. Bytes between fields are labelled as padding; bytes beyond the
// structure's known size are labelled as trailing data.
func (s *Struct) Layout(order binary.ByteOrder, b []byte, base int64) []*model.Field {
	var out []*model.Field
	pos := 0
	pad := func(to int) {
		if to > pos {
			out = append(out, &model.Field{Name: "(padding)", Offset: model.FileOff(base + int64(pos)), Size: int64(to - pos),
				Value: reader.HexBytes(clip(b, pos, to, 32)), Meaning: "alignment padding, not used"})
		}
	}
	for _, f := range s.Fields {
		if f.Off >= len(b) {
			break
		}
		pad(f.Off)
		end := min(f.Off+f.Size, len(b))
		n := &model.Field{Name: f.Name, Offset: model.FileOff(base + int64(f.Off)), Size: int64(end - f.Off), Meaning: f.Meaning}
		switch v, ok := value(order, b, f); {
		case f.Text:
			n.Value = fmt.Sprintf("%q", cstr(b[f.Off:end]))
		case ok:
			n.Value = reader.FormatUint(v)
			if f.Bits != nil {
				n.Value += "  " + model.FormatBits(f.Bits(nil, v))
			}
		default:
			n.Value = reader.HexBytes(clip(b, f.Off, end, 32))
		}
		out = append(out, n)
		pos = max(pos, end)
	}
	if s.Size > pos && len(b) > pos {
		pad(min(s.Size, len(b)))
		pos = min(s.Size, len(b))
	}
	if len(b) > pos {
		out = append(out, &model.Field{Name: "(trailing data)", Offset: model.FileOff(base + int64(pos)), Size: int64(len(b) - pos),
			Value: reader.HexBytes(clip(b, pos, len(b), 32)), Meaning: fmt.Sprintf("bytes beyond the %d-byte %s", s.Size, s.Name)})
	}
	return out
}

func clip(b []byte, from, to, max int) []byte {
	if to-from > max {
		to = from + max
	}
	return b[from:to]
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// seq lays out consecutive fields of one size starting at off.
func seq(off, size int, group string, reg bool, names ...string) []Spec {
	out := make([]Spec, len(names))
	for i, n := range names {
		out[i] = Spec{Name: n, Off: off + i*size, Size: size, Group: group, Reg: reg, Meaning: regMeaning(n)}
	}
	return out
}
