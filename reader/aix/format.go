package aix

import (
	"encoding/binary"

	"dumpscope/reader"
)

// Format is the AIX system dump: a component dump table at offset 0, or at
// 512 when the dump was copied off a dump logical volume with its LVM
// sector.
var Format = reader.Format{
	Name:  "AIX system dump",
	Magic: `component dump table magic at 0 or 512`,
	Probe: func(h []byte) (reader.Match, bool) {
		for _, off := range []int{0, 512} {
			if len(h) >= off+24 && IsTableMagic(binary.BigEndian.Uint32(h[off:])) {
				return reader.Match{Offset: int64(off)}, true
			}
		}
		return reader.Match{}, false
	},
	Open: func(src reader.Source, m reader.Match) (reader.Dump, error) { return NewFile(src, m.Offset) },
}

var (
	_ reader.Dump          = (*File)(nil)
	_ reader.AreaReader    = (*File)(nil)
	_ reader.PartialFrames = (*File)(nil)
)
