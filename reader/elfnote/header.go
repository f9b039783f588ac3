package elfnote

import (
	"debug/elf"
	"encoding/binary"

	"dumpscope/model"
)

// FileHeader is the ELF header (Elf32_Ehdr / Elf64_Ehdr).
type FileHeader struct {
	Class      elf.Class
	Data       elf.Data
	Version    elf.Version // e_ident[EI_VERSION]
	OSABI      elf.OSABI
	ABIVersion uint8
	Type       elf.Type
	Machine    elf.Machine
	EVersion   uint32 // e_version
	Entry      uint64
	Phoff      uint64
	Shoff      uint64
	Flags      uint32
	Ehsize     uint16
	Phentsize  uint16
	Phnum      uint16 // as stored; see File.NumProgs for the real count
	Shentsize  uint16
	Shnum      uint16
	Shstrndx   uint16
}

// HeaderName names the ELF header structure of a class, for messages and
// layouts ("Elf64_Ehdr").
func HeaderName(c elf.Class) string {
	if c == elf.ELFCLASS32 {
		return "Elf32_Ehdr"
	}
	return "Elf64_Ehdr"
}

// DecodeFileHeader decodes an Elf32_Ehdr or Elf64_Ehdr (as ident's
// EI_CLASS says) in byte order o. The Xen dump-core reader uses it too.
func DecodeFileHeader(ident, b []byte, o binary.ByteOrder) FileHeader {
	h := FileHeader{
		Class: elf.Class(ident[elf.EI_CLASS]), Data: elf.Data(ident[elf.EI_DATA]),
		Version: elf.Version(ident[elf.EI_VERSION]), OSABI: elf.OSABI(ident[elf.EI_OSABI]),
		ABIVersion: ident[elf.EI_ABIVERSION],
		Type:       elf.Type(o.Uint16(b[16:])), Machine: elf.Machine(o.Uint16(b[18:])), EVersion: o.Uint32(b[20:]),
	}
	if h.Class == elf.ELFCLASS32 {
		h.Entry = uint64(o.Uint32(b[24:]))
		h.Phoff = uint64(o.Uint32(b[28:]))
		h.Shoff = uint64(o.Uint32(b[32:]))
		h.Flags = o.Uint32(b[36:])
		h.Ehsize = o.Uint16(b[40:])
		h.Phentsize = o.Uint16(b[42:])
		h.Phnum = o.Uint16(b[44:])
		h.Shentsize = o.Uint16(b[46:])
		h.Shnum = o.Uint16(b[48:])
		h.Shstrndx = o.Uint16(b[50:])
		return h
	}
	h.Entry = o.Uint64(b[24:])
	h.Phoff = o.Uint64(b[32:])
	h.Shoff = o.Uint64(b[40:])
	h.Flags = o.Uint32(b[48:])
	h.Ehsize = o.Uint16(b[52:])
	h.Phentsize = o.Uint16(b[54:])
	h.Phnum = o.Uint16(b[56:])
	h.Shentsize = o.Uint16(b[58:])
	h.Shnum = o.Uint16(b[60:])
	h.Shstrndx = o.Uint16(b[62:])
	return h
}

// FillFromVMCoreInfo records that the dump has VMCOREINFO and copies its
// OSRELEASE, BUILD-ID and CRASHTIME into info (model.Info.SetVMCoreInfo).
func FillFromVMCoreInfo(info *model.Info, v *model.VMCoreInfo) {
	if v == nil {
		return
	}
	info.VMCoreInfo = true
	info.SetVMCoreInfo(v)
}
