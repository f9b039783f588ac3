package dumptest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/klauspost/compress/snappy"
	kzlib "github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Kdump describes a kdump-compressed (or diskdump) file to write, following
// formats.md §1. Pages not in Pages but in RAM are excluded by the dump
// level; frames in neither are holes.
type Kdump struct {
	Signature string // "KDUMP   " (default) or "DISKDUMP"
	Version   int32  // header_version, 0..6 (or more, to test unknown versions)
	Order     binary.ByteOrder
	// Header32 selects the 32-bit main header layout (i386, ARM32).
	Header32 bool
	// Sub selects the sub-header layout: "64" (default), "32packed" or
	// "32padded".
	Sub       string
	BlockSize int
	MaxMapnr  uint64
	Utsname   [6]string // sysname, nodename, release, version, machine, domainname
	Timestamp int64
	NrCPUs    int32
	DumpLevel int32
	PhysBase  uint64
	// Codec is how pages are stored: "none", "zlib", "lzo", "snappy" or
	// "zstd". Pages that do not shrink are stored raw, as makedumpfile does.
	Codec string
	// Pages maps pfn to page bytes: the pages stored (bitmap 2).
	Pages map[uint64][]byte
	// PageFunc, when set instead of Pages, generates the NumPages pages
	// of pfns 0..NumPages-1, so that large dumps are written without being
	// held in memory.
	PageFunc func(pfn uint64) []byte
	NumPages uint64
	// RAM lists pfn ranges [start, end) of bitmap 1. When empty, bitmap 1
	// is bitmap 2 plus Excluded.
	RAM      [][2]uint64
	Excluded []uint64
	// SharedZeroPage stores all-zero pages as one raw image written first.
	SharedZeroPage bool
	Notes          []ELFNote
	VMCoreInfo     []byte
	EraseInfo      []byte
	// Split, when set, writes one part of a split set holding the pages of
	// [Split[0], Split[1]).
	Split *[2]uint64
	// Written, when ≥ 0 and Incomplete is set, writes only the first
	// Written page images; later descriptors stay zero (offset 0), as in an
	// INCOMPLETE dump.
	Incomplete bool
	Written    int
}

// KdumpLayout locates the structures of a written file, for tests that
// corrupt it.
type KdumpLayout struct {
	SubHeaderOff, NotesOff, VMCoreInfoOff int64
	Bitmap1Off, Bitmap2Off, BitmapSize    int64
	DescOff, DataOff, EraseOff            int64
	// DescIndex maps a pfn to its descriptor index; PageOff to the offset
	// of its stored image (for dumps of at most 65536 pages).
	DescIndex map[uint64]int
	PageOff   map[uint64]int64
	Size      int64
}

var subSizes = map[string]int{"64": 104, "32packed": 80, "32padded": 96}

// subOffsets gives each sub-header field's offset and size per layout.
var subOffsets = map[string]map[string][2]int{
	"64": {"phys_base": {0, 8}, "dump_level": {8, 4}, "split": {12, 4}, "start_pfn": {16, 8}, "end_pfn": {24, 8},
		"offset_vmcoreinfo": {32, 8}, "size_vmcoreinfo": {40, 8}, "offset_note": {48, 8}, "size_note": {56, 8},
		"offset_eraseinfo": {64, 8}, "size_eraseinfo": {72, 8}, "start_pfn_64": {80, 8}, "end_pfn_64": {88, 8}, "max_mapnr_64": {96, 8}},
	"32packed": {"phys_base": {0, 4}, "dump_level": {4, 4}, "split": {8, 4}, "start_pfn": {12, 4}, "end_pfn": {16, 4},
		"offset_vmcoreinfo": {20, 8}, "size_vmcoreinfo": {28, 4}, "offset_note": {32, 8}, "size_note": {40, 4},
		"offset_eraseinfo": {44, 8}, "size_eraseinfo": {52, 4}, "start_pfn_64": {56, 8}, "end_pfn_64": {64, 8}, "max_mapnr_64": {72, 8}},
	"32padded": {"phys_base": {0, 4}, "dump_level": {4, 4}, "split": {8, 4}, "start_pfn": {12, 4}, "end_pfn": {16, 4},
		"offset_vmcoreinfo": {24, 8}, "size_vmcoreinfo": {32, 4}, "offset_note": {40, 8}, "size_note": {48, 4},
		"offset_eraseinfo": {56, 8}, "size_eraseinfo": {64, 4}, "start_pfn_64": {72, 8}, "end_pfn_64": {80, 8}, "max_mapnr_64": {88, 8}},
}

