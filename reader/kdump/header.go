// Package kdump reads makedumpfile's kdump-compressed files (signature
// "KDUMP   ") and the older diskdump files ("DISKDUMP"), including split
// sets: the main header, the sub-header of every header version (0-6) in
// its 64-bit and both 32-bit layouts, the two bitmaps, the page descriptors
// and the compressed pages.
//
// Layouts: ../shared/docs/formats.md §1, from makedumpfile diskdump_mod.h,
// crash diskdump.c, libkdumpfile diskdump.c and QEMU dump.h.
//
// Opening reads the main header and the sub-header only. The bitmaps are
// read in blocks on demand through a small cache; a page descriptor is
// found by its rank in bitmap 2, through a popcount index that is built in
// blocks as far as a lookup needs it; descriptors are read through a block
// cache; notes and VMCOREINFO are read on first use.
package kdump

import (
	"encoding/binary"
	"fmt"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
)

// Signatures of the main header.
const (
	SignatureKdump    = "KDUMP   "
	SignatureDiskdump = "DISKDUMP"
)

// Status flags (disk_dump_header.status) and page_desc.flags bits.
const (
	FlagZlib       = 0x01 // DUMP_DH_COMPRESSED_ZLIB
	FlagLZO        = 0x02 // DUMP_DH_COMPRESSED_LZO
	FlagSnappy     = 0x04 // DUMP_DH_COMPRESSED_SNAPPY
	FlagIncomplete = 0x08 // DUMP_DH_COMPRESSED_INCOMPLETE (KDUMP only)
	FlagVmemmap    = 0x10 // DUMP_DH_EXCLUDED_VMEMMAP
	FlagZstd       = 0x20 // DUMP_DH_COMPRESSED_ZSTD
)

// statusNames names the status bits for Info.Flags.
var statusNames = []struct {
	bit  uint32
	name string
}{
	{FlagZlib, "COMPRESSED_ZLIB"}, {FlagLZO, "COMPRESSED_LZO"}, {FlagSnappy, "COMPRESSED_SNAPPY"},
	{FlagIncomplete, "COMPRESSED_INCOMPLETE"}, {FlagVmemmap, "EXCLUDED_VMEMMAP"}, {FlagZstd, "COMPRESSED_ZSTD"},
}

// Utsname is struct new_utsname: six 65-byte strings.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// DiskDumpHeader is struct disk_dump_header (formats.md §1.2).
type DiskDumpHeader struct {
	Signature      string
	HeaderVersion  int32
	Utsname        Utsname
	TimestampSec   int64
	TimestampUsec  int64
	Status         uint32
	BlockSize      int32
	SubHdrSize     int32 // blocks
	BitmapBlocks   uint32
	MaxMapnr       uint32
	TotalRAMBlocks uint32
	DeviceBlocks   uint32
	WrittenBlocks  uint32
	CurrentCPU     uint32
	NrCPUs         int32
}

// KdumpSubHeader is struct kdump_sub_header (formats.md §1.4). Fields the
// header version does not have are zero.
type KdumpSubHeader struct {
	PhysBase         uint64
	DumpLevel        int32
	Split            int32
	StartPFN         uint64
	EndPFN           uint64
	OffsetVMCoreInfo int64
	SizeVMCoreInfo   uint64
	OffsetNote       int64
	SizeNote         uint64
	OffsetEraseInfo  int64
	SizeEraseInfo    uint64
	StartPFN64       uint64
	EndPFN64         uint64
	MaxMapnr64       uint64
}

// HeaderLayout says which offsets the main header uses.
type HeaderLayout int

// The two main header layouts: 32-bit writers (i386, ARM32...) and 64-bit
// writers (also ARM32 makedumpfile built with a 64-bit time_t).
const (
	Header32 HeaderLayout = 32
	Header64 HeaderLayout = 64
)

// SubLayout says which physical layout the sub-header has.
type SubLayout int

// The three sub-header layouts.
const (
	Sub64       SubLayout = iota // 104 bytes, 64-bit writers
	Sub32Packed                  // 80 bytes: i386, and every 32-bit QEMU dump
	Sub32Padded                  // 96 bytes: ARM32 (8-byte aligned 64-bit fields)
)

func (l SubLayout) String() string {
	return [...]string{"64-bit", "32-bit packed", "32-bit padded"}[l]
}

