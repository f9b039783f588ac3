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

// field places one header field: offset, size and the header version that
// introduced it.
type field struct {
	name    string
	off     int
	size    int
	since   int32
	meaning string
}

// mainFields lists disk_dump_header fields after the utsname for each
// layout (formats.md §1.2).
func mainFields(l HeaderLayout) []field {
	if l == Header32 {
		return []field{
			{"timestamp.tv_sec", 404, 4, 0, "crash time (CRASHTIME copied by makedumpfile; 0 from QEMU)"},
			{"timestamp.tv_usec", 408, 4, 0, "microseconds, normally 0"},
			{"status", 412, 4, 0, "flags: compression requested, incomplete dump, vmemmap excluded"},
			{"block_size", 416, 4, 0, "bytes per block = page size of the dumped kernel"},
			{"sub_hdr_size", 420, 4, 0, "blocks taken by the sub-header and the notes"},
			{"bitmap_blocks", 424, 4, 0, "blocks taken by BOTH bitmaps"},
			{"max_mapnr", 428, 4, 0, "highest pfn + 1, truncated to 32 bits (see max_mapnr_64)"},
			{"total_ram_blocks", 432, 4, 0, "diskdump legacy, 0"},
			{"device_blocks", 436, 4, 0, "diskdump legacy, 0"},
			{"written_blocks", 440, 4, 0, "diskdump legacy, 0"},
			{"current_cpu", 444, 4, 0, "diskdump: CPU that took the dump"},
			{"nr_cpus", 448, 4, 0, "number of CPUs"},
		}
	}
	return []field{
		{"timestamp.tv_sec", 408, 8, 0, "crash time (CRASHTIME copied by makedumpfile; 0 from QEMU)"},
		{"timestamp.tv_usec", 416, 8, 0, "microseconds, normally 0"},
		{"status", 424, 4, 0, "flags: compression requested, incomplete dump, vmemmap excluded"},
		{"block_size", 428, 4, 0, "bytes per block = page size of the dumped kernel"},
		{"sub_hdr_size", 432, 4, 0, "blocks taken by the sub-header and the notes"},
		{"bitmap_blocks", 436, 4, 0, "blocks taken by BOTH bitmaps"},
		{"max_mapnr", 440, 4, 0, "highest pfn + 1, truncated to 32 bits (see max_mapnr_64)"},
		{"total_ram_blocks", 444, 4, 0, "diskdump legacy, 0"},
		{"device_blocks", 448, 4, 0, "diskdump legacy, 0"},
		{"written_blocks", 452, 4, 0, "diskdump legacy, 0"},
		{"current_cpu", 456, 4, 0, "diskdump: CPU that took the dump"},
		{"nr_cpus", 460, 4, 0, "number of CPUs"},
	}
}

// headerSize is the size of disk_dump_header before tasks[].
func headerSize(l HeaderLayout) int {
	if l == Header32 {
		return 452
	}
	return 464
}