var subSince = map[string]int32{"phys_base": 0, "dump_level": 1, "split": 2, "start_pfn": 2, "end_pfn": 2,
	"offset_vmcoreinfo": 3, "size_vmcoreinfo": 3, "offset_note": 4, "size_note": 4, "offset_eraseinfo": 5,
	"size_eraseinfo": 5, "start_pfn_64": 6, "end_pfn_64": 6, "max_mapnr_64": 6}

func putN(o binary.ByteOrder, b []byte, size int, v uint64) {
	if size == 4 {
		o.PutUint32(b, uint32(v))
	} else {
		o.PutUint64(b, v)
	}
}

// Bytes writes the file into memory.
func (k *Kdump) Bytes() ([]byte, KdumpLayout) {
	var buf memFile
	lay, err := k.WriteTo(&buf)
	if err != nil {
		panic(err) // memFile does not fail
	}
	return buf.b, lay
}

// memFile is an in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// WriteTo writes the file through w, page data in pfn order and the
// descriptor table last, so that large dumps (PageFunc) never need to be
// held in memory.
func (k *Kdump) WriteTo(w io.WriterAt) (KdumpLayout, error) {
	o := k.Order
	if o == nil {
		o = binary.LittleEndian
	}
	sig := k.Signature
	if sig == "" {
		sig = "KDUMP   "
	}
	bs := k.BlockSize
	if bs == 0 {
		bs = 4096
	}
	sub := k.Sub
	if sub == "" {
		sub = "64"
	}
	var lay KdumpLayout
	lay.DescIndex, lay.PageOff = map[uint64]int{}, map[uint64]int64{}
	// Sub-header area: sub-header, notes (v4+), VMCOREINFO text (v3 without notes).
	lay.SubHeaderOff = int64(bs)
	area := make([]byte, subSizes[sub])
	notes := []byte{}
	notesList := append([]ELFNote(nil), k.Notes...)
	if k.VMCoreInfo != nil {
		notesList = append(notesList, ELFNote{Name: "VMCOREINFO", Desc: k.VMCoreInfo})
	}
	var vmciOff int64
	for _, n := range notesList {
		start := len(notes)
		notes = appendNote(notes, o, n)
		if n.Name == "VMCOREINFO" {
			vmciOff = int64(start + 12 + (len(n.Name)+1+3)/4*4)
		}
	}
	if sig == "KDUMP   " {
		switch {
		case k.Version >= 4:
			lay.NotesOff = int64(bs + len(area))
			area = append(area, notes...)
			if k.VMCoreInfo != nil {
				lay.VMCoreInfoOff = lay.NotesOff + vmciOff
			}
		case k.Version == 3 && k.VMCoreInfo != nil:
			lay.VMCoreInfoOff = int64(bs + len(area))
			area = append(area, k.VMCoreInfo...)
		}
	}
	subBlocks := (len(area) + bs - 1) / bs
	maxMapnr := k.MaxMapnr
	bitmapBytes := int64((maxMapnr+7)/8+uint64(bs)-1) / int64(bs) * int64(bs)
	lay.Bitmap1Off = int64((1 + subBlocks) * bs)
	lay.Bitmap2Off = lay.Bitmap1Off + bitmapBytes
	lay.BitmapSize = bitmapBytes
	lay.DescOff = lay.Bitmap2Off + bitmapBytes
	bm1 := make([]byte, bitmapBytes)
	bm2 := make([]byte, bitmapBytes)
	set := func(b []byte, pfn uint64) { b[pfn/8] |= 1 << (pfn % 8) }
	pfns := k.storedPFNs()
	for _, p := range pfns {
		set(bm2, p)
		set(bm1, p)
	}
	for _, p := range k.Excluded {
		set(bm1, p)
	}
	for _, r := range k.RAM {
		for p := r[0]; p < r[1]; p++ {
			set(bm1, p)
		}
	}
	lo, hi := uint64(0), maxMapnr
	if k.Split != nil {
		lo, hi = k.Split[0], k.Split[1]
	}
	var stored []uint64
	for _, p := range pfns {
		if p >= lo && p < hi {
			stored = append(stored, p)
		}
	}
	lay.DataOff = lay.DescOff + int64(len(stored))*24
	descs := make([]byte, len(stored)*24)
	pos := lay.DataOff
	zeroPage := make([]byte, bs)
	zeroOff := int64(-1)
	if k.SharedZeroPage {
		zeroOff = pos
		if _, err := w.WriteAt(zeroPage, pos); err != nil {
			return lay, err
		}
		pos += int64(bs)
	}
	track := len(stored) <= 1<<16 // per-page maps only for small dumps
	for i, p := range stored {
		if track {
			lay.DescIndex[p] = i
		}
		if k.Incomplete && i >= k.Written {
			continue // descriptor left zero: the page was never written
		}
		page := k.page(p)
		var off int64
		var size, flags uint32
		if k.SharedZeroPage && bytes.Equal(page, zeroPage) {
			off, size = zeroOff, uint32(bs)
		} else {
			img, f := compressPage(k.Codec, page)
			off, size, flags = pos, uint32(len(img)), f
			if _, err := w.WriteAt(img, pos); err != nil {
				return lay, err
			}
			pos += int64(len(img))
		}
		if track {
			lay.PageOff[p] = off
		}
		o.PutUint64(descs[i*24:], uint64(off))
		o.PutUint32(descs[i*24+8:], size)
		o.PutUint32(descs[i*24+12:], flags)
	}
	lay.EraseOff = pos
	lay.Size = pos
	if k.Version >= 5 && k.EraseInfo != nil {
		lay.Size += int64(len(k.EraseInfo))
	}
	head := make([]byte, lay.DescOff)
	// Main header.
	copy(head, sig)
	o.PutUint32(head[8:], uint32(k.Version))
	for i, s := range k.Utsname {
		copy(head[12+65*i:12+65*i+64], s)
	}
	status := codecStatus(k.Codec)
	if k.Incomplete {
		status |= 0x8
	}
	mm32 := min(maxMapnr, 0xffffffff)
	fields := []uint64{uint64(k.Timestamp), 0, uint64(status), uint64(bs), uint64(subBlocks),
		uint64(2 * bitmapBytes / int64(bs)), mm32, 0, 0, 0, 0, uint64(k.NrCPUs)}
	off := 408 // tv_sec, tv_usec, status, block_size ... nr_cpus (formats.md §1.2)
	if k.Header32 {
		off = 404
	}
	for i, v := range fields {
		size := 4
		if i < 2 && !k.Header32 {
			size = 8
		}
		putN(o, head[off:], size, v)
		off += size
	}
	// Sub-header.
	if sig == "KDUMP   " {
		vals := map[string]uint64{"phys_base": k.PhysBase, "dump_level": uint64(k.DumpLevel),
			"offset_vmcoreinfo": uint64(lay.VMCoreInfoOff), "size_vmcoreinfo": uint64(len(k.VMCoreInfo)),
			"offset_note": uint64(lay.NotesOff), "size_note": uint64(len(notes)), "max_mapnr_64": maxMapnr}
		if lay.VMCoreInfoOff == 0 {
			vals["size_vmcoreinfo"] = 0
		}
		if lay.NotesOff == 0 {
			vals["size_note"] = 0
		}
		if k.Version >= 5 && k.EraseInfo != nil {
			vals["offset_eraseinfo"], vals["size_eraseinfo"] = uint64(lay.EraseOff), uint64(len(k.EraseInfo))
		}
		if k.Split != nil {
			vals["split"] = 1
			vals["start_pfn"], vals["end_pfn"] = min(lo, 0xffffffff), min(hi, 0xffffffff)
			vals["start_pfn_64"], vals["end_pfn_64"] = lo, hi
		}
		for name, pos := range subOffsets[sub] {
			if subSince[name] <= k.Version {
				putN(o, area[pos[0]:], pos[1], vals[name])
			}
		}
	}
	copy(head[bs:], area)
	copy(head[lay.Bitmap1Off:], bm1)
	copy(head[lay.Bitmap2Off:], bm2)
	for _, part := range []struct {
		b   []byte
		off int64
	}{{head, 0}, {descs, lay.DescOff}} {
		if _, err := w.WriteAt(part.b, part.off); err != nil {
			return lay, err
		}
	}
	if k.Version >= 5 && k.EraseInfo != nil {
		if _, err := w.WriteAt(k.EraseInfo, lay.EraseOff); err != nil {
			return lay, err
		}
	}
	return lay, nil
}

