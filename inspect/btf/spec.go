package btf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"dumpscope/model"
)

// TypeID numbers the types of a blob: 0 is void, the blob's types count
// from 1, and a split blob's from its base's last ID + 1.
type TypeID uint32

// Spec is one loaded BTF blob: vmlinux BTF, or a module's split BTF on top
// of its base.
type Spec struct {
	Header    Header
	ByteOrder binary.ByteOrder

	base     *Spec
	raw      []byte   // the blob, up to the end of its last section
	types    []byte   // the type section
	strs     []byte   // the string section
	layouts  []Layout // the layout section (2026), nil when absent
	firstID  TypeID   // the ID of this blob's first type
	offs     []uint32 // offs[i] is where type firstID+i starts in types
	strStart uint32   // the string offset of strs[0]: the base's string end

	names   lazyIndex[uint32] // name → type IDs, built on the first lookup by name
	enums   lazyIndex[uint64] // enumerator name → (type ID, index), likewise
	ptrOnce sync.Once
	ptrSize int
}

// readChunk is how much Load asks of its reader at once: large, since a
// reader over kernel virtual memory pays per call, and a multiple of the
// page size.
const readChunk = 4 << 20

// Load reads a BTF blob of size bytes from r, which may be slow per call
// (a reader over kernel virtual memory): it reads the header, then
// exactly the bytes up to the end of the last section the header names,
// in chunks of 4 MiB, and keeps them in memory. base is nil for vmlinux
// BTF and the vmlinux Spec for a module's split BTF.
//
// size is the span the caller knows (__stop_BTF - __start_BTF, or
// btf->data_size); it must not exceed MaxBlobSize.
func Load(r io.ReaderAt, size int64, base *Spec) (*Spec, error) {
	if size <= 0 || size > MaxBlobSize {
		return nil, errorf("BTF", -1, model.ErrCorrupt, "blob size %d is not in 1..%d", size, MaxBlobSize)
	}
	head := make([]byte, min(size, maxHeaderLen))
	if err := readFull(r, head, 0); err != nil {
		return nil, err
	}
	_, _, need, err := parseHeader(head, int(size))
	if err != nil {
		return nil, err
	}
	raw := head
	if need > len(head) {
		raw = make([]byte, need)
		copy(raw, head)
		for off := len(head); off < need; off += readChunk {
			if err := readFull(r, raw[off:min(off+readChunk, need)], int64(off)); err != nil {
				return nil, err
			}
		}
	}
	return NewSpec(raw[:need], base)
}

// MemoryReader adapts a reader of virtual memory (a kernel engine's
// ReadVirt) to the io.ReaderAt that Load takes: offset 0 is base,
// __start_BTF for vmlinux or btf->data for a module.
func MemoryReader(read ReadFunc, base uint64) io.ReaderAt { return memoryReader{read, base} }

type memoryReader struct {
	read ReadFunc
	base uint64
}

func (m memoryReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || m.base+uint64(off) < m.base {
		return 0, fmt.Errorf("BTF offset %d from %#x: outside the address space: %w", off, m.base, model.ErrCorrupt)
	}
	if err := m.read(m.base+uint64(off), p); err != nil {
		return 0, fmt.Errorf("reading BTF at %#x: %w", m.base+uint64(off), err)
	}
	return len(p), nil
}

func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	// Wrap both: ErrTruncated for this package's callers, the reader's own
	// error (model.ErrPageAbsent from a dump) for theirs.
	return errorf("BTF", off+int64(n), fmt.Errorf("%w: %w", model.ErrTruncated, err), "reading %d bytes: %v", len(p), err)
}

