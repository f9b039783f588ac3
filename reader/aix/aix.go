// Package aix reads AIX system dumps: a sequence of component dump tables
// (CDTs), each followed, for every data area it names, by a bitmap of the
// area's pages that were in memory and then those pages' bytes.
//
// The layout is in ../shared/docs/formats.md §6. It rests on AIX 4.1's
// bos/kernel/sys/dump.h and bos/kernel/io/dumpdd.c (wr_cdt, the kernel's
// writer), the dmpfmt formatter (bos/usr/bin/sysdumpdev), AIX 5.3's
// sys/dump.h and IBM's view-dump/cdt.h walker, and the IBM "dmp_add Kernel
// Service" page, which says it in words:
//
//	The component dump table is followed by a bit map for the first data
//	area, then the first data area itself, then a bit map for the next
//	data area, the next data area itself, and so on. [...] The least
//	significant bit of the first byte of the bit map is set to 1 (one) if
//	the first page is present.
//
// Everything is big-endian. There is no file header: the first table starts
// at byte 0, or at 512 when the file is a copy of the dump logical volume
// whose first sector (the LVM control block) the writer skips. Five table
// kinds exist (§6.3): 32-bit tables whose areas are clipped at the end of
// their 256 MiB segment, 32-bit tables with real/virtual entries, 64-bit
// tables, and "unlimited" tables (32- and 64-bit kernels) whose entries are
// not counted in the header but each carry their own magic. The dump ends
// at DMP_MAGIC_END, at a zero magic (padding to the device block), at the
// end of the file, or at any other magic, which AIX's readers call "loss of
// sync".
//
// Like debug/elf, the package exposes the on-disk structures as plain
// structs (CDTHead, Entry) and reads through an io.ReaderAt. NewFile reads
// the first table header only. The walk over all tables, which reads table
// headers, entries and bitmaps but never the data, runs on first use; the
// data offsets of the pages come from the bitmaps' popcounts. Bitmaps are
// not kept in memory: a rank (count of set bits before each 4 KiB block)
// is kept, and blocks are read again through a small cache when needed.
//
// Entries whose address is real (physical) also appear in the Dump
// contract's physical page view (see phys.go); every entry, real or
// virtual, can be read by address with ReadArea.
package aix