// storedPFNs lists the stored pfns in order: the keys of Pages, or
// 0..NumPages-1 with a PageFunc.
func (k *Kdump) storedPFNs() []uint64 {
	if k.PageFunc != nil {
		pfns := make([]uint64, k.NumPages)
		for i := range pfns {
			pfns[i] = uint64(i)
		}
		return pfns
	}
	pfns := make([]uint64, 0, len(k.Pages))
	for p := range k.Pages {
		pfns = append(pfns, p)
	}
	sort.Slice(pfns, func(i, j int) bool { return pfns[i] < pfns[j] })
	return pfns
}

// page returns the bytes of a stored pfn.
func (k *Kdump) page(pfn uint64) []byte {
	if k.PageFunc != nil {
		return k.PageFunc(pfn)
	}
	return k.Pages[pfn]
}

func codecStatus(c string) uint32 {
	switch c {
	case "zlib":
		return 0x1
	case "lzo":
		return 0x2
	case "snappy":
		return 0x4
	case "zstd":
		return 0x20
	}
	return 0
}

// Encoders are reused: building one per page makes large test dumps slow.
var (
	zstdEncoders = sync.Pool{New: func() any {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		return e
	}}
	zlibWriters = sync.Pool{New: func() any {
		w, _ := kzlib.NewWriterLevel(nil, kzlib.BestSpeed)
		return w
	}}
)