// NewSpec parses a blob already in memory and keeps raw without copying
// it: the caller must not change it afterwards. base is as for Load.
func NewSpec(raw []byte, base *Spec) (*Spec, error) {
	if len(raw) > MaxBlobSize {
		return nil, errorf("BTF", -1, model.ErrCorrupt, "blob size %d exceeds %d", len(raw), MaxBlobSize)
	}
	h, bo, need, err := parseHeader(raw, len(raw))
	if err != nil {
		return nil, err
	}
	s := &Spec{Header: h, ByteOrder: bo, base: base, raw: raw[:need], firstID: 1}
	data := raw[h.HdrLen:need]
	s.types = data[h.TypeOff : h.TypeOff+h.TypeLen]
	s.strs = data[h.StrOff : h.StrOff+h.StrLen]
	if h.LayoutLen != 0 {
		s.layouts = parseLayouts(data[h.LayoutOff:h.LayoutOff+h.LayoutLen], bo)
	}
	if base != nil {
		if base.ByteOrder != bo {
			return nil, errorf("btf_header", 0, model.ErrCorrupt, "split BTF is %v, its base %v", bo, base.ByteOrder)
		}
		s.firstID = base.firstID + TypeID(len(base.offs))
		end := uint64(base.strStart) + uint64(len(base.strs))
		if end+uint64(len(s.strs)) > 1<<32-1 {
			return nil, errorf("btf_header", 20, model.ErrCorrupt, "string offsets beyond 32 bits: base strings end at %#x, %#x more", end, len(s.strs))
		}
		s.strStart = uint32(end)
	}
	if err := s.checkStrings(); err != nil {
		return nil, err
	}
	if err := s.indexTypes(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkStrings applies libbpf's btf_parse_str_sec: the section ends with
// a NUL (so every name is terminated), and a base's starts with the empty
// name at offset 0. Split BTF may have no strings of its own.
func (s *Spec) checkStrings() error {
	off := int64(s.Header.HdrLen) + int64(s.Header.StrOff)
	if len(s.strs) == 0 {
		if s.base != nil {
			return nil
		}
		return errorf("BTF strings", off, model.ErrCorrupt, "empty string section")
	}
	if s.strs[len(s.strs)-1] != 0 {
		return errorf("BTF strings", off+int64(len(s.strs))-1, model.ErrCorrupt, "string section does not end with NUL")
	}
	if s.base == nil && s.strs[0] != 0 {
		return errorf("BTF strings", off, model.ErrCorrupt, "string section does not start with the empty name (split BTF without its base?)")
	}
	return nil
}

// indexTypes walks the type section once to count the records, then once
// more to record where each starts: records have variable length, so
// this table is what makes a lookup by ID direct. Nothing else is kept.
func (s *Spec) indexTypes() error {
	n, err := s.walkTypes(nil)
	if err != nil {
		return err
	}
	if uint64(s.firstID)+uint64(n) > 1<<32-1 {
		return errorf("btf_type", -1, model.ErrCorrupt, "type IDs beyond 32 bits: %d types after ID %d", n, s.firstID)
	}
	s.offs = make([]uint32, n)
	_, err = s.walkTypes(s.offs)
	return err
}

func (s *Spec) walkTypes(offs []uint32) (int, error) {
	b := s.types
	n := 0
	for off := 0; off < len(b); n++ {
		at := int64(s.Header.HdrLen) + int64(s.Header.TypeOff) + int64(off)
		if len(b)-off < typeHeaderSize {
			return 0, errorf("btf_type", at, model.ErrTruncated, "type %d: %d bytes left, struct btf_type needs %d", s.firstID+TypeID(n), len(b)-off, typeHeaderSize)
		}
		size, err := s.recordSize(s.ByteOrder.Uint32(b[off+4:]))
		if err != nil {
			return 0, fmt.Errorf("type %d at offset %#x: %w", s.firstID+TypeID(n), at, err)
		}
		if size > uint64(len(b)-off) {
			return 0, errorf("btf_type", at, model.ErrTruncated, "type %d needs %d bytes, the type section has %d left", s.firstID+TypeID(n), size, len(b)-off)
		}
		if offs != nil {
			offs[n] = uint32(off)
		}
		off += int(size)
	}
	return n, nil
}

// recordSize is the length of a type record: struct btf_type and its
// kind's tail (libbpf btf_type_size, and btf_type_size_unknown for kinds
// it does not know, sized by the layout section).
func (s *Spec) recordSize(info uint32) (uint64, error) {
	kind, vlen := infoKind(info), uint64(infoVlen(info))
	var l Layout
	switch {
	case kind.Known():
		l = kindLayouts[kind]
	case kind == KindVoid:
		return 0, errorf("btf_type", -1, model.ErrCorrupt, "kind 0 (BTF_KIND_UNKN) is only void, type 0")
	default:
		layouts := s.layouts
		for b := s.base; layouts == nil && b != nil; b = b.base {
			layouts = b.layouts // split BTF shares its base's layout
		}
		if int(kind) >= len(layouts) {
			return 0, errorf("btf_type", -1, model.ErrUnsupported, "unknown kind %d and no layout section describes it", kind)
		}
		l = layouts[kind]
		if l.InfoSize%4 != 0 || l.ElemSize%4 != 0 {
			return 0, errorf("btf_layout", -1, model.ErrCorrupt, "kind %d: info_sz %d, elem_sz %d are not multiples of 4", kind, l.InfoSize, l.ElemSize)
		}
	}
	return typeHeaderSize + uint64(l.InfoSize) + vlen*uint64(l.ElemSize), nil
}

// Base is the Spec this split BTF extends, or nil.
func (s *Spec) Base() *Spec { return s.base }

// FirstID is the ID of the blob's first type (1 for vmlinux BTF).
func (s *Spec) FirstID() TypeID { return s.firstID }

// NumTypes counts the types of this blob, not of its base.
func (s *Spec) NumTypes() int { return len(s.offs) }

// LastID is the highest type ID this Spec (with its base) knows.
func (s *Spec) LastID() TypeID { return s.firstID + TypeID(len(s.offs)) - 1 }

// Raw returns the blob as loaded (header and sections). Do not modify it.
func (s *Spec) Raw() []byte { return s.raw }

// record finds the Spec that holds id and the record's offset in its type
// section.
func (s *Spec) record(id TypeID) (*Spec, int, error) {
	for id < s.firstID {
		if s.base == nil {
			return nil, 0, fmt.Errorf("type ID %d: below the first ID %d: %w", id, s.firstID, model.ErrNotFound)
		}
		s = s.base
	}
	i := uint64(id - s.firstID)
	if i >= uint64(len(s.offs)) {
		return nil, 0, fmt.Errorf("type ID %d: beyond the last ID %d: %w", id, s.LastID(), model.ErrNotFound)
	}
	return s, int(s.offs[i]), nil
}

// name returns the NUL-terminated string at a string offset, looking in
// the base's strings for offsets below this blob's.
func (s *Spec) name(off uint32) ([]byte, error) {
	for off < s.strStart {
		s = s.base
	}
	o := uint64(off - s.strStart)
	if o >= uint64(len(s.strs)) {
		return nil, errorf("BTF strings", -1, model.ErrCorrupt, "name offset %#x is beyond the string section (%#x..%#x)", off, s.strStart, uint64(s.strStart)+uint64(len(s.strs)))
	}
	end := bytes.IndexByte(s.strs[o:], 0)
	if end < 0 { // checkStrings makes this impossible; keep the bound anyway
		return nil, errorf("BTF strings", -1, model.ErrCorrupt, "name at %#x is not NUL-terminated", off)
	}
	return s.strs[o : o+uint64(end)], nil
}

// nameString is name as a string; a bad offset gives a placeholder that
// says so, for printing.
func (s *Spec) nameString(off uint32) (string, error) {
	b, err := s.name(off)
	if err != nil {
		return fmt.Sprintf("<bad name %#x>", off), err
	}
	return string(b), nil
}