// field places one header field: its name as the C structure spells it,
// offset, size, the header version that introduced it and what it means.
// The same table decodes the header (set stores the value in the typed
// structure) and labels the layout, so the two cannot disagree.
type field[T any] struct {
	name    string
	off     int
	size    int
	since   int32
	meaning string
	set     func(h *T, v uint64)
}

// mainField and subField are the fields of disk_dump_header and of
// kdump_sub_header.
type (
	mainField = field[DiskDumpHeader]
	subField  = field[KdumpSubHeader]
)

// The field tables are built once per layout, on first use: opening a
// dump tries up to four layouts and byte orders.
var (
	mainFields32, mainFields64 fieldTable[DiskDumpHeader]
	subFieldsBy                [Sub32Padded + 1]fieldTable[KdumpSubHeader]
)

// fieldTable is a field table built on first use, as sync.OnceValue
// builds a value. sync.OnceValue allocates its state when it is called,
// so a package variable made by it costs every process start; a
// fieldTable variable is static data.
type fieldTable[T any] struct {
	once   sync.Once
	fields []field[T]
}

// get returns the table, which build makes the first time.
func (t *fieldTable[T]) get(build func() []field[T]) []field[T] {
	t.once.Do(func() { t.fields = build() })
	return t.fields
}

// mainFields lists disk_dump_header fields after the utsname for each
// layout (formats.md §1.2). The 32-bit layout's timestamp is two longs.
func mainFields(l HeaderLayout) []mainField {
	if l == Header32 {
		return mainFields32.get(func() []mainField { return buildMainFields(Header32) })
	}
	return mainFields64.get(func() []mainField { return buildMainFields(Header64) })
}

// mainFieldOff is the offset of a disk_dump_header field after the
// utsname ("max_mapnr") in a layout; -1 for a name the table lacks.
func mainFieldOff(l HeaderLayout, name string) int64 {
	for _, f := range mainFields(l) {
		if f.name == name {
			return int64(f.off)
		}
	}
	return -1
}

// subFields lists kdump_sub_header fields for each layout (formats.md
// §1.4) with the header version that added each.
func subFields(l SubLayout) []subField {
	return subFieldsBy[l].get(func() []subField { return buildSubFields(l) })
}

// buildMainFields makes mainFields' table of a layout.
func buildMainFields(l HeaderLayout) []mainField {
	tsSec := func(h *DiskDumpHeader, v uint64) { h.TimestampSec = int64(v) }
	tsUsec := func(h *DiskDumpHeader, v uint64) { h.TimestampUsec = int64(v) }
	at, long := 408, 8
	if l == Header32 {
		at, long = 404, 4
		tsSec = func(h *DiskDumpHeader, v uint64) { h.TimestampSec = int64(int32(v)) }
		tsUsec = func(h *DiskDumpHeader, v uint64) { h.TimestampUsec = int64(int32(v)) }
	}
	f := []mainField{
		{"timestamp.tv_sec", at, long, 0, "crash time (CRASHTIME copied by makedumpfile; 0 from QEMU)", tsSec},
		{"timestamp.tv_usec", at + long, long, 0, "microseconds, normally 0", tsUsec},
	}
	at += 2 * long
	for _, x := range []struct {
		name, meaning string
		set           func(h *DiskDumpHeader, v uint64)
	}{
		{"status", "flags: compression requested, incomplete dump, vmemmap excluded", func(h *DiskDumpHeader, v uint64) { h.Status = uint32(v) }},
		{"block_size", "bytes per block = page size of the dumped kernel", func(h *DiskDumpHeader, v uint64) { h.BlockSize = int32(v) }},
		{"sub_hdr_size", "blocks taken by the sub-header and the notes", func(h *DiskDumpHeader, v uint64) { h.SubHdrSize = int32(v) }},
		{"bitmap_blocks", "blocks taken by BOTH bitmaps", func(h *DiskDumpHeader, v uint64) { h.BitmapBlocks = uint32(v) }},
		{"max_mapnr", "highest pfn + 1, truncated to 32 bits (see max_mapnr_64)", func(h *DiskDumpHeader, v uint64) { h.MaxMapnr = uint32(v) }},
		{"total_ram_blocks", "diskdump legacy, 0", func(h *DiskDumpHeader, v uint64) { h.TotalRAMBlocks = uint32(v) }},
		{"device_blocks", "diskdump legacy, 0", func(h *DiskDumpHeader, v uint64) { h.DeviceBlocks = uint32(v) }},
		{"written_blocks", "diskdump legacy, 0", func(h *DiskDumpHeader, v uint64) { h.WrittenBlocks = uint32(v) }},
		{"current_cpu", "diskdump: CPU that took the dump", func(h *DiskDumpHeader, v uint64) { h.CurrentCPU = uint32(v) }},
		{"nr_cpus", "number of CPUs", func(h *DiskDumpHeader, v uint64) { h.NrCPUs = int32(v) }},
	} {
		f = append(f, mainField{x.name, at, 4, 0, x.meaning, x.set})
		at += 4
	}
	return f
}