// compressPage compresses a page as makedumpfile does (zlib level 1 in a
// zlib container, a raw snappy block, a level-1 zstd frame) and returns
// the image and its page_desc flags; pages that do not shrink are stored
// raw.
func compressPage(c string, page []byte) ([]byte, uint32) {
	var out []byte
	switch c {
	case "zlib":
		var buf bytes.Buffer
		w := zlibWriters.Get().(*kzlib.Writer)
		w.Reset(&buf)
		w.Write(page)
		w.Close()
		zlibWriters.Put(w)
		out = buf.Bytes()
	case "lzo":
		out = LZO1XEncode(page)
	case "snappy":
		out = snappy.Encode(nil, page)
	case "zstd":
		e := zstdEncoders.Get().(*zstd.Encoder)
		out = e.EncodeAll(page, nil)
		zstdEncoders.Put(e)
	default:
		return page, 0
	}
	if len(out) >= len(page) {
		return page, 0
	}
	return out, codecStatus(c)
}

// LZO1XEncode writes a valid LZO1X stream for src using only two kinds of
// instruction of the format description: literal runs and M3 matches of
// distance 1 (repeats of the previous byte). It is a test encoder, simple
// enough to be right by construction, not a good compressor.
func LZO1XEncode(src []byte) []byte {
	var out []byte
	state := -1          // -1: nothing written yet; else literals copied last
	ext := func(n int) { // n ≥ 1: zero bytes of 255 each, then the rest
		for n > 255 {
			out = append(out, 0)
			n -= 255
		}
		out = append(out, byte(n))
	}
	literals := func(lit []byte) {
		n := len(lit)
		switch {
		case n == 0:
			return
		case state == -1 && n <= 238: // first byte 18..255: 1..238 literals
			out = append(out, byte(17+n))
			state = min(n, 4)
		case state == 0 && n <= 3: // after a match: its S bits carry them
			out[len(out)-2] |= byte(n)
			state = n
		case n-3 <= 15: // literal run, length 3+L
			out = append(out, byte(n-3))
			state = 4
		default: // literal run with an extended length
			out = append(out, 0)
			ext(n - 3 - 15)
			state = 4
		}
		out = append(out, lit...)
	}
	match := func(n int) { // M3, distance 1, length n ≥ 3
		if n-2 <= 31 {
			out = append(out, byte(0x20|(n-2)))
		} else {
			out = append(out, 0x20)
			ext(n - 2 - 31)
		}
		out = append(out, 0, 0) // D = 0 (distance 1), S = 0
		state = 0
	}
	lit := 0
	for i := 1; i < len(src); {
		run := 0
		for i+run < len(src) && src[i+run] == src[i-1] {
			run++
		}
		// A literal run needs 4+ bytes unless a match precedes it, so
		// only take repeats that leave encodable literals before them.
		if n := i - lit; run >= 8 && (n == 0 || n >= 4 || state == 0 || state == -1) {
			literals(src[lit:i])
			match(run)
			i += run
			lit = i
			continue
		}
		i++
	}
	literals(src[lit:])
	return append(out, 0x11, 0, 0)
}

