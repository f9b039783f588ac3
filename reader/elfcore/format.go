package elfcore

import (
	"debug/elf"

	"dumpscope/reader"
)

// Format is the ELF vmcore: /proc/vmcore, makedumpfile -E, QEMU
// dump-guest-memory. In a probe chain it comes after the Xen dump-core
// format, which is ELF too.
var Format = reader.Format{
	Name:  "ELF core",
	Magic: `"\x7fELF" at 0`,
	Probe: func(head []byte) (reader.Match, bool) {
		return reader.Match{}, len(head) >= 4 && string(head[:4]) == elf.ELFMAG
	},
	Open: func(src reader.Source, _ reader.Match) (reader.Dump, error) { return NewFile(src) },
}

var (
	_ reader.Dump          = (*File)(nil)
	_ reader.PartialFrames = (*File)(nil)
)