// headerSize is the size of disk_dump_header before tasks[].
func headerSize(l HeaderLayout) int {
	if l == Header32 {
		return 452
	}
	return 464
}

// subMeanings says what each kdump_sub_header field holds. The table is
// made when a sub-header's fields are laid out, not at process start.
func subMeanings() map[string]string {
	return map[string]string{
		"phys_base":         "physical load offset of the kernel (x86_64 relocation)",
		"dump_level":        "makedumpfile -d: which page kinds were excluded",
		"split":             "non-zero: this file is one part of a split set",
		"start_pfn":         "first pfn stored in this split part (32-bit copy)",
		"end_pfn":           "pfn after the last one stored in this part (32-bit copy)",
		"offset_vmcoreinfo": "file offset of the VMCOREINFO text",
		"size_vmcoreinfo":   "length of the VMCOREINFO text",
		"offset_note":       "file offset of the copy of the ELF notes",
		"size_note":         "length of the notes",
		"offset_eraseinfo":  "file offset of the erase list (makedumpfile --config)",
		"size_eraseinfo":    "length of the erase list",
		"start_pfn_64":      "first pfn stored in this split part",
		"end_pfn_64":        "pfn after the last one stored in this part",
		"max_mapnr_64":      "highest pfn + 1 (64-bit; replaces max_mapnr)",
	}
}

// buildSubFields makes subFields' table of a layout. The layouts differ in
// the width of unsigned long (phys_base, start_pfn, end_pfn, the sizes)
// and in the alignment of the 64-bit offsets (the padded 32-bit layout of
// ARM aligns them to 8).
func buildSubFields(l SubLayout) []subField {
	long, align := 8, 8 // Sub64
	switch l {
	case Sub32Packed:
		long, align = 4, 4
	case Sub32Padded:
		long, align = 4, 8
	}
	var f []subField
	at, meanings := 0, subMeanings()
	add := func(name string, size int, since int32, set func(s *KdumpSubHeader, v uint64)) {
		if size == 8 {
			at = (at + align - 1) &^ (align - 1)
		}
		f = append(f, subField{name, at, size, since, meanings[name], set})
		at += size
	}
	add("phys_base", long, 0, func(s *KdumpSubHeader, v uint64) { s.PhysBase = v })
	add("dump_level", 4, 1, func(s *KdumpSubHeader, v uint64) { s.DumpLevel = int32(v) })
	add("split", 4, 2, func(s *KdumpSubHeader, v uint64) { s.Split = int32(v) })
	add("start_pfn", long, 2, func(s *KdumpSubHeader, v uint64) { s.StartPFN = v })
	add("end_pfn", long, 2, func(s *KdumpSubHeader, v uint64) { s.EndPFN = v })
	add("offset_vmcoreinfo", 8, 3, func(s *KdumpSubHeader, v uint64) { s.OffsetVMCoreInfo = int64(v) })
	add("size_vmcoreinfo", long, 3, func(s *KdumpSubHeader, v uint64) { s.SizeVMCoreInfo = v })
	add("offset_note", 8, 4, func(s *KdumpSubHeader, v uint64) { s.OffsetNote = int64(v) })
	add("size_note", long, 4, func(s *KdumpSubHeader, v uint64) { s.SizeNote = v })
	add("offset_eraseinfo", 8, 5, func(s *KdumpSubHeader, v uint64) { s.OffsetEraseInfo = int64(v) })
	add("size_eraseinfo", long, 5, func(s *KdumpSubHeader, v uint64) { s.SizeEraseInfo = v })
	add("start_pfn_64", 8, 6, func(s *KdumpSubHeader, v uint64) { s.StartPFN64 = v })
	add("end_pfn_64", 8, 6, func(s *KdumpSubHeader, v uint64) { s.EndPFN64 = v })
	add("max_mapnr_64", 8, 6, func(s *KdumpSubHeader, v uint64) { s.MaxMapnr64 = v })
	return f
}

