package dumptest

import (
	"debug/elf"
	"encoding/binary"
)

// ELFNote is one note to write.
type ELFNote struct {
	Name string
	Type uint32
	Desc []byte
}

// ELFSegment is one PT_LOAD to write.
type ELFSegment struct {
	Paddr, Vaddr uint64
	// Data is stored in the file; Memsz (if larger) extends the segment
	// with zeros that are not stored.
	Data  []byte
	Memsz uint64
	// Unbacked writes p_offset = all ones and p_filesz = 0, as QEMU does
	// for mappings not backed by dumped memory.
	Unbacked bool
	// ShareWith, when not 0, is the 1-based index of an earlier segment
	// whose stored data this one reuses instead of storing Data (legal in
	// ELF; used to build files with very many program headers cheaply).
	ShareWith int
}

// ELFCore describes an ELF vmcore to write (formats.md §3).
type ELFCore struct {
	Class   elf.Class // ELFCLASS32 or ELFCLASS64
	Order   binary.ByteOrder
	Machine elf.Machine
	Flags   uint32
	// QEMULayout puts a section header at 64 and the program headers at
	// 64+shentsize, as QEMU does; otherwise program headers follow the ELF
	// header.
	QEMULayout bool
	// PNXNum forces e_phnum = PN_XNUM with the count in section 0's
	// sh_info (it is forced anyway from 0xffff program headers on).
	PNXNum bool
	Notes  []ELFNote
	// Segments become PT_LOADs after one PT_NOTE.
	Segments []ELFSegment
	// DataAlign aligns each segment's data in the file (0: 4096).
	DataAlign int
}

// Layout facts of the written file, for tests that corrupt it.
type ELFLayout struct {
	Phoff, NotesOff, NotesSize int64
	NoteOffsets                []int64 // file offset of each note header
	SegmentOffsets             []int64 // p_offset of each segment (-1 unbacked)
	Size                       int64
}

