package btf

import (
	"encoding/binary"
	"fmt"

	"dumpscope/model"
)

// On-disk constants from include/uapi/linux/btf.h.
const (
	// Magic is BTF_MAGIC; read in the blob's byte order it gives the
	// endianness.
	Magic = 0xEB9F
	// Version is BTF_VERSION, the only version there is.
	Version = 1

	// headerMinLen is offsetofend(struct btf_header, str_len): the header
	// of every BTF since 4.18.
	headerMinLen = 24
	// headerLayoutLen is offsetofend(struct btf_header, layout_len), the
	// 2026 header (libbpf 462733ec).
	headerLayoutLen = 32
	// maxHeaderLen bounds hdr_len: the kernel copies at most a page of
	// header (btf_parse_hdr checks the tail beyond what it knows is zero),
	// and libbpf tolerates unknown trailing header bytes. A larger claim is
	// corruption.
	maxHeaderLen = 4096

	// typeHeaderSize is sizeof(struct btf_type): name_off, info,
	// size_or_type.
	typeHeaderSize = 12

	// maxResolveDepth bounds every walk along typedef, qualifier, pointer
	// and array chains and the nesting of anonymous members, as the kernel
	// bounds its own (kernel/bpf/btf.c MAX_RESOLVE_DEPTH is 32).
	maxResolveDepth = 32
)

// MaxBlobSize bounds the BTF that Load reads. The largest vmlinux BTF of a
// distribution kernel is about 6 MiB (Debian 6.1: 4.2 MiB); the kernel
// itself refuses module BTF larger than its type ID and name-offset limits
// allow. A size above this is a wrong symbol or damaged memory.
const MaxBlobSize = 64 << 20

// Kind is the BTF_KIND_* of a type: bits 24-30 of btf_type.info.
type Kind uint8

// The kinds of include/uapi/linux/btf.h, in their numbering.
const (
	KindVoid      Kind = 0 // BTF_KIND_UNKN: only type ID 0, void
	KindInt       Kind = 1
	KindPtr       Kind = 2
	KindArray     Kind = 3
	KindStruct    Kind = 4
	KindUnion     Kind = 5
	KindEnum      Kind = 6
	KindFwd       Kind = 7
	KindTypedef   Kind = 8
	KindVolatile  Kind = 9
	KindConst     Kind = 10
	KindRestrict  Kind = 11
	KindFunc      Kind = 12
	KindFuncProto Kind = 13
	KindVar       Kind = 14
	KindDatasec   Kind = 15
	KindFloat     Kind = 16
	KindDeclTag   Kind = 17
	KindTypeTag   Kind = 18
	KindEnum64    Kind = 19

	// numKnownKinds is NR_BTF_KINDS of the kinds this package decodes.
	numKnownKinds = 20
)

var kindNames = [numKnownKinds]string{
	"void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef",
	"volatile", "const", "restrict", "func", "func_proto", "var", "datasec",
	"float", "decl_tag", "type_tag", "enum64",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind%d", uint8(k))
}

// Known reports whether this package decodes the kind (1-19). Records of
// other kinds are skipped by their size in the layout section.
func (k Kind) Known() bool { return k > 0 && k < numKnownKinds }

// info word fields (include/uapi/linux/btf.h after libbpf 9801e029):
// bits 0-23 vlen, bits 24-30 kind, bit 31 kind_flag. Before 2026 vlen was
// bits 0-15 and kind bits 24-28, and every kernel refused a type with any
// of bits 16-23 or 29-30 set (kernel/bpf/btf.c btf_check_meta, "Invalid
// btf_info", BTF_INFO_MASK 0x9f00ffff). So the wide decoding reads every
// BTF a kernel ever accepted exactly as the narrow one did: no header
// field announces it, and none is needed.
func infoVlen(info uint32) uint32   { return info & 0xffffff }
func infoKind(info uint32) Kind     { return Kind(info >> 24 & 0x7f) }
func infoKindFlag(info uint32) bool { return info>>31 != 0 }

// Record sizes of each kind's tail after struct btf_type: the singular
// element and each of the vlen elements (libbpf btf.c "layouts", the same
// table the 2026 layout section encodes).
var kindLayouts = [numKnownKinds]Layout{
	KindInt:       {InfoSize: 4},  // u32 encoding/offset/bits
	KindArray:     {InfoSize: 12}, // struct btf_array
	KindStruct:    {ElemSize: 12}, // struct btf_member
	KindUnion:     {ElemSize: 12},
	KindEnum:      {ElemSize: 8},  // struct btf_enum
	KindFuncProto: {ElemSize: 8},  // struct btf_param
	KindVar:       {InfoSize: 4},  // struct btf_var
	KindDatasec:   {ElemSize: 12}, // struct btf_var_secinfo
	KindDeclTag:   {InfoSize: 4},  // struct btf_decl_tag
	KindEnum64:    {ElemSize: 12}, // struct btf_enum64
}

// Layout is struct btf_layout, one entry per kind of the optional layout
// section: how many bytes follow struct btf_type for that kind.
type Layout struct {
	InfoSize uint8  // the singular element
	ElemSize uint8  // each of the vlen elements
	Flags    uint16 // unused
}

// Header is struct btf_header. Offsets are relative to the end of the
// header (HdrLen bytes from the start of the blob).
type Header struct {
	Magic     uint16
	Version   uint8
	Flags     uint8
	HdrLen    uint32
	TypeOff   uint32
	TypeLen   uint32
	StrOff    uint32
	StrLen    uint32
	LayoutOff uint32 // 2026 header; 0 when HdrLen < 32
	LayoutLen uint32 // 0: no layout section
}

