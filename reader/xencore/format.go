package xencore

import (
	"debug/elf"
	"encoding/binary"

	"dumpscope/reader"
)

// Format is the ELF Xen dump-core: ELF64 with no program headers and a
// section table. An ELF file of that shape without a .note.Xen section is
// not a Xen core after all, and Open says so with model.ErrUnrecognized,
// so that the next format of the chain (elfcore) gets it.
var Format = reader.Format{
	Name:  "Xen dump-core",
	Magic: `ELF64 with sections and no program headers`,
	Probe: func(h []byte) (reader.Match, bool) {
		if len(h) < 64 || string(h[:4]) != elf.ELFMAG || elf.Class(h[elf.EI_CLASS]) != elf.ELFCLASS64 {
			return reader.Match{}, false
		}
		var o binary.ByteOrder = binary.LittleEndian
		if elf.Data(h[elf.EI_DATA]) == elf.ELFDATA2MSB {
			o = binary.BigEndian
		}
		return reader.Match{}, o.Uint16(h[56:]) == 0 && o.Uint16(h[60:]) > 0 // e_phnum, e_shnum
	},
	Open: func(src reader.Source, _ reader.Match) (reader.Dump, error) { return NewFile(src) },
}

// LegacyFormat is the pre-ELF Xen core (xc_core_header).
var LegacyFormat = reader.Format{
	Name:  "Xen legacy core",
	Magic: `0xF00FEBED/0xF00FEBEE at 0`,
	Probe: func(h []byte) (reader.Match, bool) {
		if len(h) < 24 {
			return reader.Match{}, false
		}
		for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			if m := o.Uint32(h); m == MagicPV || m == MagicHVM {
				return reader.Match{}, true
			}
		}
		return reader.Match{}, false
	},
	Open: func(src reader.Source, _ reader.Match) (reader.Dump, error) { return NewLegacyFile(src) },
}

var _ reader.Dump = (*File)(nil)
