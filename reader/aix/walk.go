package aix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"dumpscope/model"
	"dumpscope/reader"
)

// endKind says how the walk over the tables stopped.
type endKind int

const (
	endEOF       endKind = iota // the file ends right after the last item
	endMarker                   // DMP_MAGIC_END
	endZero                     // a zero magic: padding to the device block
	endUnknown                  // a magic that starts no table ("loss of sync")
	endTruncated                // the file ends inside an item
	endCorrupt                  // a table too damaged to go on (bad cdt_len, limit)
	endIOError                  // the file could not be read
)

// walk is the index built by walking the tables once.
type walk struct {
	comps    []*component
	end      endKind
	endOff   int64  // where the walk stopped
	endMagic uint32 // the magic found at endOff (endMarker, endUnknown)
	problems []model.Problem
	nItems   int    // tables plus entries indexed, against MaxEntries
	buf      []byte // bitmap scan buffer
}

// component is one table as the walk found it.
type component struct {
	index int
	off   int64
	head  CDTHead
	// headAvail is the number of header bytes in the file (24 unless the
	// file ends inside the header).
	headAvail int64
	entries   []area
	// dataStart is where the first bitmap is (classic tables: off +
	// cdt_len); end is the offset after the component's last item in the
	// file.
	dataStart, end int64
	complete       bool
}

// area is one entry and, when its length is not 0, where its bitmap and
// data are.
type area struct {
	Entry
	comp, index int
	off         int64 // file offset of the entry
	geometry
	bmOff   int64  // bitmap offset (-1: never reached)
	bmAvail int64  // bitmap bytes in the file
	dataOff int64  // data offset (-1: not in the file)
	dataLen int64  // data bytes, when the whole bitmap is in the file
	bits    uint64 // bitmap bits in the file (npages unless cut)
	count   uint64 // set bits among them
	// inFile is how many present pages (in bitmap order) have all their
	// bytes in the file; the data of later ones was lost to truncation.
	inFile      uint64
	bit0, bitN  bool     // first and last page present
	inline      uint64   // the whole bitmap when it fits in 8 bytes
	rank        []uint64 // set bits before each block, for longer bitmaps
	complete    bool
	paddingBits bool // unused bits of the last bitmap byte are set
}

// blockBytes is the bitmap block: the unit of the rank index and of the
// block cache (32768 pages, 128 MiB of memory).
const (
	blockBytes = 4096
	blockBits  = 8 * blockBytes
	scanBytes  = 16 * blockBytes // bitmap bytes read at a time by the walk
)

func (w *walk) problem(sev model.Severity, code model.Code, file string, off int64, format string, args ...any) {
	w.problems = append(w.problems, model.NewProblem(sev, code, file, off, format, args...))
}

// runWalk walks every table from the start offset to the end of the dump
// (formats.md §6.5): table, then per area bitmap and data.
func (f *File) runWalk() *walk {
	w := &walk{}
	pos := f.start
	for {
		rem := f.src.Size - pos
		if rem <= 0 {
			w.end, w.endOff = endEOF, pos
			break
		}
		if rem < 4 {
			b := make([]byte, rem)
			if !f.read(w, b, pos, "cdt_head") {
				break
			}
			w.endOff = pos
			if isZero(b) {
				w.end = endZero
			} else {
				w.end = endTruncated
				w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, pos, "the file ends with %d stray bytes where a table or DMP_MAGIC_END should start", rem)
			}
			break
		}
		var mb [4]byte
		if !f.read(w, mb[:], pos, "cdt_head") {
			break
		}
		magic := binary.BigEndian.Uint32(mb[:])
		w.endOff, w.endMagic = pos, magic
		switch {
		case magic == 0:
			w.end = endZero
		case magic == MagicEnd:
			w.end = endMarker
		case IsTableMagic(magic):
			next, ok := f.walkTable(w, pos)
			if ok {
				pos = next
				continue
			}
		case magic == MagicUD32 || magic == MagicUD64:
			w.end = endUnknown
			w.problem(model.SeverityError, model.CodeOutOfSync, f.src.Name, pos,
				"%s (%#08x), the magic of an unlimited-table entry, where a table should start: the walk cannot go on", MagicName(magic), magic)
		default:
			w.end = endUnknown
			w.problem(model.SeverityError, model.CodeUnknownMagic, f.src.Name, pos,
				"unrecognised table magic %#08x (AIX 6/7 RAS tables are not supported): the rest of the file cannot be read", magic)
		}
		break
	}
	if w.end == endEOF && len(w.comps) > 0 {
		f.checkEOFEnd(w)
	}
	w.buf = nil
	return w
}

