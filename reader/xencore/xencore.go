// Package xencore reads Xen domain core dumps, as `xm dump-core` and
// `xl dump-core` write them: the ELF-based dump-core of Xen 3.1 and later
// (format 0.1) and the legacy pre-ELF core of Xen 3.0.x.
//
// An ELF dump-core (../shared/docs/formats.md §4; Xen
// docs/misc/dump-core-format.txt, tools/libs/guest/xg_core.c) is an
// ELFCLASS64 ET_CORE file with no program headers and these sections,
// found by name:
//
//	.note.Xen             four "Xen" notes: a marker, the header (PV or
//	                      HVM magic, vCPU count, page count, page size),
//	                      the hypervisor's version and the format version
//	.xen_prstatus         one vcpu_guest_context per vCPU (package arch)
//	.xen_shared_info      the domain's shared_info page (optional)
//	.xen_ia64_mapped_regs one mapped_regs_t per vCPU (ia64 PV only)
//	.xen_pages            the pages, in the order of the table below
//	.xen_p2m / .xen_pfn   which guest frame each page is: {pfn, gmfn}
//	                      pairs for PV guests, bare pfns for HVM and ia64
//	                      guests, ascending, ~0 marking invalid entries
//
// Frame numbers: a PV guest's --pfn is its pseudo-physical frame and the
// machine frame is shown beside it (PageInfo.MFN). A legacy core (§4.7)
// lists only machine frames, in the hypervisor's order, so there PFN means
// machine frame (Info.FrameKind "machine").
//
// Like debug/elf, the package exposes the on-disk structures as plain
// structs (FileHeader, SectionHeader, Header, XenVersion, LegacyHeader)
// and reads through an io.ReaderAt. Opening reads the ELF header, the
// section headers, the string table and the notes; the frame table is
// never loaded whole: lookups binary-search it in blocks through a small
// cache, and the register contexts are decoded on first use.
package xencore

import (
	"debug/elf"
	"encoding/binary"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
	"dumpscope/reader/elfnote"
)

// Xen dump-core constants (formats.md §4.3, §4.7; Xen xg_core.h and
// public/elfnote.h).
const (
	MagicPV  = 0xF00FEBED // XC_CORE_MAGIC: paravirtualized domain
	MagicHVM = 0xF00FEBEE // XC_CORE_MAGIC_HVM: fully virtualized domain

	NoteNone          = elfnote.XenDumpCoreNone // XEN_ELFNOTE_DUMPCORE_NONE
	NoteHeader        = elfnote.XenDumpCoreHdr  // XEN_ELFNOTE_DUMPCORE_HEADER
	NoteXenVersion    = elfnote.XenDumpCoreVer  // XEN_ELFNOTE_DUMPCORE_XEN_VERSION
	NoteFormatVersion = elfnote.XenDumpCoreFmt  // XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION

	// FormatVersion01 is the only format version in use: major 0 in the
	// high 32 bits, minor 1 in the low 32.
	FormatVersion01 = 1
)

// Section names (formats.md §4.2).
const (
	SecStrtab     = ".shstrtab"
	SecNotes      = ".note.Xen"
	SecPrstatus   = ".xen_prstatus"
	SecSharedInfo = ".xen_shared_info"
	SecMappedRegs = ".xen_ia64_mapped_regs"
	SecPages      = ".xen_pages"
	SecP2M        = ".xen_p2m"
	SecPFN        = ".xen_pfn"
)

// Limits that keep hostile headers from causing large allocations.
const (
	// MaxSections bounds the section headers read (libxc writes 6 to 8).
	MaxSections = 1 << 12
	// MaxVCPUs bounds the vCPU contexts decoded.
	MaxVCPUs  = 1 << 14
	maxStrtab = 1 << 16
	maxNotes  = 1 << 20
)

// FileHeader is the Elf64_Ehdr of a dump-core (formats.md §4.1): the
// ELF header every ELF core has, so elfcore's. On x86 Machine is the
// guest's width: EM_X86_64 or EM_386.
type FileHeader = elfnote.FileHeader

// SectionHeader is one Elf64_Shdr with its name resolved.
type SectionHeader struct {
	Name      string
	NameOff   uint32 // sh_name
	Type      elf.SectionType
	Flags     elf.SectionFlag
	Addr      uint64
	Offset    uint64
	Size      uint64
	Link      uint32
	Info      uint32
	Addralign uint64
	Entsize   uint64
}