// subFields lists kdump_sub_header fields for each layout (formats.md
// §1.4) with the header version that added each.
func subFields(l SubLayout) []field {
	m := map[string]string{
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
	var f []field
	add := func(name string, off, size int, since int32) {
		f = append(f, field{name, off, size, since, m[name]})
	}
	switch l {
	case Sub64:
		add("phys_base", 0, 8, 0)
		add("dump_level", 8, 4, 1)
		add("split", 12, 4, 2)
		add("start_pfn", 16, 8, 2)
		add("end_pfn", 24, 8, 2)
		add("offset_vmcoreinfo", 32, 8, 3)
		add("size_vmcoreinfo", 40, 8, 3)
		add("offset_note", 48, 8, 4)
		add("size_note", 56, 8, 4)
		add("offset_eraseinfo", 64, 8, 5)
		add("size_eraseinfo", 72, 8, 5)
		add("start_pfn_64", 80, 8, 6)
		add("end_pfn_64", 88, 8, 6)
		add("max_mapnr_64", 96, 8, 6)
	case Sub32Packed:
		add("phys_base", 0, 4, 0)
		add("dump_level", 4, 4, 1)
		add("split", 8, 4, 2)
		add("start_pfn", 12, 4, 2)
		add("end_pfn", 16, 4, 2)
		add("offset_vmcoreinfo", 20, 8, 3)
		add("size_vmcoreinfo", 28, 4, 3)
		add("offset_note", 32, 8, 4)
		add("size_note", 40, 4, 4)
		add("offset_eraseinfo", 44, 8, 5)
		add("size_eraseinfo", 52, 4, 5)
		add("start_pfn_64", 56, 8, 6)
		add("end_pfn_64", 64, 8, 6)
		add("max_mapnr_64", 72, 8, 6)
	case Sub32Padded:
		add("phys_base", 0, 4, 0)
		add("dump_level", 4, 4, 1)
		add("split", 8, 4, 2)
		add("start_pfn", 12, 4, 2)
		add("end_pfn", 16, 4, 2)
		add("offset_vmcoreinfo", 24, 8, 3)
		add("size_vmcoreinfo", 32, 4, 3)
		add("offset_note", 40, 8, 4)
		add("size_note", 48, 4, 4)
		add("offset_eraseinfo", 56, 8, 5)
		add("size_eraseinfo", 64, 4, 5)
		add("start_pfn_64", 72, 8, 6)
		add("end_pfn_64", 80, 8, 6)
		add("max_mapnr_64", 88, 8, 6)
	}
	return f
}

// subHeaderSize is the size of kdump_sub_header in each layout.
func subHeaderSize(l SubLayout) int { return [...]int{104, 80, 96}[l] }

func getUint(o binary.ByteOrder, b []byte, off, size int) uint64 {
	switch size {
	case 4:
		return uint64(o.Uint32(b[off:]))
	case 8:
		return o.Uint64(b[off:])
	}
	return 0
}

// decodeMain decodes the main header in layout l and byte order o.
func decodeMain(b []byte, l HeaderLayout, o binary.ByteOrder) DiskDumpHeader {
	h := DiskDumpHeader{Signature: string(b[:8]), HeaderVersion: int32(o.Uint32(b[8:]))}
	s := func(i int) string { return reader.CString(b[12+65*i : 12+65*(i+1)]) }
	h.Utsname = Utsname{s(0), s(1), s(2), s(3), s(4), s(5)}
	v := map[string]uint64{}
	for _, f := range mainFields(l) {
		v[f.name] = getUint(o, b, f.off, f.size)
	}
	if l == Header32 {
		h.TimestampSec, h.TimestampUsec = int64(int32(v["timestamp.tv_sec"])), int64(int32(v["timestamp.tv_usec"]))
	} else {
		h.TimestampSec, h.TimestampUsec = int64(v["timestamp.tv_sec"]), int64(v["timestamp.tv_usec"])
	}
	h.Status = uint32(v["status"])
	h.BlockSize = int32(v["block_size"])
	h.SubHdrSize = int32(v["sub_hdr_size"])
	h.BitmapBlocks = uint32(v["bitmap_blocks"])
	h.MaxMapnr = uint32(v["max_mapnr"])
	h.TotalRAMBlocks = uint32(v["total_ram_blocks"])
	h.DeviceBlocks = uint32(v["device_blocks"])
	h.WrittenBlocks = uint32(v["written_blocks"])
	h.CurrentCPU = uint32(v["current_cpu"])
	h.NrCPUs = int32(v["nr_cpus"])
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

// decodeSub decodes the sub-header fields the version has.
func decodeSub(b []byte, l SubLayout, o binary.ByteOrder, version int32) KdumpSubHeader {
	v := map[string]uint64{}
	for _, f := range subFields(l) {
		if f.since <= version && f.off+f.size <= len(b) {
			v[f.name] = getUint(o, b, f.off, f.size)
		}
	}
	return KdumpSubHeader{
		PhysBase: v["phys_base"], DumpLevel: int32(v["dump_level"]), Split: int32(v["split"]),
		StartPFN: v["start_pfn"], EndPFN: v["end_pfn"],
		OffsetVMCoreInfo: int64(v["offset_vmcoreinfo"]), SizeVMCoreInfo: v["size_vmcoreinfo"],
		OffsetNote: int64(v["offset_note"]), SizeNote: v["size_note"],
		OffsetEraseInfo: int64(v["offset_eraseinfo"]), SizeEraseInfo: v["size_eraseinfo"],
		StartPFN64: v["start_pfn_64"], EndPFN64: v["end_pfn_64"], MaxMapnr64: v["max_mapnr_64"],
	}
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