// subHeaderSize is the size of kdump_sub_header in each layout.
func subHeaderSize(l SubLayout) int { return [...]int{104, 80, 96}[l] }

// cursor reads the integers of one structure from its bytes, in its byte
// order, like debug/dwarf's buf: a read past the end gives 0 and is
// remembered, so a decoder reads straight through and checks once.
type cursor struct {
	b     []byte
	order binary.ByteOrder
	short bool // a read ran past the end of b
}

// uint reads an unsigned integer of 1, 2, 4 or 8 bytes at off.
func (c *cursor) uint(off, size int) uint64 {
	if off < 0 || off+size > len(c.b) {
		c.short = true
		return 0
	}
	p := c.b[off : off+size]
	switch size {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(c.order.Uint16(p))
	case 4:
		return uint64(c.order.Uint32(p))
	case 8:
		return c.order.Uint64(p)
	}
	c.short = true
	return 0
}

// text reads a NUL-padded character array of n bytes at off.
func (c *cursor) text(off, n int) string {
	if off < 0 || off+n > len(c.b) {
		c.short = true
		return ""
	}
	return reader.CString(c.b[off : off+n])
}

// decodeMain decodes the main header in layout l and byte order o. b must
// hold headerSize(l) bytes; the caller reads that many.
func decodeMain(b []byte, l HeaderLayout, o binary.ByteOrder) DiskDumpHeader {
	c := cursor{b: b, order: o}
	h := DiskDumpHeader{Signature: c.text(0, 8), HeaderVersion: int32(c.uint(8, 4))}
	u := func(i int) string { return c.text(12+65*i, 65) }
	h.Utsname = Utsname{u(0), u(1), u(2), u(3), u(4), u(5)}
	for _, f := range mainFields(l) {
		f.set(&h, c.uint(f.off, f.size))
	}
	return h
}

// plausibleMain is libkdumpfile's test for a layout and byte order
// (formats.md §1.14): block_size a power of two in [4096, 262144] and the
// bitmaps large enough for max_mapnr.
func plausibleMain(h DiskDumpHeader) bool {
	bs := h.BlockSize
	if bs < 4096 || bs > 262144 || bs&(bs-1) != 0 {
		return false
	}
	return 8*uint64(h.BitmapBlocks)*uint64(bs) >= uint64(h.MaxMapnr)
}

// detectMain finds the layout and byte order of the main header: the
// 32-bit offsets first, then the 64-bit ones, each little- then big-endian.
// When no candidate passes the full test, a candidate whose block size
// alone is plausible is taken, so that a header with a corrupt max_mapnr
// or bitmap_blocks still opens (and is reported) rather than being
// refused.
func detectMain(b []byte) (DiskDumpHeader, HeaderLayout, binary.ByteOrder, bool) {
	for _, full := range []bool{true, false} {
		for _, l := range []HeaderLayout{Header32, Header64} {
			for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				h := decodeMain(b, l, o)
				if plausibleMain(h) || (!full && plausibleBlock(h)) {
					return h, l, o, true
				}
			}
		}
	}
	return DiskDumpHeader{}, 0, nil, false
}

// plausibleBlock is the part of plausibleMain that does not depend on
// max_mapnr: a power-of-two block size in [4096, 262144], a sub-header
// size and a bitmap size that are not absurd.
func plausibleBlock(h DiskDumpHeader) bool {
	bs := h.BlockSize
	return bs >= 4096 && bs <= 262144 && bs&(bs-1) == 0 && h.SubHdrSize >= 0 && h.SubHdrSize < 1<<20 && h.BitmapBlocks > 0
}

// decodeSub decodes the sub-header fields the version has; fields the
// version does not have, or that b (cut by the end of the file) does not
// hold, stay zero.
func decodeSub(b []byte, l SubLayout, o binary.ByteOrder, version int32) KdumpSubHeader {
	c := cursor{b: b, order: o}
	var s KdumpSubHeader
	for _, f := range subFields(l) {
		if f.since <= version && f.off+f.size <= len(b) {
			f.set(&s, c.uint(f.off, f.size))
		}
	}
	return s
}