// checkEOFEnd judges a dump that ends at the end of the file right after
// an area, without DMP_MAGIC_END or zero padding (formats.md §6.5). AIX
// writes the dump in device blocks (4.1's jflush pads the last one with
// zeros) and AIX 5 ends it with DMP_MAGIC_END, so such a file was cut
// between two components, and whatever components followed are lost,
// unless the last area happened to fill its block in a dump of an AIX 4
// kernel, which writes no end marker: only then it may be complete.
func (f *File) checkEOFEnd(w *walk) {
	last := w.comps[len(w.comps)-1]
	after := fmt.Sprintf("the file ends right after component %d %q, without DMP_MAGIC_END or zero padding", last.index, reader.Printable(last.head.Name))
	aix5 := ""
	for _, c := range w.comps {
		if c.head.Magic == Magic64 || unlimited(c.head.Magic) {
			aix5 = MagicName(c.head.Magic)
		}
	}
	switch {
	case (f.src.Size-f.start)%512 != 0:
		w.problem(model.SeverityError, model.CodeMissingEndMarker, f.src.Name, f.src.Size,
			"%s, and not on a 512-byte block: AIX writes whole blocks, so the dump was cut here and any components after this one are lost (how many is unknown)", after)
	case aix5 != "":
		w.problem(model.SeverityError, model.CodeMissingEndMarker, f.src.Name, f.src.Size,
			"%s: an AIX 5 kernel (this dump has %s tables) ends its dump with DMP_MAGIC_END, so the dump was cut here and any components after this one are lost (how many is unknown)", after, aix5)
	default:
		w.problem(model.SeverityWarning, model.CodeMissingEndMarker, f.src.Name, f.src.Size,
			"%s: an AIX 4 dump whose last area fills its block ends so, but so does one cut between two components, whose later components are lost", after)
	}
}

// read reads p at off, recording a problem when it fails.
func (f *File) read(w *walk, p []byte, off int64, what string) bool {
	err := f.src.ReadAt(p, off, what)
	if err == nil {
		return true
	}
	w.end, w.endOff = endIOError, off
	if errors.Is(err, model.ErrTruncated) {
		w.end = endTruncated
	}
	w.problem(model.SeverityError, model.CodeReadError, f.src.Name, off, "%v", err)
	return false
}

// room reports whether n more tables or entries may be indexed, recording
// the limit problem when not.
func (f *File) room(w *walk, n int64, off int64) bool {
	if n <= int64(MaxEntries-w.nItems) {
		return true
	}
	w.end, w.endOff = endCorrupt, off
	w.problem(model.SeverityError, model.CodeTooManyEntries, f.src.Name, off,
		"more than %d tables and entries: dumpscope indexes no more (the rest of the dump is not read)", MaxEntries)
	return false
}

// walkTable indexes the table at pos and the areas that follow it. It
// returns the offset after them, or false when the walk must stop.
func (f *File) walkTable(w *walk, pos int64) (int64, bool) {
	if !f.room(w, 1, pos) {
		return 0, false
	}
	w.nItems++
	c := &component{index: len(w.comps), off: pos, complete: true, dataStart: -1}
	w.comps = append(w.comps, c)
	hb := make([]byte, HeadSize)
	c.headAvail = min(HeadSize, f.src.Size-pos)
	if !f.read(w, hb[:c.headAvail], pos, "cdt_head") {
		return 0, false
	}
	c.head = decodeHead(hb)
	c.end = pos + c.headAvail
	if c.headAvail < HeadSize {
		c.complete = false
		w.end = endTruncated
		w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, pos,
			"component %d: the file ends inside its 24-byte table header (%d bytes present)", c.index, c.headAvail)
		return 0, false
	}
	if unlimited(c.head.Magic) {
		return f.walkUnlimited(w, c)
	}
	return f.walkClassic(w, c)
}