// Bytes builds the file.
func (c *ELFCore) Bytes() ([]byte, ELFLayout) {
	o := c.Order
	if o == nil {
		o = binary.LittleEndian
	}
	is64 := c.Class != elf.ELFCLASS32
	ehsize, phentsize, shentsize := 52, 32, 40
	if is64 {
		ehsize, phentsize, shentsize = 64, 56, 64
	}
	nph := 1 + len(c.Segments)
	xnum := c.PNXNum || nph >= 0xffff
	withSection := xnum || c.QEMULayout
	var lay ELFLayout
	shoff := 0
	pos := ehsize
	if withSection && c.QEMULayout {
		shoff = pos
		pos += shentsize
	}
	lay.Phoff = int64(pos)
	pos += nph * phentsize
	if withSection && !c.QEMULayout {
		shoff = pos
		pos += shentsize
	}
	// Notes.
	var notes []byte
	for _, n := range c.Notes {
		lay.NoteOffsets = append(lay.NoteOffsets, int64(pos+len(notes)))
		notes = appendNote(notes, o, n)
	}
	lay.NotesOff, lay.NotesSize = int64(pos), int64(len(notes))
	pos += len(notes)
	align := c.DataAlign
	if align == 0 {
		align = 4096
	}
	for i, s := range c.Segments {
		if s.Unbacked {
			lay.SegmentOffsets = append(lay.SegmentOffsets, -1)
			continue
		}
		if s.ShareWith > 0 && s.ShareWith <= i {
			lay.SegmentOffsets = append(lay.SegmentOffsets, lay.SegmentOffsets[s.ShareWith-1])
			continue
		}
		pos = (pos + align - 1) / align * align
		lay.SegmentOffsets = append(lay.SegmentOffsets, int64(pos))
		pos += len(s.Data)
	}
	lay.Size = int64(pos)
	b := make([]byte, pos)
	// ELF header.
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	if !is64 {
		b[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	}
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	if o == binary.ByteOrder(binary.BigEndian) {
		b[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	b[elf.EI_VERSION] = 1
	o.PutUint16(b[16:], uint16(elf.ET_CORE))
	o.PutUint16(b[18:], uint16(c.Machine))
	o.PutUint32(b[20:], 1)
	phnum := uint16(nph)
	if xnum {
		phnum = 0xffff
	}
	shnum := uint16(0)
	if withSection {
		shnum = 1
	}
	if is64 {
		o.PutUint64(b[32:], uint64(lay.Phoff))
		o.PutUint64(b[40:], uint64(shoff))
		o.PutUint32(b[48:], c.Flags)
		o.PutUint16(b[52:], uint16(ehsize))
		o.PutUint16(b[54:], uint16(phentsize))
		o.PutUint16(b[56:], phnum)
		o.PutUint16(b[58:], uint16(shentsize))
		o.PutUint16(b[60:], shnum)
	} else {
		o.PutUint32(b[28:], uint32(lay.Phoff))
		o.PutUint32(b[32:], uint32(shoff))
		o.PutUint32(b[36:], c.Flags)
		o.PutUint16(b[40:], uint16(ehsize))
		o.PutUint16(b[42:], uint16(phentsize))
		o.PutUint16(b[44:], phnum)
		o.PutUint16(b[46:], uint16(shentsize))
		o.PutUint16(b[48:], shnum)
	}
	// Section header 0: SHT_NULL with the real count in sh_info.
	if withSection {
		sh := b[shoff:]
		if is64 {
			o.PutUint32(sh[44:], uint32(nph))
		} else {
			o.PutUint32(sh[28:], uint32(nph))
		}
	}
	// Program headers: PT_NOTE, then the PT_LOADs.
	put := func(i int, typ elf.ProgType, off, vaddr, paddr, filesz, memsz uint64) {
		p := b[int(lay.Phoff)+i*phentsize:]
		if is64 {
			o.PutUint32(p[0:], uint32(typ))
			o.PutUint64(p[8:], off)
			o.PutUint64(p[16:], vaddr)
			o.PutUint64(p[24:], paddr)
			o.PutUint64(p[32:], filesz)
			o.PutUint64(p[40:], memsz)
		} else {
			o.PutUint32(p[0:], uint32(typ))
			o.PutUint32(p[4:], uint32(off))
			o.PutUint32(p[8:], uint32(vaddr))
			o.PutUint32(p[12:], uint32(paddr))
			o.PutUint32(p[16:], uint32(filesz))
			o.PutUint32(p[20:], uint32(memsz))
		}
	}
	put(0, elf.PT_NOTE, uint64(lay.NotesOff), 0, 0, uint64(len(notes)), uint64(len(notes)))
	copy(b[lay.NotesOff:], notes)
	for i, s := range c.Segments {
		memsz := max(s.Memsz, uint64(len(s.Data)))
		filesz := uint64(len(s.Data))
		off := uint64(lay.SegmentOffsets[i])
		switch {
		case s.Unbacked:
			off, filesz = ^uint64(0), 0
			if !is64 {
				off = 0xffffffff
			}
		case s.ShareWith > 0 && s.ShareWith <= i:
			filesz = uint64(len(c.Segments[s.ShareWith-1].Data))
			memsz = max(s.Memsz, filesz)
		default:
			copy(b[off:], s.Data)
		}
		put(1+i, elf.PT_LOAD, off, s.Vaddr, s.Paddr, filesz, memsz)
	}
	return b, lay
}

// appendNote appends a note record with 4-byte padding (formats.md §3.3).
func appendNote(b []byte, o binary.ByteOrder, n ELFNote) []byte {
	var h [12]byte
	o.PutUint32(h[0:], uint32(len(n.Name)+1))
	o.PutUint32(h[4:], uint32(len(n.Desc)))
	o.PutUint32(h[8:], n.Type)
	b = append(b, h[:]...)
	b = append(b, n.Name...)
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, n.Desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// PrstatusX8664 builds an x86_64 elf_prstatus (336 bytes): pid at 32, the
// 27 user_regs_struct words at 112 in kernel order (formats.md §3.4).
func PrstatusX8664(o binary.ByteOrder, pid int32, regs []uint64) []byte {
	b := make([]byte, 336)
	o.PutUint32(b[32:], uint32(pid))
	for i, r := range regs[:min(len(regs), 27)] {
		o.PutUint64(b[112+8*i:], r)
	}
	return b
}

// PrstatusI386 builds an i386 elf_prstatus (144 bytes): pid at 24, the 17
// register words at 72.
func PrstatusI386(o binary.ByteOrder, pid int32, regs []uint32) []byte {
	b := make([]byte, 144)
	o.PutUint32(b[24:], uint32(pid))
	for i, r := range regs[:min(len(regs), 17)] {
		o.PutUint32(b[72+4*i:], r)
	}
	return b
}

// PrstatusPPC64 builds a ppc64 elf_prstatus (504 bytes): pid at 32, 48
// register words at 112 (gpr0..31, nip, msr, ...).
func PrstatusPPC64(o binary.ByteOrder, pid int32, regs []uint64) []byte {
	b := make([]byte, 504)
	o.PutUint32(b[32:], uint32(pid))
	for i, r := range regs[:min(len(regs), 48)] {
		o.PutUint64(b[112+8*i:], r)
	}
	return b
}

// QEMUCPUState builds a QEMU "QEMU" note descriptor (formats.md §3.6),
// always little-endian: gpr holds rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp,
// r8..r15, rip, rflags; cr holds cr0..cr4. size is 432 or 440.
func QEMUCPUState(size int, gpr [18]uint64, cr [5]uint64, kernelGSBase uint64) []byte {
	b := make([]byte, size)
	o := binary.LittleEndian
	o.PutUint32(b[0:], 1)
	o.PutUint32(b[4:], uint32(size))
	for i, r := range gpr {
		o.PutUint64(b[8+8*i:], r)
	}
	for i, r := range cr {
		o.PutUint64(b[392+8*i:], r)
	}
	if size >= 440 {
		o.PutUint64(b[432:], kernelGSBase)
	}
	return b
}

// Pattern returns n bytes that differ per page and per offset, so a page
// read from the wrong place is noticed.
func Pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