// Header is xen_dumpcore_elfnote_header_desc, the descriptor of the
// XEN_ELFNOTE_DUMPCORE_HEADER note; for legacy cores the same counts
// from xc_core_header.
type Header struct {
	Magic    uint64 // MagicPV or MagicHVM
	NrVCPUs  uint64
	NrPages  uint64
	PageSize uint64
}

// XenVersion is xen_dumpcore_elfnote_xen_version_desc: the results of the
// xen_version hypercall when the dump was taken (formats.md §4.4).
type XenVersion struct {
	Major, Minor  uint64
	Extra         string // xen_extraversion_t
	Compiler      string // xen_compile_info_t
	CompileBy     string
	CompileDomain string
	CompileDate   string
	Capabilities  string
	Changeset     string
	VirtStart     uint64 // platform_parameters.virt_start
	PageSize      uint64 // XENVER_pagesize
	// Layout32 is true when virt_start is 4 bytes and pagesize sits at
	// 1268: 32-bit tools, or 64-bit tools dumping a 32-bit guest.
	Layout32 bool
}

// File is an open Xen dump-core (ELF or legacy).
type File struct {
	FileHeader
	// Sections are the section headers that could be read.
	Sections []SectionHeader
	// Header holds the domain's counts and magic.
	Header Header
	// Version is the XEN_VERSION note, if present.
	Version *XenVersion
	// FormatVersion is the FORMAT_VERSION note's value, if present.
	FormatVersion *uint64
	// Legacy is the header of a legacy core; nil for ELF dump-cores.
	Legacy *LegacyHeader

	src      reader.Source
	order    binary.ByteOrder
	archName string
	pageSize int64
	hvm      bool
	notes    []model.Note
	problems []model.Problem

	// pagesOff is where page 0 of the table's order is stored; pagesCap
	// is how many pages the header (section size) places there.
	pagesOff int64
	pagesCap int64
	table    *frameTable

	ctx, mapped records // vCPU contexts, ia64 mapped regs
	shinfo      region  // .xen_shared_info data (size 0 when absent)

	regsOnce sync.Once
	regs     []model.RegisterSet
	regProbs []model.Problem

	revOnce sync.Once // gmfn -> entry, for MachineFrame
	rev     *sortedIndex
	revErr  error
}

// region is a stretch of the file holding one structure.
type region struct {
	name      string
	off, size int64
}

// records is a region holding n records of rec bytes each.
type records struct {
	region
	rec int64
	n   int
}

// problem records something found wrong while opening.
func (f *File) problem(sev model.Severity, code model.Code, off int64, format string, args ...any) {
	f.problems = append(f.problems, model.NewProblem(sev, code, f.src.Name, off, format, args...))
}