// walkClassic indexes a 32-bit, VR or 64-bit table: cdt_len bytes of
// header and entries, then per entry of non-zero length its bitmap and
// data (dumpdd.c wr_cdt).
func (f *File) walkClassic(w *walk, c *component) (int64, bool) {
	es := entrySize(c.head.Magic)
	tl := int64(c.head.Len)
	where := fmt.Sprintf("component %d %q", c.index, reader.Printable(c.head.Name))
	if tl < HeadSize {
		c.complete = false
		w.end, w.endOff = endCorrupt, c.off+20
		w.problem(model.SeverityError, model.CodeBadCDTLen, f.src.Name, c.off+20,
			"%s: cdt_len %d is smaller than the 24-byte header, so the table's end is unknown", where, tl)
		return 0, false
	}
	if (tl-HeadSize)%es != 0 {
		w.problem(model.SeverityError, model.CodeBadCDTLen, f.src.Name, c.off+20,
			"%s: cdt_len %d is not 24 plus a multiple of the %d-byte %s; AIX's readers use the whole entries and continue after cdt_len bytes",
			where, tl, es, entryStructName(c.head.Magic))
	}
	n := (tl - HeadSize) / es
	c.dataStart = c.off + tl
	cut := c.dataStart > f.src.Size
	if cut {
		avail := (f.src.Size - c.off - HeadSize) / es
		w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, c.off,
			"%s: the table needs cdt_len %d bytes but the file ends at %#x: %d of %d entries are in the file", where, tl, f.src.Size, avail, n)
		n = avail
	}
	if !f.room(w, n, c.off) {
		c.complete = false
		return 0, false
	}
	w.nItems += int(n)
	c.entries = make([]area, 0, n)
	const perRead = 1024
	buf := make([]byte, min(n, perRead)*es)
	for i := int64(0); i < n; i += perRead {
		k := min(perRead, n-i)
		off := c.off + HeadSize + i*es
		if !f.read(w, buf[:k*es], off, entryStructName(c.head.Magic)) {
			c.complete = false
			return 0, false
		}
		for j := int64(0); j < k; j++ {
			c.addEntry(decodeEntry(c.head.Magic, buf[j*es:]), off+j*es)
		}
	}
	c.end = c.off + HeadSize + n*es
	if cut {
		c.complete = false
		c.markUnreached(0)
		w.end, w.endOff = endTruncated, f.src.Size
		return 0, false
	}
	c.end = c.dataStart
	for i := range c.entries {
		a := &c.entries[i]
		if a.npages == 0 {
			continue
		}
		next, ok := f.walkArea(w, c, a, c.end)
		if !ok {
			c.complete = false
			c.markUnreached(i + 1)
			c.end = f.src.Size
			return 0, false
		}
		c.end = next
	}
	return c.end, true
}

// walkUnlimited indexes an unlimited table: the header, then while the
// next word is the table's entry magic, one cdt_entry_u with its bitmap and
// data (view-dump CDT_u32/CDT_u64). The first other word ends the table
// and is read as the next table's magic.
func (f *File) walkUnlimited(w *walk, c *component) (int64, bool) {
	want := MagicUD64
	if c.head.Magic == MagicU32 {
		want = MagicUD32
	}
	cur := c.off + HeadSize
	c.dataStart = cur
	for f.src.Size-cur >= 4 {
		var mb [4]byte
		if !f.read(w, mb[:], cur, "du_magic") {
			c.complete = false
			return 0, false
		}
		if binary.BigEndian.Uint32(mb[:]) != want {
			break
		}
		if !f.room(w, 1, cur) {
			c.complete = false
			return 0, false
		}
		w.nItems++
		if f.src.Size-cur < EntryUSize {
			c.complete = false
			w.end, w.endOff = endTruncated, cur
			w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, cur,
				"component %d %q: the file ends inside entry %d (%d of %d bytes)", c.index, reader.Printable(c.head.Name), len(c.entries), f.src.Size-cur, EntryUSize)
			c.end = f.src.Size
			return 0, false
		}
		eb := make([]byte, EntryUSize)
		if !f.read(w, eb, cur, "cdt_entry_u") {
			c.complete = false
			return 0, false
		}
		c.addEntry(decodeEntry(c.head.Magic, eb), cur)
		cur += EntryUSize
		if a := &c.entries[len(c.entries)-1]; a.npages > 0 {
			next, ok := f.walkArea(w, c, a, cur)
			if !ok {
				c.complete = false
				c.end = f.src.Size
				return 0, false
			}
			cur = next
		}
	}
	c.end = cur
	return cur, true
}

// addEntry appends an entry with its geometry.
func (c *component) addEntry(e Entry, off int64) {
	c.entries = append(c.entries, area{Entry: e, comp: c.index, index: len(c.entries), off: off,
		geometry: geometryOf(c.head.Magic, e), bmOff: -1, dataOff: -1, complete: true})
}

