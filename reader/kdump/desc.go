package kdump

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"dumpscope/model"
	"dumpscope/reader"
)

// PageDesc is struct page_desc (formats.md §1.6), 24 bytes in every ABI.
type PageDesc struct {
	Offset    int64  // file offset of the stored page image
	Size      uint32 // bytes stored
	Flags     uint32 // how it is stored: 0 raw, else a codec bit
	PageFlags uint64 // reserved, 0 in practice
}

const (
	descSize      = 24
	descsPerBlock = 256 // descriptors per cached block (6 KiB)
	descCacheN    = 256 // at most 1.5 MiB: the descriptors of 65536 frames
)

// descTable reads page descriptors on demand through a block cache.
type descTable struct {
	src   reader.Source
	off   int64 // file offset of descriptor 0
	order binary.ByteOrder
	le    bool // order is little-endian: decode with direct calls
	cache *reader.LRU[uint64, []byte]
	// recent holds the blocks block found last, read without the cache's
	// lock: workers reading their own parts of the file each go through
	// their own block, and the cache's one most recent entry would make
	// them take the lock (and pass its cache line between their cores)
	// for every page. A block stays valid after the cache evicts it (the
	// file does not change), so recent is only ever a few blocks more.
	recent     [descRecent]atomic.Pointer[descBlock]
	nextRecent atomic.Uint32
}

// descRecent is how many blocks descTable.block finds without a lock.
const descRecent = 4

// descBlock is one block of descriptors and its number.
type descBlock struct {
	blk uint64
	b   []byte
}

func newDescTable(src reader.Source, off int64, order binary.ByteOrder) *descTable {
	return &descTable{src: src, off: off, order: order, le: order == binary.ByteOrder(binary.LittleEndian), cache: reader.NewLRU[uint64, []byte](descCacheN)}
}

// offsetOf returns the file offset of descriptor i.
func (t *descTable) offsetOf(i uint64) int64 { return t.off + int64(i)*descSize }

// block returns the cached bytes of descriptor block blk (whole
// descriptors only; shorter at the end of the file).
func (t *descTable) block(blk uint64) []byte {
	for i := range t.recent {
		if d := t.recent[i].Load(); d != nil && d.blk == blk {
			return d.b
		}
	}
	b, ok := t.cache.Get(blk)
	if !ok {
		start := t.off + int64(blk)*descsPerBlock*descSize
		b = make([]byte, descsPerBlock*descSize)
		n, _ := t.src.R.ReadAt(b, start)
		b = b[:n-n%descSize]
		t.cache.Put(blk, b)
	}
	t.recent[t.nextRecent.Add(1)%descRecent].Store(&descBlock{blk, b})
	return b
}

// get returns descriptor i. A descriptor the file does not hold whole gives
// an error wrapping model.ErrTruncated.
func (t *descTable) get(i uint64) (PageDesc, error) {
	return t.decode(t.block(i/descsPerBlock), i)
}

// decode returns descriptor i from its block b.
func (t *descTable) decode(b []byte, i uint64) (PageDesc, error) {
	k := int(i%descsPerBlock) * descSize
	if k+descSize > len(b) {
		return PageDesc{}, t.beyondEOF(i)
	}
	return t.entry(b[k : k+descSize]), nil
}

// beyondEOF is the error for descriptor i, which the file does not hold
// whole.
func (t *descTable) beyondEOF(i uint64) error {
	return model.Errorf(t.src.Name, fmt.Sprintf("page_desc[%d]", i), t.offsetOf(i), model.ErrTruncated,
		"the descriptor lies beyond the end of the file")
}

// entry decodes the 24 bytes of one descriptor.
func (t *descTable) entry(e []byte) PageDesc {
	if t.le {
		// Direct calls: verify decodes every descriptor two or three times
		// (the structure check, the range reader, the run ahead of it).
		le := binary.LittleEndian
		return PageDesc{Offset: int64(le.Uint64(e)), Size: le.Uint32(e[8:]), Flags: le.Uint32(e[12:]), PageFlags: le.Uint64(e[16:])}
	}
	o := t.order
	return PageDesc{Offset: int64(o.Uint64(e)), Size: o.Uint32(e[8:]), Flags: o.Uint32(e[12:]), PageFlags: o.Uint64(e[16:])}
}

// descWindowSize is how many bytes of the descriptor table a descWindow
// reads at a time: 2731 descriptors, at least the 64 KiB from which
// reader.ReadAhead passes a read straight through (no window of its own
// to fill and copy from).
const descWindowSize = (64<<10 + descSize - 1) / descSize * descSize

// descWindow is a stretch of the descriptor table that a walk in
// descriptor order (verify's structure check, ReadRange) reads through.
// Its buffer is reused from one stretch to the next, where the block cache
// allocates 6 KiB for every 256 frames: on virtual machines whose host
// backs guest memory lazily, the first touch of a fresh page of memory
// costs tens of microseconds of CPU (30-80 µs on the 2-CPU bench VM). A
// verify of a 32768-frame LZO file faulted in ~490 fresh pages (the
// descriptor blocks, reader.ReadAhead's windows), ~100 with descWindow and
// ReadRange's own reads.
type descWindow struct {
	buf   []byte // whole descriptors, the first one being descriptor first
	first uint64
}

// at returns descriptor i through w, which it refills from i when it does
// not hold i; with w nil, through the block cache. A descriptor the file
// does not hold whole gives an error wrapping model.ErrTruncated.
func (t *descTable) at(w *descWindow, i uint64) (PageDesc, error) {
	if w == nil {
		return t.get(i)
	}
	if i < w.first || (i-w.first+1)*descSize > uint64(len(w.buf)) {
		if cap(w.buf) < descWindowSize {
			w.buf = make([]byte, descWindowSize)
		}
		b := w.buf[:descWindowSize]
		n, _ := t.src.R.ReadAt(b, t.offsetOf(i))
		w.buf, w.first = b[:n-n%descSize], i
		if len(w.buf) < descSize {
			return PageDesc{}, t.beyondEOF(i)
		}
	}
	k := (i - w.first) * descSize
	return t.entry(w.buf[k : k+descSize]), nil
}