import (
	"encoding/binary"
	"fmt"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Table and entry magics (formats.md §6.3, AIX 5.3 sys/dump.h).
const (
	MagicEnd  uint32 = 0xEEEEEEE0 // DMP_MAGIC_END: end of the dump
	MagicUD64 uint32 = 0xEEEEEEE9 // DMP_MAGIC_UD64: each entry of a U64 table
	MagicUD32 uint32 = 0xEEEEEEEA // DMP_MAGIC_UD32: each entry of a U32 table
	MagicU64  uint32 = 0xEEEEEEEB // DMP_MAGIC_U64: unlimited table, 64-bit kernel
	MagicU32  uint32 = 0xEEEEEEEC // DMP_MAGIC_U32: unlimited table, 32-bit kernel
	Magic64   uint32 = 0xEEEEEEED // DMP_MAGIC_64: 64-bit table
	Magic32   uint32 = 0xEEEEEEEE // DMP_MAGIC_32 (AIX 4.x DMP_MAGIC): 32-bit table
	MagicVR   uint32 = 0xEEEEEEEF // DMP_MAGIC_VR: 32-bit table, real/virtual entries
)

// Segment values and flags that say an entry's address is real (§6.4).
const (
	// RealSegval32 (DUMP_REAL_SEGVAL32) in d_segval of a 32-bit entry or
	// du_segval of a U32 entry: d_ptr is a real address.
	RealSegval32 uint64 = 0x007FFFFF
	// RealSegval64 (DUMP_REAL_SEGVAL64) in d_segval of a 64-bit entry or
	// du_segval of a U64 entry: d_ptr is a real address.
	RealSegval64 uint64 = 0xFFFFFFFFFFFFFFFE
	// GenSegval64 (DUMP_GEN_SEGVAL64): the general kernel mapping.
	GenSegval64 uint64 = 0xFFFFFFFFFFFFFFFF
	// DReal and DVMID are cdt_entry_vr d_addrflags bits: the address is
	// real (d_realaddr), or d_segval holds a vmid rather than a handle.
	DReal uint32 = 0x1
	DVMID uint32 = 0x2
)

// Sizes of the on-disk structures (§6.4).
const (
	HeadSize    = 24 // cdt_head, cdt_head_u
	Entry32Size = 20 // cdt_entry32 (AIX 4.x cdt_entry)
	EntryVRSize = 32 // cdt_entry_vr
	Entry64Size = 48 // cdt_entry64
	EntryUSize  = 56 // cdt_entry_u
	PageSize    = 4096
	// segmentSize is a 32-bit effective-address segment, and the 4.1
	// writer's cap on one area (DMP_MAXPAGES * PAGESIZE, §6.7).
	segmentSize = 256 << 20
)

// MaxEntries bounds the number of tables plus entries the walk indexes, so
// a hostile file cannot make it allocate without limit. Real dumps have a
// few thousand.
const MaxEntries = 1 << 20

// MagicName names a magic as AIX's headers do, or "" if it is not one.
func MagicName(m uint32) string {
	switch m {
	case MagicEnd:
		return "DMP_MAGIC_END"
	case MagicUD64:
		return "DMP_MAGIC_UD64"
	case MagicUD32:
		return "DMP_MAGIC_UD32"
	case MagicU64:
		return "DMP_MAGIC_U64"
	case MagicU32:
		return "DMP_MAGIC_U32"
	case Magic64:
		return "DMP_MAGIC_64"
	case Magic32:
		return "DMP_MAGIC_32"
	case MagicVR:
		return "DMP_MAGIC_VR"
	}
	return ""
}

// IsTableMagic reports whether m starts a component dump table.
func IsTableMagic(m uint32) bool {
	return m == Magic32 || m == MagicVR || m == Magic64 || m == MagicU32 || m == MagicU64
}

// unlimited reports whether tables of this magic are unlimited tables.
func unlimited(m uint32) bool { return m == MagicU32 || m == MagicU64 }

// entrySize returns the size of one entry of a table kind.
func entrySize(m uint32) int64 {
	switch m {
	case Magic32:
		return Entry32Size
	case MagicVR:
		return EntryVRSize
	case Magic64:
		return Entry64Size
	}
	return EntryUSize
}

// entryStructName is the C name of the entry structure of a table kind.
func entryStructName(m uint32) string {
	switch m {
	case Magic32:
		return "cdt_entry32"
	case MagicVR:
		return "cdt_entry_vr"
	case Magic64:
		return "cdt_entry64"
	}
	return "cdt_entry_u"
}

// CDTHead is the 24-byte header of a component dump table: cdt_head for
// 32-bit, VR and 64-bit tables, cdt_head_u for unlimited ones.
type CDTHead struct {
	Magic uint32 // cdt_magic / cdtu_magic
	Name  string // cdt_name[16]: the component (kernel extension) name
	// Len is cdt_len: bytes of header plus entries. For unlimited tables
	// the field is cdtu_nentries instead, which AIX leaves 0 in the dump.
	Len int32
}

// Entry is one table entry, whatever its on-disk structure: cdt_entry32,
// cdt_entry_vr, cdt_entry64 or cdt_entry_u.
type Entry struct {
	Name string // d_name / du_name
	// Addr is d_ptr (du_ptr), or d_realaddr for a VR entry with D_REAL.
	Addr uint64
	Len  uint64 // d_len / du_len
	// Segval is d_segval / du_segval (or d_vmid); 0 for VR real entries,
	// whose d_realaddr overlays it.
	Segval    uint64
	AddrFlags uint32 // cdt_entry_vr d_addrflags
	Xmemp     uint64 // d_xmemp / du_xmemp, a kernel pointer
	Magic     uint32 // du_magic of an unlimited entry
	// Real is true when Addr is a real (physical) address.
	Real bool
}

// decodeHead decodes a table header.
func decodeHead(b []byte) CDTHead {
	be := binary.BigEndian
	return CDTHead{Magic: be.Uint32(b[0:]), Name: reader.CString(b[4:20]), Len: int32(be.Uint32(b[20:]))}
}

// decodeEntry decodes one entry of a table of kind m from b, which holds
// at least entrySize(m) bytes.
func decodeEntry(m uint32, b []byte) Entry {
	be := binary.BigEndian
	var e Entry
	switch m {
	case Magic32:
		e = Entry{Name: reader.CString(b[0:8]), Len: uint64(be.Uint32(b[8:])), Addr: uint64(be.Uint32(b[12:])), Segval: uint64(be.Uint32(b[16:]))}
		e.Real = e.Segval == RealSegval32
	case MagicVR:
		e = Entry{Name: reader.CString(b[0:16]), Len: uint64(be.Uint32(b[16:])), AddrFlags: be.Uint32(b[20:])}
		if e.AddrFlags&DReal != 0 {
			e.Addr, e.Real = be.Uint64(b[24:]), true
		} else {
			e.Addr, e.Segval = uint64(be.Uint32(b[24:])), uint64(be.Uint32(b[28:]))
		}
	case Magic64:
		e = Entry{Name: reader.CString(b[0:16]), Len: be.Uint64(b[16:]), Addr: be.Uint64(b[24:]), Segval: be.Uint64(b[32:]), Xmemp: be.Uint64(b[40:])}
		e.Real = e.Segval == RealSegval64
	default:
		e = Entry{Magic: be.Uint32(b[0:]), Name: reader.CString(b[4:20]), Len: be.Uint64(b[24:]), Addr: be.Uint64(b[32:]), Segval: be.Uint64(b[40:]), Xmemp: be.Uint64(b[48:])}
		// view-dump: a U32 entry is real when du_segval equals the 32-bit
		// cookie, a U64 entry when it equals the 64-bit one.
		e.Real = (e.Magic == MagicUD32 && e.Segval == RealSegval32) || (e.Magic == MagicUD64 && e.Segval == RealSegval64)
	}
	return e
}

// geometry is what the bitmap of an area covers (formats.md §6.6).
type geometry struct {
	npages uint64 // bits in the bitmap: pages spanned by the dumped bytes
	lead   uint64 // offset of the area's first byte in its page
	tail   uint64 // bytes of the last page after the dumped bytes
	span   uint64 // dumped bytes: npages*4096 - lead - tail; < Len when clipped
}

// clipped reports whether tables of kind m clip entries at the end of
// their 256 MiB segment: DMP_MAGIC_32 tables, and VR entries with virtual
// addresses (NPAGES32 / NPAGES_VR in AIX 5.3 sys/dump.h).
func clipped(m uint32, e Entry) bool {
	return m == Magic32 || (m == MagicVR && !e.Real)
}

// geometryOf computes the pages of an entry's area.
//
// 32-bit clipped areas: the 4.1 writer first caps the length at 256 MiB
// (§6.7), then NPAGES = btop(last) - btop(ptr) + 1 with btop(a) = (a &
// 0x0FFFFFFF) / 4096 and last = ptr+len-1 if that lies in ptr's segment,
// else 0x0FFFFFFF (the segment's last byte). Everything else (64-bit,
// unlimited, VR real): ((ptr & 0xFFF) + len + 4095) / 4096 pages, computed
// here without overflow for lengths near 2^64.
func geometryOf(m uint32, e Entry) geometry {
	if e.Len == 0 {
		return geometry{}
	}
	if clipped(m, e) {
		length := min(e.Len, segmentSize)
		p := uint32(e.Addr)
		last := p + uint32(length) - 1 // wraps like the C unsigned arithmetic
		if last&0xF0000000 != p&0xF0000000 {
			last = 0x0FFFFFFF
		}
		btop := func(a uint32) uint64 { return uint64(a&0x0FFFFFFF) / PageSize }
		g := geometry{npages: btop(last) - btop(p) + 1, lead: uint64(p) % PageSize}
		g.span = min(length, g.npages*PageSize-g.lead)
		g.tail = g.npages*PageSize - g.lead - g.span
		return g
	}
	g := geometry{lead: e.Addr % PageSize, span: e.Len}
	g.npages = e.Len/PageSize + (g.lead+e.Len%PageSize+PageSize-1)/PageSize
	g.tail = (PageSize - (g.lead+e.Len%PageSize)%PageSize) % PageSize
	return g
}

// chunk returns the number of bytes page i of the area holds.
func (g geometry) chunk(i uint64) uint64 {
	c := uint64(PageSize)
	if i == 0 {
		c -= g.lead
	}
	if i == g.npages-1 {
		c -= g.tail
	}
	return c
}

// pageStart returns the area-relative offset of page i's first byte. Only
// call it for pages whose bit is in the file (i < 8 × file size), which
// keeps the product far from overflow.
func (g geometry) pageStart(i uint64) uint64 {
	if i == 0 {
		return 0
	}
	return i*PageSize - g.lead
}

// pageOf returns the page holding area-relative offset rel (< span).
func (g geometry) pageOf(rel uint64) uint64 {
	return rel/PageSize + (g.lead+rel%PageSize)/PageSize
}

// File is an open AIX system dump.
type File struct {
	src   reader.Source
	start int64 // offset of the first table: 0 or 512
	first CDTHead

	walkOnce sync.Once
	w        *walk

	physOnce sync.Once
	phys     *physIndex

	blocks *reader.LRU[int64, []byte] // bitmap blocks by file offset
}

// NewFile opens the dump in src whose first component dump table starts at
// start (0, or 512 after the LVM sector; reader.Detect finds which). Only
// the first table header is read here; it must carry a table magic.
func NewFile(src reader.Source, start int64) (*File, error) {
	if start < 0 || start > src.Size {
		return nil, model.Errorf(src.Name, "cdt_head", start, model.ErrCorrupt, "start offset %d is outside the file", start)
	}
	b := make([]byte, HeadSize)
	if err := src.ReadAt(b, start, "cdt_head"); err != nil {
		return nil, err
	}
	h := decodeHead(b)
	if !IsTableMagic(h.Magic) {
		return nil, model.Errorf(src.Name, "cdt_head", start, model.ErrUnrecognized,
			"no component dump table magic (found %#08x)", h.Magic)
	}
	return &File{src: src, start: start, first: h, blocks: reader.NewLRU[int64, []byte](64)}, nil
}

// Start returns the offset of the first table.
func (f *File) Start() int64 { return f.start }

// Close closes the underlying reader if it can be closed.
func (f *File) Close() error { return reader.Close(f.src.R) }

// walked returns the result of the table walk, running it once.
func (f *File) walked() *walk {
	f.walkOnce.Do(func() { f.w = f.runWalk() })
	return f.w
}

// areaName names entry e of component c for messages ("area 1.3 \"kernel\"").
func areaName(c, e int, name string) string {
	return fmt.Sprintf("area %d.%d %q", c, e, reader.Printable(name))
}