// NewFile opens an ELF Xen dump-core. It fails only when the file is not
// one (no ELF64 header, no section table, no .note.Xen) or the section
// table cannot be read at all; damaged sections open with problems, and
// what is intact stays readable.
func NewFile(src reader.Source) (*File, error) {
	f := &File{src: src}
	hdr := make([]byte, 64)
	if err := src.ReadAt(hdr[:16], 0, "e_ident"); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != elf.ELFMAG {
		return nil, model.Errorf(src.Name, "e_ident", 0, model.ErrUnrecognized, "no ELF magic")
	}
	switch elf.Data(hdr[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		f.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		f.order = binary.BigEndian
	default:
		return nil, model.Errorf(src.Name, "e_ident[EI_DATA]", elf.EI_DATA, model.ErrCorrupt, "unknown byte order %d", hdr[elf.EI_DATA])
	}
	if elf.Class(hdr[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return nil, model.Errorf(src.Name, "e_ident[EI_CLASS]", elf.EI_CLASS, model.ErrUnrecognized,
			"ELF class %v: Xen dump-cores are always ELFCLASS64", elf.Class(hdr[elf.EI_CLASS]))
	}
	if err := src.ReadAt(hdr, 0, "Elf64_Ehdr"); err != nil {
		return nil, err
	}
	f.FileHeader = elfnote.DecodeFileHeader(hdr, hdr, f.order)
	if f.Type != elf.ET_CORE {
		return nil, model.Errorf(src.Name, "e_type", 16, model.ErrUnrecognized, "ELF file is %v, not a core (ET_CORE)", f.Type)
	}
	f.archName = arch.FromELF(f.Machine, elf.ELFCLASS64, f.order)
	if err := f.readSections(); err != nil {
		return nil, err
	}
	notes := f.section(SecNotes)
	if notes == nil {
		return nil, model.Errorf(src.Name, "section header table", int64(f.Shoff), model.ErrUnrecognized,
			"no %s section: not a Xen dump-core", SecNotes)
	}
	f.readNotes(notes)
	f.checkHeader()
	f.locateSections()
	return f, nil
}

// readSections reads the section header table and the section names.
func (f *File) readSections() error {
	if f.Phnum != 0 {
		f.problem(model.SeverityWarning, model.CodeBadELFHeader, 56, "e_phnum is %d; Xen dump-cores have no program headers (ignored)", f.Phnum)
	}
	if f.Shnum == 0 || f.Shoff == 0 {
		return model.Errorf(f.src.Name, "e_shnum", 60, model.ErrUnrecognized, "no section headers: not a Xen dump-core")
	}
	ent := int64(f.Shentsize)
	if ent < 64 {
		return model.Errorf(f.src.Name, "e_shentsize", 58, model.ErrCorrupt, "section header size %d is smaller than 64 (Elf64_Shdr)", ent)
	}
	if ent != 64 {
		f.problem(model.SeverityError, model.CodeBadELFHeader, 58, "e_shentsize is %d, expected 64", ent)
	}
	n := min(int64(f.Shnum), MaxSections)
	if n < int64(f.Shnum) {
		f.problem(model.SeverityError, model.CodeBadELFHeader, 60, "e_shnum %d exceeds the limit of %d; the rest are ignored", f.Shnum, MaxSections)
	}
	shoff := int64(min(f.Shoff, 1<<62))
	if !f.src.Contains(shoff, ent) {
		return model.Errorf(f.src.Name, "section header table", shoff, model.ErrTruncated,
			"e_shoff %#x points past the end of the file (size %#x)", f.Shoff, f.src.Size)
	}
	if avail := (f.src.Size - shoff) / ent; avail < n {
		f.problem(model.SeverityError, model.CodeTruncated, shoff+avail*ent, "the section header table is cut short: %d of %d headers are in the file", avail, n)
		n = avail
	}
	tbl, err := f.src.Bytes(shoff, n*ent, n*ent, "section header table")
	if err != nil {
		return err
	}
	o := f.order
	for i := int64(0); i < n; i++ {
		b := tbl[i*ent:]
		f.Sections = append(f.Sections, SectionHeader{NameOff: o.Uint32(b[0:]), Type: elf.SectionType(o.Uint32(b[4:])),
			Flags: elf.SectionFlag(o.Uint64(b[8:])), Addr: o.Uint64(b[16:]), Offset: o.Uint64(b[24:]), Size: o.Uint64(b[32:]),
			Link: o.Uint32(b[40:]), Info: o.Uint32(b[44:]), Addralign: o.Uint64(b[48:]), Entsize: o.Uint64(b[56:])})
	}
	f.nameSections()
	return nil
}

// nameSections resolves the section names from .shstrtab. libxc writes
// the string table last, so a truncated file has none; then the names are
// inferred from what libxc puts in each header (guessNames).
func (f *File) nameSections() {
	si := int(f.Shstrndx)
	var st SectionHeader
	if si > 0 && si < len(f.Sections) {
		st = f.Sections[si]
	}
	switch {
	case si == 0 || si >= len(f.Sections):
		f.problem(model.SeverityError, model.CodeBadELFHeader, 62, "e_shstrndx %d is not among the %d sections; section names are inferred from their headers", si, len(f.Sections))
		f.guessNames()
		return
	case st.Size > maxStrtab:
		f.problem(model.SeverityError, model.CodeBadSectionHeader, f.shdrOffset(si), ".shstrtab is %d bytes, more than %d; section names are inferred from their headers", st.Size, maxStrtab)
		f.guessNames()
		return
	case !f.src.Contains(int64(min(st.Offset, 1<<62)), int64(st.Size)):
		f.problem(model.SeverityError, model.CodeTruncated, int64(min(st.Offset, uint64(f.src.Size))), ".shstrtab at %#x (%d bytes) lies beyond the end of the file (%#x); section names are inferred from their headers",
			st.Offset, st.Size, f.src.Size)
		f.guessNames()
		return
	}
	names, err := f.src.Bytes(int64(st.Offset), int64(st.Size), maxStrtab, SecStrtab)
	if err != nil {
		f.problem(model.SeverityError, model.CodeTruncated, int64(st.Offset), ".shstrtab cannot be read (%v); section names are inferred from their headers", err)
		f.guessNames()
		return
	}
	seen := map[string]bool{}
	for i := range f.Sections {
		s := &f.Sections[i]
		if int64(s.NameOff) >= int64(len(names)) {
			if i > 0 {
				f.problem(model.SeverityError, model.CodeBadSectionHeader, f.shdrOffset(i), "section %d: sh_name %d lies outside .shstrtab (%d bytes)", i, s.NameOff, len(names))
			}
			continue
		}
		s.Name = reader.CString(names[s.NameOff:])
		if s.Name != "" && seen[s.Name] {
			f.problem(model.SeverityError, model.CodeBadSectionHeader, f.shdrOffset(i), "section %d repeats the name %s; the first one is used", i, s.Name)
		}
		seen[s.Name] = true
	}
}

// guessNames names the sections from their headers as xg_core.c fills
// them: .note.Xen is SHT_NOTE, .shstrtab SHT_STRTAB; of the SHT_PROGBITS
// sections, .xen_p2m has 16-byte and .xen_pfn 8-byte entries, .xen_pages
// is aligned to its page-sized entries, a section of one page-sized entry
// is .xen_shared_info (the first of two is the ia64 mapped regs of a
// single vCPU, whose header comes first), and the others are
// .xen_prstatus then .xen_ia64_mapped_regs, in header order.
func (f *File) guessNames() {
	var rest, single []*SectionHeader
	for i := 1; i < len(f.Sections); i++ {
		s := &f.Sections[i]
		pageSized := s.Entsize >= 1<<10 && s.Entsize <= 1<<20 && s.Entsize&(s.Entsize-1) == 0
		switch {
		case s.Type == elf.SHT_NOTE:
			s.Name = SecNotes
		case s.Type == elf.SHT_STRTAB:
			s.Name = SecStrtab
		case s.Type != elf.SHT_PROGBITS:
		case s.Entsize == 16:
			s.Name = SecP2M
		case s.Entsize == 8:
			s.Name = SecPFN
		case pageSized && s.Addralign == s.Entsize:
			s.Name = SecPages
		case pageSized && s.Size == s.Entsize:
			single = append(single, s)
		default:
			rest = append(rest, s)
		}
	}
	if len(single) == 2 {
		rest = append(rest, single[0])
		single = single[1:]
	}
	for i, s := range single {
		if i == 0 {
			s.Name = SecSharedInfo
		}
	}
	for i, s := range rest {
		if i < 2 {
			s.Name = []string{SecPrstatus, SecMappedRegs}[i]
		}
	}
}

// shdrOffset returns the file offset of section header i.
func (f *File) shdrOffset(i int) int64 { return int64(f.Shoff) + int64(i)*int64(f.Shentsize) }

// section returns the first section with the given name.
func (f *File) section(name string) *SectionHeader {
	for i := range f.Sections {
		if f.Sections[i].Name == name {
			return &f.Sections[i]
		}
	}
	return nil
}

func (f *File) sectionIndex(name string) int {
	for i := range f.Sections {
		if f.Sections[i].Name == name {
			return i
		}
	}
	return -1
}

// sectionData returns the section's data range clamped to the file,
// reporting a section that runs past the end.
func (f *File) sectionData(s *SectionHeader) region {
	off, size := int64(min(s.Offset, 1<<62)), int64(min(s.Size, 1<<62))
	end, ok := reader.AddOK(off, size)
	if !ok || end > f.src.Size {
		have := max(0, f.src.Size-off)
		f.problem(model.SeverityError, model.CodeTruncated, min(off, f.src.Size), "section %s (sh_offset %#x, sh_size %#x) ends at %#x but the file ends at %#x: %d of %d bytes are missing",
			s.Name, s.Offset, s.Size, s.Offset+s.Size, f.src.Size, size-have, size)
		size = have
	}
	return region{name: s.Name, off: off, size: size}
}
