package reader

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// StructLayout builds the layout node of one on-disk structure field by
// field. b holds the structure's bytes, read from file offset base.
type StructLayout struct {
	Node  *model.Field
	b     []byte
	order binary.ByteOrder
	base  int64
}

// NewStruct starts the layout of a structure.
func NewStruct(name, meaning string, base int64, b []byte, order binary.ByteOrder) *StructLayout {
	return &StructLayout{
		Node:  &model.Field{Name: name, Offset: model.FileOff(base), Size: int64(len(b)), Meaning: meaning},
		b:     b,
		order: order,
		base:  base,
	}
}

// Uint adds an unsigned integer field of 1, 2, 4 or 8 bytes and returns its
// value. note, when given, is appended to the value ("ET_CORE").
func (s *StructLayout) Uint(name string, off, size int, meaning string, note ...string) uint64 {
	if off+size > len(s.b) {
		return 0
	}
	v, _ := UintAt(s.order, s.b[off:off+size])
	val := FormatUint(v)
	if len(note) > 0 && note[0] != "" {
		val += " " + note[0]
	}
	s.Node.Add(&model.Field{Name: name, Offset: model.FileOff(s.base + int64(off)), Size: int64(size), Value: val, Meaning: meaning})
	return v
}

// Int adds a signed integer field.
func (s *StructLayout) Int(name string, off, size int, meaning string) int64 {
	if off+size > len(s.b) {
		return 0
	}
	u, _ := UintAt(s.order, s.b[off:off+size])
	shift := 64 - 8*uint(size)
	v := int64(u<<shift) >> shift
	s.Node.Add(&model.Field{Name: name, Offset: model.FileOff(s.base + int64(off)), Size: int64(size), Value: fmt.Sprintf("%d", v), Meaning: meaning})
	return v
}

// Text adds a NUL-padded character array.
func (s *StructLayout) Text(name string, off, size int, meaning string) string {
	if off+size > len(s.b) {
		return ""
	}
	t := CString(s.b[off : off+size])
	s.Node.Add(&model.Field{Name: name, Offset: model.FileOff(s.base + int64(off)), Size: int64(size), Value: fmt.Sprintf("%q", t), Meaning: meaning})
	return t
}

// Raw adds a field shown as hex bytes (at most 32 shown), or with the given
// value text.
func (s *StructLayout) Raw(name string, off, size int, meaning string, value ...string) *model.Field {
	if off+size > len(s.b) {
		size = max(0, len(s.b)-off)
	}
	v := ""
	if len(value) > 0 {
		v = value[0]
	} else {
		v = HexBytes(s.b[off : off+min(size, 32)])
		if size > 32 {
			v += " …"
		}
	}
	return s.Node.Add(&model.Field{Name: name, Offset: model.FileOff(s.base + int64(off)), Size: int64(size), Value: v, Meaning: meaning})
}

// UintAt decodes p, an unsigned integer of 1, 2, 4 or 8 bytes in byte
// order o; ok is false for any other length.
func UintAt(o binary.ByteOrder, p []byte) (v uint64, ok bool) {
	switch len(p) {
	case 1:
		return uint64(p[0]), true
	case 2:
		return uint64(o.Uint16(p)), true
	case 4:
		return uint64(o.Uint32(p)), true
	case 8:
		return o.Uint64(p), true
	}
	return 0, false
}

// FormatUint shows a value in hex, with the decimal beside it when that
// helps a reader.
func FormatUint(v uint64) string {
	if v < 10 {
		return fmt.Sprintf("%d", v)
	}
	if v < 1<<32 {
		return fmt.Sprintf("%#x (%d)", v, v)
	}
	return fmt.Sprintf("%#x", v)
}

// HexBytes formats a byte slice as space-separated hex pairs, for layout
// values of short byte arrays.
func HexBytes(b []byte) string {
	out := make([]byte, 0, len(b)*3)
	for i, c := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, fmt.Sprintf("%02x", c)...)
	}
	return string(out)
}
