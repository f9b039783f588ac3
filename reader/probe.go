package reader

import (
	"encoding/binary"
	"fmt"
	"strings"

	"dumpscope/model"
	"dumpscope/reader/rio"
)

// Kind is a format that a probe recognised.
type Kind int

// The kinds, in probe order.
const (
	KindUnknown Kind = iota
	KindFlattened
	KindKdump    // signature "KDUMP   "
	KindDiskdump // signature "DISKDUMP"
	KindELF      // ELF core: a vmcore, or a Xen dump-core (no program headers)
	KindXenLegacy
	KindAIX
)

var kindNames = map[Kind]string{
	KindFlattened: "makedumpfile flattened stream",
	KindKdump:     "kdump-compressed (KDUMP)",
	KindDiskdump:  "diskdump (DISKDUMP)",
	KindELF:       "ELF core",
	KindXenLegacy: "Xen legacy core",
	KindAIX:       "AIX system dump",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "unknown"
}

// Detection is what Detect found.
type Detection struct {
	Kind Kind
	// Offset is where the format's first structure starts (AIX dumps copied
	// off a dump device start with a 512-byte LVM sector).
	Offset int64
	// XenCore is set for ELF files that look like a Xen dump-core: ELF64,
	// no program headers, section headers present.
	XenCore bool
}

// probeSize is how much of a file detection reads: enough for every magic,
// including AIX's at 512.
const probeSize = 4096

// Magic numbers of formats.md §0.
var (
	flatSignature = []byte("makedumpfile\x00\x00\x00\x00")
	xenLegacyPV   = uint32(0xF00FEBED)
	xenLegacyHVM  = uint32(0xF00FEBEE)
	aixMagics     = map[uint32]bool{0xEEEEEEEE: true, 0xEEEEEEED: true, 0xEEEEEEEF: true, 0xEEEEEEEC: true, 0xEEEEEEEB: true}
)

// probe is one link of the chain: it looks at the first bytes of a file.
type probe struct {
	what  string // what it looks for, for the "tried" list
	match func(head []byte) (Detection, bool)
}

// probes is the detection chain in the order that avoids false positives:
// the flattened wrapper first, then kdump, ELF, Xen legacy and AIX.
var probes = []probe{
	{"makedumpfile flattened (\"makedumpfile\" at 0)", func(h []byte) (Detection, bool) {
		return Detection{Kind: KindFlattened}, len(h) >= 16 && string(h[:16]) == string(flatSignature)
	}},
	{"kdump-compressed/diskdump (\"KDUMP   \" or \"DISKDUMP\" at 0)", func(h []byte) (Detection, bool) {
		if len(h) < 8 {
			return Detection{}, false
		}
		switch string(h[:8]) {
		case "KDUMP   ":
			return Detection{Kind: KindKdump}, true
		case "DISKDUMP":
			return Detection{Kind: KindDiskdump}, true
		}
		return Detection{}, false
	}},
	{"ELF core (\"\\x7fELF\" at 0)", func(h []byte) (Detection, bool) {
		if len(h) < 4 || string(h[:4]) != "\x7fELF" {
			return Detection{}, false
		}
		d := Detection{Kind: KindELF}
		// Xen dump-core: ELF64 with no program headers but sections.
		if len(h) >= 64 && h[4] == 2 {
			var o binary.ByteOrder = binary.LittleEndian
			if h[5] == 2 {
				o = binary.BigEndian
			}
			d.XenCore = o.Uint16(h[56:]) == 0 && o.Uint16(h[60:]) > 0
		}
		return d, true
	}},
	{"Xen legacy core (0xF00FEBED/0xF00FEBEE at 0)", func(h []byte) (Detection, bool) {
		if len(h) < 24 {
			return Detection{}, false
		}
		for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			if m := o.Uint32(h); m == xenLegacyPV || m == xenLegacyHVM {
				return Detection{Kind: KindXenLegacy}, true
			}
		}
		return Detection{}, false
	}},
	{"AIX dump (component dump table magic at 0 or 512)", func(h []byte) (Detection, bool) {
		for _, off := range []int{0, 512} {
			if len(h) >= off+24 && aixMagics[binary.BigEndian.Uint32(h[off:])] {
				return Detection{Kind: KindAIX, Offset: int64(off)}, true
			}
		}
		return Detection{}, false
	}},
}

// Detect identifies the format of src from its first bytes. It reads at
// most 4 KiB and never fails except on I/O errors and unknown formats; an
// unknown format's error lists what was tried.
func Detect(src rio.Source) (Detection, error) {
	return detectN(src, probeSize)
}

// detectN runs the probe chain on the first n bytes of src.
func detectN(src rio.Source, n int64) (Detection, error) {
	head := make([]byte, min(src.Len(), n))
	if err := src.ReadAt(head, 0, "file header"); err != nil {
		return Detection{}, err
	}
	var tried []string
	for _, p := range probes {
		if d, ok := p.match(head); ok {
			return d, nil
		}
		tried = append(tried, p.what)
	}
	what := "no known signature"
	if len(head) == 0 {
		what = "the file is empty"
	}
	return Detection{}, &model.FormatError{File: src.Name, Off: -1, Err: model.ErrUnrecognized,
		Msg: fmt.Sprintf("not a crash dump (%s; tried %s)", what, strings.Join(tried, ", "))}
}
