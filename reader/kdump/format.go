package kdump

import "dumpscope/reader"

// Format is makedumpfile's kdump-compressed file and the old diskdump
// file. A lone part of a split set opens as a set with parts missing.
var Format = reader.Format{
	Name:  "kdump-compressed/diskdump",
	Magic: `"KDUMP   " or "DISKDUMP" at 0`,
	Probe: func(head []byte) (reader.Match, bool) {
		if len(head) < 8 {
			return reader.Match{}, false
		}
		s := string(head[:8])
		return reader.Match{}, s == SignatureKdump || s == SignatureDiskdump
	},
	Open: func(src reader.Source, _ reader.Match) (reader.Dump, error) {
		f, err := NewFile(src)
		if err != nil {
			return nil, err
		}
		if f.IsSplit() {
			return NewSet([]*File{f})
		}
		return f, nil
	},
}

var (
	_ reader.Dump = (*File)(nil)
	_ reader.Dump = (*Set)(nil)

	_ reader.QuickCounter = (*File)(nil)
	_ reader.QuickCounter = (*Set)(nil)
)