// markUnreached marks entries from i on whose bitmap and data the file
// does not reach.
func (c *component) markUnreached(i int) {
	for ; i < len(c.entries); i++ {
		if c.entries[i].npages > 0 {
			c.entries[i].complete = false
		}
	}
}

// walkArea reads the bitmap of area a at off (counting its set bits) and
// places its data after it. It returns the offset after the data, or false
// when the file ends inside the bitmap or the data.
func (f *File) walkArea(w *walk, c *component, a *area, off int64) (int64, bool) {
	a.bmOff = off
	bmLen := a.npages/8 + min(a.npages%8, 1)
	avail := uint64(f.src.Size - off)
	a.bmAvail = int64(min(bmLen, avail))
	if !f.scanBitmap(w, a) {
		a.complete = false
		return 0, false
	}
	name := areaName(c.index, a.index, a.Name)
	if a.paddingBits {
		w.problem(model.SeverityWarning, model.CodeBadBitmap, f.src.Name, off+a.bmAvail-1,
			"%s: the last bitmap byte has bits set beyond the area's %d pages (writers leave them clear)", name, a.npages)
	}
	if bmLen > avail {
		a.complete = false
		a.bits = uint64(a.bmAvail) * 8
		w.end, w.endOff = endTruncated, f.src.Size
		w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, off,
			"%s: the bitmap needs %d bytes but the file ends at %#x (%d bytes present): all %d pages are lost",
			name, bmLen, f.src.Size, a.bmAvail, a.npages)
		return 0, false
	}
	a.bits = a.npages
	a.dataOff = off + int64(bmLen)
	// Only the covered part of the first and last page is stored.
	lead0 := uint64(0)
	if a.bit0 {
		lead0 = a.lead
	}
	total, ok := reader.MulOK(int64(min(a.count, 1<<52)), PageSize)
	if ok {
		total -= int64(lead0)
		if a.bitN {
			total -= int64(a.tail)
		}
	}
	room := f.src.Size - a.dataOff
	if !ok || total > room {
		a.complete = false
		a.inFile = min(a.count-1, uint64(room+int64(lead0))/PageSize)
		w.end, w.endOff = endTruncated, f.src.Size
		w.problem(model.SeverityError, model.CodeTruncated, f.src.Name, a.dataOff,
			"%s: the data of %d present pages needs %s bytes but the file ends at %#x: %s lost",
			name, a.count, byteCount(total, ok), f.src.Size, plural(a.count-a.inFile, "page"))
		return 0, false
	}
	a.inFile, a.dataLen = a.count, total
	return a.dataOff + total, true
}

func byteCount(n int64, ok bool) string {
	if !ok {
		return "more than 2^63"
	}
	return fmt.Sprint(n)
}

// scanBitmap reads the part of a's bitmap that is in the file in large
// pieces and counts its set bits, keeping the count before each block (the
// rank), the first and last bit, and the whole bitmap when it fits in 8
// bytes. Unused bits of the last byte are not counted.
func (f *File) scanBitmap(w *walk, a *area) bool {
	n := a.bmAvail
	if n == 0 {
		return true
	}
	full := uint64(n)*8 >= a.npages
	if nb := (n + blockBytes - 1) / blockBytes; nb > 1 {
		a.rank = make([]uint64, nb)
	}
	if w.buf == nil {
		w.buf = make([]byte, scanBytes)
	}
	var count uint64
	for pos := int64(0); pos < n; pos += scanBytes {
		b := w.buf[:min(scanBytes, n-pos)]
		if !f.read(w, b, a.bmOff+pos, "bitmap") {
			return false
		}
		if pos == 0 {
			a.bit0 = b[0]&1 != 0
		}
		if last := pos+int64(len(b)) == n; last && full && a.npages%8 != 0 {
			mask := byte(1)<<(a.npages%8) - 1
			a.paddingBits = b[len(b)-1]&^mask != 0
			b[len(b)-1] &= mask
		}
		if pos+int64(len(b)) == n && full {
			a.bitN = b[len(b)-1]>>((a.npages-1)%8)&1 != 0
		}
		for j := 0; j < len(b); j += blockBytes {
			if a.rank != nil {
				a.rank[(pos+int64(j))/blockBytes] = count
			}
			count += popcount(b[j:min(j+blockBytes, len(b))])
		}
		if n <= 8 {
			var v [8]byte
			copy(v[:], b)
			a.inline = binary.LittleEndian.Uint64(v[:])
		}
	}
	a.count = count
	return true
}

// popcount counts the set bits of b.
func popcount(b []byte) uint64 {
	var n int
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return uint64(n)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
