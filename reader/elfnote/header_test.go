package elfnote

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
)

// TestDecodeFileHeader decodes headers that debug/elf's Header32 and
// Header64 encode, in both byte orders, each field a distinct value.
func TestDecodeFileHeader(t *testing.T) {
	want := FileHeader{Version: elf.EV_CURRENT, OSABI: elf.ELFOSABI_LINUX, ABIVersion: 3, Type: elf.ET_CORE,
		Machine: elf.EM_386, EVersion: 1, Entry: 0x1111, Phoff: 0x2222, Shoff: 0x3333, Flags: 0x44,
		Ehsize: 0x55, Phentsize: 0x66, Phnum: 0x77, Shentsize: 0x88, Shnum: 0x99, Shstrndx: 0xaa}
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, class := range []elf.Class{elf.ELFCLASS32, elf.ELFCLASS64} {
			w := want
			w.Class, w.Data = class, elf.ELFDATA2LSB
			if o == binary.BigEndian {
				w.Data = elf.ELFDATA2MSB
			}
			var ident [elf.EI_NIDENT]byte
			copy(ident[:], elf.ELFMAG)
			ident[elf.EI_CLASS], ident[elf.EI_DATA], ident[elf.EI_VERSION] = byte(class), byte(w.Data), byte(w.Version)
			ident[elf.EI_OSABI], ident[elf.EI_ABIVERSION] = byte(w.OSABI), w.ABIVersion
			var hdr any = &elf.Header64{Ident: ident, Type: uint16(w.Type), Machine: uint16(w.Machine), Version: w.EVersion,
				Entry: w.Entry, Phoff: w.Phoff, Shoff: w.Shoff, Flags: w.Flags, Ehsize: w.Ehsize, Phentsize: w.Phentsize,
				Phnum: w.Phnum, Shentsize: w.Shentsize, Shnum: w.Shnum, Shstrndx: w.Shstrndx}
			if class == elf.ELFCLASS32 {
				hdr = &elf.Header32{Ident: ident, Type: uint16(w.Type), Machine: uint16(w.Machine), Version: w.EVersion,
					Entry: uint32(w.Entry), Phoff: uint32(w.Phoff), Shoff: uint32(w.Shoff), Flags: w.Flags, Ehsize: w.Ehsize,
					Phentsize: w.Phentsize, Phnum: w.Phnum, Shentsize: w.Shentsize, Shnum: w.Shnum, Shstrndx: w.Shstrndx}
			}
			var b bytes.Buffer
			if err := binary.Write(&b, o, hdr); err != nil {
				t.Fatal(err)
			}
			if got := DecodeFileHeader(b.Bytes(), b.Bytes(), o); got != w {
				t.Errorf("%v %v:\n got %+v\nwant %+v", class, o, got, w)
			}
		}
	}
}
