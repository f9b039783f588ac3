// Package elfcore reads ELF vmcores: the kernel's /proc/vmcore as kexec
// builds it, makedumpfile -E output and QEMU dump-guest-memory files
// (paging on or off). It handles ELF32 and ELF64 in both byte orders,
// program headers wherever e_phoff puts them, more than 65534 program
// headers (PN_XNUM), overlapping PT_LOADs, and the notes: NT_PRSTATUS,
// VMCOREINFO, QEMU's CPU state, and every other note by name and type.
//
// The layouts are in ../shared/docs/formats.md §3; the sources behind them
// are the ELF gABI, kexec-tools kexec/crashdump-elf.c, Linux
// fs/proc/vmcore.c, makedumpfile and QEMU dump/dump.c.
//
// Like debug/elf, the package exposes the on-disk headers as plain structs
// (FileHeader, ProgHeader, SectionHeader) and reads through an io.ReaderAt.
// Opening reads the ELF header and the program header table only; notes
// are read on first use and the physical page index is built on first use.
package elfcore

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sync"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/arch"
	"dumpscope/reader/elfnote"
)

// Limits that keep hostile headers from causing large allocations.
const (
	// MaxProgs bounds the number of program headers (PN_XNUM allows 2^32).
	MaxProgs = 1 << 21
	// MaxSections bounds the section headers we read (cores have 0-2).
	MaxSections = 1 << 16
)

// Values from the ELF gABI that dumpscope needs beyond debug/elf's.
const (
	pnXNum = 0xffff // e_phnum value meaning "see sh_info of section 0"

	// FlagIncomplete is makedumpfile's DUMP_ELF_INCOMPLETE bit in e_flags:
	// the dump was cut short.
	FlagIncomplete = 0x1
)