// subPlausible checks the pointers of a decoded sub-header against the
// sub-header area, the way libkdumpfile tells the 32-bit layouts apart
// (formats.md §1.4): each (offset, size) pair is either absent or lies
// inside [block_size, (1+sub_hdr_size)*block_size] (VMCOREINFO and notes),
// or inside the file (eraseinfo).
func subPlausible(s KdumpSubHeader, h DiskDumpHeader, fileSize int64, version int32) bool {
	area := (1 + int64(h.SubHdrSize)) * int64(h.BlockSize)
	in := func(off int64, size uint64, lo, hi int64) bool {
		if off == 0 && size == 0 {
			return true
		}
		end, ok := reader.AddOK(off, int64(size))
		return ok && off >= lo && size < 1<<40 && end <= hi
	}
	if version >= 3 && !in(s.OffsetVMCoreInfo, s.SizeVMCoreInfo, int64(h.BlockSize), area) {
		return false
	}
	if version >= 4 && !in(s.OffsetNote, s.SizeNote, int64(h.BlockSize), area) {
		return false
	}
	// Eraseinfo follows the page data; a truncated file may have lost it,
	// so only its start is checked.
	if version >= 5 && !in(s.OffsetEraseInfo, min(s.SizeEraseInfo, 1), area, 1<<62) {
		return false
	}
	return true
}

// chooseSub picks the sub-header layout: the one the main header's layout
// implies first, then the others, keeping the first whose pointers are
// plausible. 32-bit ARM makedumpfile with a 64-bit time_t writes the
// 64-bit main layout with a 32-bit padded sub-header, so a 64-bit main
// layout whose machine is 32-bit ARM tries the 32-bit layouts first.
func chooseSub(b []byte, h DiskDumpHeader, l HeaderLayout, o binary.ByteOrder, fileSize int64) (KdumpSubHeader, SubLayout, bool) {
	order := []SubLayout{Sub64, Sub32Packed, Sub32Padded}
	if l == Header32 || isARM32(h.Utsname.Machine) {
		order = []SubLayout{Sub32Packed, Sub32Padded, Sub64}
	}
	version := min(h.HeaderVersion, 6)
	// Prefer a layout whose max_mapnr_64 agrees with max_mapnr (version 6),
	// then any with plausible pointers.
	agrees := func(s KdumpSubHeader) bool {
		return version < 6 || uint64(h.MaxMapnr) == min(s.MaxMapnr64, 0xffffffff)
	}
	for _, strict := range []bool{true, false} {
		for _, sl := range order {
			if s := decodeSub(b, sl, o, version); subPlausible(s, h, fileSize, version) && (!strict || agrees(s)) {
				return s, sl, true
			}
		}
	}
	return decodeSub(b, order[0], o, version), order[0], false
}

func isARM32(machine string) bool {
	return len(machine) >= 3 && machine[:3] == "arm" && machine != "arm64"
}

// archFromMachine maps utsname.machine to the contract's architecture
// names; "" when the machine string says nothing usable.
func archFromMachine(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "x86_64"
	case "i386", "i486", "i586", "i686":
		return "i386"
	case "aarch64", "arm64":
		return "aarch64"
	case "ppc64", "ppc64le", "s390x", "riscv64", "ia64":
		return m
	}
	if isARM32(m) {
		return "arm"
	}
	return ""
}

// statusFlags names the status bits that are set.
func statusFlags(sig string, status uint32) []string {
	var out []string
	for _, s := range statusNames {
		if status&s.bit != 0 {
			if s.bit == FlagIncomplete && sig != SignatureKdump {
				out = append(out, "DUMP_HEADER_COMPRESSED") // diskdump's meaning of 0x8
				continue
			}
			out = append(out, s.name)
		}
	}
	if rest := status &^ 0x3f; rest != 0 {
		out = append(out, fmt.Sprintf("unknown 0x%x", rest))
	}
	return out
}

// codecOf returns the codec of a page_desc.flags value, testing the bits
// in the order zlib, LZO, snappy, zstd as crash and makedumpfile do.
func codecOf(flags uint32) model.Codec {
	switch {
	case flags&FlagZlib != 0:
		return model.CodecZlib
	case flags&FlagLZO != 0:
		return model.CodecLZO
	case flags&FlagSnappy != 0:
		return model.CodecSnappy
	case flags&FlagZstd != 0:
		return model.CodecZstd
	}
	return model.CodecNone
}
