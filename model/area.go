package model

// Component is one AIX component dump table (CDT) and its entries, as
// `dumpscope areas` reports it.
type Component struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Magic is the table's magic number (0xEEEEEEED for a 64-bit CDT), and
	// MagicName its name (DMP_MAGIC_64).
	Magic     Hex    `json:"magic"`
	MagicName string `json:"-"`
	// Offset is the file offset of the table header.
	Offset FileOff `json:"offset"`
	// Complete is false when the dump ends inside this component.
	Complete bool        `json:"complete"`
	Entries  []AreaEntry `json:"entries"`
}

// AreaEntry is one data area of a component: a range of memory the
// component asked to be dumped.
type AreaEntry struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Address Hex    `json:"address"`
	Length  uint64 `json:"length"`
	Real    bool   `json:"real"`
	Segval  Hex    `json:"segval"`
	// PagesPresent counts the pages whose bytes are in the file;
	// PagesAbsent those that were not in memory (bitmap bit clear);
	// PagesLost those that a truncation cut: the bitmap says present but
	// the file ends before their data, or the bitmap bit itself is not in
	// the file. The three add up to the pages the area spans.
	PagesPresent uint64 `json:"pages_present"`
	PagesAbsent  uint64 `json:"pages_absent"`
	PagesLost    uint64 `json:"pages_lost"`
	// BitmapOffset and DataOffset locate the area's bitmap and data.
	BitmapOffset FileOff `json:"bitmap_offset"`
	DataOffset   FileOff `json:"data_offset"`
	// Complete is false when the dump ends inside this area.
	Complete bool `json:"complete"`
}

// AreaGap is a range of an area whose page was not in memory at dump time
// (or is missing from a truncated dump).
type AreaGap struct {
	Address Hex    `json:"address"`
	Length  uint64 `json:"length"`
	Reason  string `json:"reason"`
}
