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
// The two classes lay out the same fields in the same order from e_entry
// on; only e_entry, e_phoff and e_shoff (words) differ in size.
func DecodeFileHeader(ident, b []byte, o binary.ByteOrder) FileHeader {
	h := FileHeader{
		Class: elf.Class(ident[elf.EI_CLASS]), Data: elf.Data(ident[elf.EI_DATA]),
		Version: elf.Version(ident[elf.EI_VERSION]), OSABI: elf.OSABI(ident[elf.EI_OSABI]),
		ABIVersion: ident[elf.EI_ABIVERSION],
		Type:       elf.Type(o.Uint16(b[16:])), Machine: elf.Machine(o.Uint16(b[18:])), EVersion: o.Uint32(b[20:]),
	}
	at := 24
	word := func() uint64 {
		if h.Class == elf.ELFCLASS32 {
			at += 4
			return uint64(o.Uint32(b[at-4:]))
		}
		at += 8
		return o.Uint64(b[at-8:])
	}
	half := func() uint16 {
		at += 2
		return o.Uint16(b[at-2:])
	}
	h.Entry, h.Phoff, h.Shoff = word(), word(), word()
	h.Flags = o.Uint32(b[at:])
	at += 4
	h.Ehsize, h.Phentsize, h.Phnum, h.Shentsize, h.Shnum, h.Shstrndx = half(), half(), half(), half(), half(), half()
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