// ProgHeader is one program header (Elf32_Phdr / Elf64_Phdr).
type ProgHeader struct {
	Type   elf.ProgType
	Flags  elf.ProgFlag
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// SectionHeader is one section header (Elf32_Shdr / Elf64_Shdr). Cores
// only have them for PN_XNUM (and QEMU adds a .shstrtab).
type SectionHeader struct {
	Name      uint32
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

// File is an open ELF vmcore.
type File struct {
	elfnote.FileHeader
	// Progs are the program headers that could be read, in file order.
	Progs []ProgHeader
	// Sections are the section headers, if any.
	Sections []SectionHeader

	src      reader.Source
	order    binary.ByteOrder
	archName string
	// declaredProgs is the program header count the header declares
	// (e_phnum or sh_info of section 0 for PN_XNUM).
	declaredProgs uint64
	problems      []model.Problem

	notesOnce sync.Once
	notes     noteSet

	indexOnce sync.Once
	index     *pageIndex

	spans sync.Pool // *[]byte of maxSpan bytes, ReadRange's reads
}

// NewFile reads the ELF header and program headers of src. It fails only
// when the header itself cannot be read; a truncated program header table
// or truncated segments open with warnings.
func NewFile(src reader.Source) (*File, error) {
	f := &File{src: src}
	var ident [elf.EI_NIDENT]byte
	if err := src.ReadAt(ident[:], 0, "e_ident"); err != nil {
		return nil, err
	}
	if string(ident[:4]) != elf.ELFMAG {
		return nil, model.Errorf(src.Name, "e_ident", 0, model.ErrUnrecognized, "no ELF magic")
	}
	f.Class, f.Data = elf.Class(ident[elf.EI_CLASS]), elf.Data(ident[elf.EI_DATA])
	switch f.Data {
	case elf.ELFDATA2LSB:
		f.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		f.order = binary.BigEndian
	default:
		return nil, model.Errorf(src.Name, "e_ident[EI_DATA]", elf.EI_DATA, model.ErrCorrupt, "unknown byte order %d", ident[elf.EI_DATA])
	}
	var hdrSize int
	switch f.Class {
	case elf.ELFCLASS32:
		hdrSize = 52
	case elf.ELFCLASS64:
		hdrSize = 64
	default:
		return nil, model.Errorf(src.Name, "e_ident[EI_CLASS]", elf.EI_CLASS, model.ErrCorrupt, "unknown ELF class %d", ident[elf.EI_CLASS])
	}
	hdr := make([]byte, hdrSize)
	if err := src.ReadAt(hdr, 0, elfnote.HeaderName(f.Class)); err != nil {
		return nil, err
	}
	f.FileHeader = elfnote.DecodeFileHeader(ident[:], hdr, f.order)
	if f.Type != elf.ET_CORE {
		return nil, model.Errorf(src.Name, "e_type", 16, model.ErrUnrecognized, "ELF file is %v, not a core (ET_CORE)", f.Type)
	}
	f.archName = arch.FromELF(f.Machine, f.Class, f.order)
	if err := f.readSections(); err != nil {
		return nil, err
	}
	if err := f.readProgs(); err != nil {
		return nil, err
	}
	f.checkSegments()
	return f, nil
}

// phdrSize and shdrSize are the standard entry sizes for the class.
func (f *File) phdrSize() int {
	if f.Class == elf.ELFCLASS32 {
		return 32
	}
	return 56
}

func (f *File) shdrSize() int {
	if f.Class == elf.ELFCLASS32 {
		return 40
	}
	return 64
}

// problem records something found wrong while opening: an error when the
// file is damaged, a warning when it is intact but lacking.
func (f *File) problem(sev model.Severity, code model.Code, off int64, format string, args ...any) {
	f.problems = append(f.problems, model.NewProblem(sev, code, f.src.Name, off, format, args...))
}

// readSections reads the section header table. Section 0 carries the real
// program header count when e_phnum is PN_XNUM.
func (f *File) readSections() error {
	if f.Shoff == 0 || (f.Shnum == 0 && f.Phnum != pnXNum) {
		return nil
	}
	n := int64(f.Shnum)
	if n == 0 {
		n = 1 // PN_XNUM with e_shnum 0: section 0 still holds the counts
	}
	ent := int64(f.Shentsize)
	if ent < int64(f.shdrSize()) {
		if f.Phnum == pnXNum {
			return model.Errorf(f.src.Name, "e_shentsize", -1, model.ErrCorrupt, "section header size %d is too small for the PN_XNUM count", ent)
		}
		f.problem(model.SeverityError, model.CodeBadSectionHeader, -1, "e_shentsize %d is smaller than %d; section headers ignored", ent, f.shdrSize())
		return nil
	}
	n = min(n, MaxSections)
	for i := int64(0); i < n; i++ {
		off := int64(f.Shoff) + i*ent
		b := make([]byte, f.shdrSize())
		if err := f.src.ReadAt(b, off, fmt.Sprintf("section header %d", i)); err != nil {
			if i == 0 && f.Phnum == pnXNum {
				return err
			}
			f.problem(model.SeverityError, model.CodeTruncated, off, "section header table ends after %d of %d headers", i, f.Shnum)
			break
		}
		f.Sections = append(f.Sections, f.decodeSection(b))
	}
	return nil
}

func (f *File) decodeSection(b []byte) SectionHeader {
	o := f.order
	if f.Class == elf.ELFCLASS32 {
		return SectionHeader{Name: o.Uint32(b[0:]), Type: elf.SectionType(o.Uint32(b[4:])), Flags: elf.SectionFlag(o.Uint32(b[8:])),
			Addr: uint64(o.Uint32(b[12:])), Offset: uint64(o.Uint32(b[16:])), Size: uint64(o.Uint32(b[20:])),
			Link: o.Uint32(b[24:]), Info: o.Uint32(b[28:]), Addralign: uint64(o.Uint32(b[32:])), Entsize: uint64(o.Uint32(b[36:]))}
	}
	return SectionHeader{Name: o.Uint32(b[0:]), Type: elf.SectionType(o.Uint32(b[4:])), Flags: elf.SectionFlag(o.Uint64(b[8:])),
		Addr: o.Uint64(b[16:]), Offset: o.Uint64(b[24:]), Size: o.Uint64(b[32:]),
		Link: o.Uint32(b[40:]), Info: o.Uint32(b[44:]), Addralign: o.Uint64(b[48:]), Entsize: o.Uint64(b[56:])}
}

// readProgs reads the program header table in chunks, stopping at EOF with
// a warning.
func (f *File) readProgs() error {
	f.declaredProgs = uint64(f.Phnum)
	if f.Phnum == pnXNum {
		if len(f.Sections) == 0 {
			return model.Errorf(f.src.Name, "section header 0", int64(f.Shoff), model.ErrCorrupt, "e_phnum is PN_XNUM but there is no section header 0")
		}
		// libkdumpfile also accepts the count in sh_size when sh_info is 0.
		f.declaredProgs = uint64(f.Sections[0].Info)
		if f.declaredProgs == 0 && f.Sections[0].Size != 0 {
			f.declaredProgs = f.Sections[0].Size
		}
	}
	if f.declaredProgs == 0 {
		f.problem(model.SeverityWarning, model.CodeNoProgramHeaders, -1, "the ELF header declares no program headers: nothing is dumped")
		return nil
	}
	ent := int64(f.Phentsize)
	if ent < int64(f.phdrSize()) {
		return model.Errorf(f.src.Name, "e_phentsize", -1, model.ErrCorrupt, "program header size %d is smaller than %d", ent, f.phdrSize())
	}
	if ent != int64(f.phdrSize()) {
		f.problem(model.SeverityError, model.CodeBadProgramHeader, -1, "e_phentsize is %d, expected %d", ent, f.phdrSize())
	}
	if f.declaredProgs > MaxProgs {
		return model.Errorf(f.src.Name, "program header table", int64(f.Phoff), model.ErrCorrupt, "%d program headers exceed the limit of %d", f.declaredProgs, MaxProgs)
	}
	phoff := int64(f.Phoff)
	if f.Phoff > uint64(f.src.Len()) || !f.src.Contains(phoff, ent) {
		return model.Errorf(f.src.Name, "program header table", phoff, model.ErrTruncated, "e_phoff points past the end of the file (size %#x)", f.src.Len())
	}
	avail := (f.src.Len() - phoff) / ent
	count := int64(f.declaredProgs)
	if avail < count {
		f.problem(model.SeverityError, model.CodeTruncated, phoff+avail*ent, "the program header table is cut short: %d of %d headers are in the file", avail, count)
		count = avail
	}
	f.Progs = make([]ProgHeader, 0, count)
	const chunk = 4096 // headers per read
	buf := make([]byte, min(count, chunk)*ent)
	for i := int64(0); i < count; i += chunk {
		n := min(chunk, count-i)
		b := buf[:n*ent]
		if err := f.src.ReadAt(b, phoff+i*ent, "program header table"); err != nil {
			return err
		}
		for j := int64(0); j < n; j++ {
			f.Progs = append(f.Progs, f.decodeProg(b[j*ent:]))
		}
	}
	return nil
}

func (f *File) decodeProg(b []byte) ProgHeader {
	o := f.order
	if f.Class == elf.ELFCLASS32 {
		return ProgHeader{Type: elf.ProgType(o.Uint32(b[0:])), Off: uint64(o.Uint32(b[4:])), Vaddr: uint64(o.Uint32(b[8:])),
			Paddr: uint64(o.Uint32(b[12:])), Filesz: uint64(o.Uint32(b[16:])), Memsz: uint64(o.Uint32(b[20:])),
			Flags: elf.ProgFlag(o.Uint32(b[24:])), Align: uint64(o.Uint32(b[28:]))}
	}
	return ProgHeader{Type: elf.ProgType(o.Uint32(b[0:])), Flags: elf.ProgFlag(o.Uint32(b[4:])), Off: o.Uint64(b[8:]),
		Vaddr: o.Uint64(b[16:]), Paddr: o.Uint64(b[24:]), Filesz: o.Uint64(b[32:]), Memsz: o.Uint64(b[40:]), Align: o.Uint64(b[48:])}
}

// allOnes is the "no value" marker of an address or offset in this class
// (QEMU's p_offset for unbacked mappings, ELF32's invalid p_paddr).
func (f *File) allOnes() uint64 {
	if f.Class == elf.ELFCLASS32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// checkSegments records warnings about segments that point outside the
// file, so `info` can say what is missing without reading page data.
func (f *File) checkSegments() {
	nLoad, zeroPaddr := 0, 0
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD && p.Type != elf.PT_NOTE {
			continue
		}
		if p.Type == elf.PT_LOAD {
			nLoad++
			if p.Paddr == 0 {
				zeroPaddr++
			}
			if p.Filesz > p.Memsz {
				f.problem(model.SeverityError, model.CodeBadProgramHeader, f.progOffset(i), "PT_LOAD [%d]: p_filesz %#x exceeds p_memsz %#x", i, p.Filesz, p.Memsz)
			}
		}
		if p.Type != elf.PT_LOAD || p.Filesz == 0 || p.Off == f.allOnes() {
			continue // notes report their own truncation when read
		}
		// Unsigned arithmetic: p_offset and p_filesz are 64-bit fields a
		// hostile header can set anywhere.
		size := uint64(f.src.Len())
		end := p.Off + p.Filesz
		if end < p.Off {
			f.problem(model.SeverityError, model.CodeBadProgramHeader, f.progOffset(i), "%v [%d]: p_offset %#x + p_filesz %#x overflows", p.Type, i, p.Off, p.Filesz)
			continue
		}
		if end > size {
			have := size - min(p.Off, size)
			f.problem(model.SeverityError, model.CodeTruncated, int64(min(p.Off, size)), "%v [%d] needs file bytes %#x-%#x but the file ends at %#x: %d of %d bytes missing",
				p.Type, i, p.Off, end, size, p.Filesz-have, p.Filesz)
		}
	}
	if nLoad > 1 && zeroPaddr == nLoad {
		f.problem(model.SeverityWarning, model.CodeNoPhysicalAddresses, -1, "every PT_LOAD has p_paddr 0: physical addresses are unknown")
	}
	if f.Flags&FlagIncomplete != 0 {
		f.problem(model.SeverityError, model.CodeIncomplete, 48, "e_flags has DUMP_ELF_INCOMPLETE: makedumpfile could not finish this dump")
	}
}

// progOffset returns the file offset of program header i.
func (f *File) progOffset(i int) int64 { return int64(f.Phoff) + int64(i)*int64(f.Phentsize) }

// Arch returns the architecture name of the dumped machine.
func (f *File) Arch() string { return f.archName }

// ByteOrder returns the byte order of the file.
func (f *File) ByteOrder() binary.ByteOrder { return f.order }

// NumProgs returns the number of program headers the header declares.
func (f *File) NumProgs() uint64 { return f.declaredProgs }

// Close closes the underlying reader if it can be closed.
func (f *File) Close() error { return reader.Close(f.src.R) }