// parseHeader decodes the header at the start of b and picks the byte
// order from the magic. It checks the fields against each other and
// against the blob size, as the kernel's btf_parse_hdr and btf_check_sec_info
// and libbpf's btf_parse_hdr do, and returns the end of the last section
// (the bytes the blob really needs).
//
// b holds at least the first min(total, maxHeaderLen) bytes of a blob of
// total bytes.
func parseHeader(b []byte, total int) (Header, binary.ByteOrder, int, error) {
	var h Header
	if len(b) < headerMinLen {
		return h, nil, 0, errorf("btf_header", 0, model.ErrTruncated, "btf_header needs %d bytes, the blob has %d", headerMinLen, len(b))
	}
	var bo binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint16(b) == Magic:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint16(b) == Magic:
		bo = binary.BigEndian
	default:
		return h, nil, 0, errorf("btf_header", 0, model.ErrCorrupt, "magic %#04x is not BTF_MAGIC %#04x", binary.LittleEndian.Uint16(b), Magic)
	}
	h.Magic = Magic
	h.Version, h.Flags = b[2], b[3]
	h.HdrLen = bo.Uint32(b[4:])
	if h.Version != Version {
		return h, nil, 0, errorf("btf_header", 2, model.ErrUnsupported, "version %d (only %d exists)", h.Version, Version)
	}
	if h.Flags != 0 {
		// The kernel refuses any flag (btf_parse_hdr: "Unsupported
		// flags"), so a blob it parsed has none.
		return h, nil, 0, errorf("btf_header", 3, model.ErrUnsupported, "header flags %#x", h.Flags)
	}
	if h.HdrLen < headerMinLen || h.HdrLen > maxHeaderLen || h.HdrLen%4 != 0 {
		return h, nil, 0, errorf("btf_header", 4, model.ErrCorrupt, "hdr_len %d is not a multiple of 4 in %d..%d", h.HdrLen, headerMinLen, maxHeaderLen)
	}
	if int(h.HdrLen) > len(b) {
		return h, nil, 0, errorf("btf_header", 4, model.ErrTruncated, "hdr_len %d is beyond the blob's %d bytes", h.HdrLen, total)
	}
	h.TypeOff, h.TypeLen = bo.Uint32(b[8:]), bo.Uint32(b[12:])
	h.StrOff, h.StrLen = bo.Uint32(b[16:]), bo.Uint32(b[20:])
	if h.HdrLen >= headerLayoutLen {
		h.LayoutOff, h.LayoutLen = bo.Uint32(b[24:]), bo.Uint32(b[28:])
	}

	data := uint64(total) - uint64(h.HdrLen)
	typeEnd := uint64(h.TypeOff) + uint64(h.TypeLen)
	strEnd := uint64(h.StrOff) + uint64(h.StrLen)
	if h.TypeOff%4 != 0 {
		return h, nil, 0, errorf("btf_header", 8, model.ErrCorrupt, "type_off %#x is not 4-byte aligned", h.TypeOff)
	}
	if h.TypeLen%4 != 0 {
		return h, nil, 0, errorf("btf_header", 12, model.ErrCorrupt, "type_len %#x is not a multiple of 4", h.TypeLen)
	}
	if typeEnd > data {
		return h, nil, 0, errorf("btf_header", 8, model.ErrTruncated, "type section %#x+%#x is beyond the %#x bytes after the header", h.TypeOff, h.TypeLen, data)
	}
	if strEnd > data {
		return h, nil, 0, errorf("btf_header", 16, model.ErrTruncated, "string section %#x+%#x is beyond the %#x bytes after the header", h.StrOff, h.StrLen, data)
	}
	// Sections follow each other in this order: types, layout, strings
	// (libbpf btf_parse_hdr; the kernel sorts them and refuses overlaps).
	if typeEnd > uint64(h.StrOff) {
		return h, nil, 0, errorf("btf_header", 16, model.ErrCorrupt, "type section %#x+%#x overlaps the string section at %#x", h.TypeOff, h.TypeLen, h.StrOff)
	}
	end := strEnd
	if h.LayoutLen != 0 {
		layoutEnd := uint64(h.LayoutOff) + uint64(h.LayoutLen)
		switch {
		case h.LayoutOff%4 != 0 || h.LayoutLen%4 != 0:
			return h, nil, 0, errorf("btf_header", 24, model.ErrCorrupt, "layout section %#x+%#x is not 4-byte aligned", h.LayoutOff, h.LayoutLen)
		case uint64(h.LayoutOff) < typeEnd || layoutEnd > uint64(h.StrOff):
			return h, nil, 0, errorf("btf_header", 24, model.ErrCorrupt, "layout section %#x+%#x is not between the type section (end %#x) and the string section (%#x)", h.LayoutOff, h.LayoutLen, typeEnd, h.StrOff)
		}
	}
	return h, bo, int(uint64(h.HdrLen) + end), nil
}

// parseLayouts decodes the layout section: one struct btf_layout (4
// bytes) per kind, indexed by kind number.
func parseLayouts(b []byte, bo binary.ByteOrder) []Layout {
	out := make([]Layout, len(b)/4)
	for i := range out {
		out[i] = Layout{InfoSize: b[4*i], ElemSize: b[4*i+1], Flags: bo.Uint16(b[4*i+2:])}
	}
	return out
}