// Flatten turns a file into a makedumpfile flattened stream (formats.md
// §2): a 4096-byte header, then records of at most recSize bytes in file
// order, then the end marker. rewrites lists byte ranges written again at
// the end (later records win), as makedumpfile rewrites the sub-header.
func Flatten(file []byte, recSize int, rewrites ...[2]int64) []byte {
	out := make([]byte, 4096)
	copy(out, "makedumpfile")
	binary.BigEndian.PutUint64(out[16:], 1)
	binary.BigEndian.PutUint64(out[24:], 1)
	rec := func(off int64, data []byte) {
		var h [16]byte
		binary.BigEndian.PutUint64(h[0:], uint64(off))
		binary.BigEndian.PutUint64(h[8:], uint64(len(data)))
		out = append(out, h[:]...)
		out = append(out, data...)
	}
	for off := 0; off < len(file); off += recSize {
		end := min(off+recSize, len(file))
		// Skip all-zero records, as writers skip unwritten holes.
		if !bytes.Equal(file[off:end], make([]byte, end-off)) {
			rec(int64(off), file[off:end])
		}
	}
	for _, r := range rewrites {
		rec(r[0], file[r[0]:r[1]])
	}
	return append(out, bytes.Repeat([]byte{0xff}, 16)...)
}

// SplitParts writes the n parts of a split set of k: the pfn space is cut
// into n equal ranges.
func (k *Kdump) SplitParts(n int) [][]byte {
	var parts [][]byte
	step := (k.MaxMapnr + uint64(n) - 1) / uint64(n)
	for i := 0; i < n; i++ {
		p := *k
		r := [2]uint64{uint64(i) * step, min(uint64(i+1)*step, k.MaxMapnr)}
		p.Split = &r
		b, _ := p.Bytes()
		parts = append(parts, b)
	}
	return parts
}

// String describes the dump for test names.
func (k *Kdump) String() string {
	return fmt.Sprintf("v%d %s sub=%s hdr32=%v codec=%s bs=%d", k.Version, k.Signature, k.Sub, k.Header32, k.Codec, k.BlockSize)
}
