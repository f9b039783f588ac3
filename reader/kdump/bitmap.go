package kdump

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"dumpscope/model"
	"dumpscope/reader"
)

// A bitmap is looked up in blocks of bitmapBlock bytes (2^15 pfns, 128 MiB
// of memory with 4 KiB pages). Each cached block carries the popcount of
// every 512-byte stretch before it, so a rank inside a block costs at most
// 64 popcounts of 64-bit words. Blocks are small because lookups are
// random: a page read anywhere in a 1 TiB address space costs a 4 KiB read
// of each bitmap, not 64 KiB, and 256 of them stay cached; scans that read
// every bit (Counts, the rank index) read 1 MiB at a time (counts.go).
const (
	bitmapBlock   = 4 << 10
	rankStride    = 512 // bytes
	bitmapCacheN  = 256 // cached blocks (1 MiB)
	pfnsPerBlock  = bitmapBlock * 8
	stridesPerBlk = bitmapBlock / rankStride
)

// bitmapBlockData is one cached block of a bitmap.
type bitmapBlockData struct {
	blk int64 // the block's number
	b   []byte
	sub [stridesPerBlk + 1]uint32 // popcount of b[:i*rankStride]
	err error                     // the block could not be read (truncated file)
}

// bitmaps gives access to bitmap 1 ("is RAM") and bitmap 2 ("is in this
// file"), and ranks in bitmap 2.
type bitmaps struct {
	src    reader.Source
	off    [2]int64 // file offsets of bitmap 1 and 2
	size   int64    // bytes of one bitmap that hold bits below max_mapnr
	span   int64    // bytes of one bitmap in the file (size plus padding)
	single bool     // old files: one bitmap serves as both
	cache  *reader.LRU[blockKey, *bitmapBlockData]
	rankMu sync.Mutex
	cum    []uint64 // cum[k] = set bits of bitmap 2 in blocks [0, k)
	// within[k] says that block k of bitmap 2 sets no bit that bitmap 1
	// does not (makedumpfile stores only RAM): a stored frame there is
	// RAM, and its lookup skips bitmap 1 (state). It grows with cum, from
	// the passes that read both bitmaps' blocks anyway.
	within []bool
	cumErr error
	// ranked is a copy of cum's and within's headers as rank last left
	// them, read without rankMu: both only grow, and the entries below a
	// published length never change, so rank and state find a block
	// counted already without taking the lock that two workers would
	// otherwise take turns at per page.
	ranked atomic.Pointer[rankIndex]
	// last holds the block of each bitmap used last, read without the
	// cache's lock: a page lookup takes a bit of bitmap 1, then of bitmap
	// 2, which alternate as the cache's most recent entry.
	last     [2]atomic.Pointer[bitmapBlockData]
	blocks   int64
	maxMapnr uint64
}

// rankIndex is a published view of the rank prefix sums.
type rankIndex struct {
	cum    []uint64
	within []bool
}

type blockKey struct {
	which int // 0: bitmap 1, 1: bitmap 2
	block int64
}

func newBitmaps(src reader.Source, off1, off2, size, span int64, single bool, maxMapnr uint64) *bitmaps {
	return &bitmaps{
		src: src, off: [2]int64{off1, off2}, size: size, span: span, single: single,
		cache:    reader.NewLRU[blockKey, *bitmapBlockData](bitmapCacheN),
		blocks:   (size + bitmapBlock - 1) / bitmapBlock,
		maxMapnr: maxMapnr,
	}
}

// block returns a cached block of bitmap which (0 or 1).
func (bm *bitmaps) block(which int, blk int64) *bitmapBlockData {
	if bm.single {
		which = 1 // bitmap 2 is the same bytes as bitmap 1
	}
	if d := bm.last[which].Load(); d != nil && d.blk == blk {
		return d
	}
	key := blockKey{which, blk}
	if d, ok := bm.cache.Get(key); ok {
		bm.last[which].Store(d)
		return d
	}
	d := &bitmapBlockData{blk: blk}
	n := min(bitmapBlock, bm.size-blk*bitmapBlock)
	off := bm.off[which] + blk*bitmapBlock
	if n <= 0 {
		d.err = fmt.Errorf("block %d is beyond the bitmap", blk)
	} else {
		d.b = make([]byte, n)
		name := [2]string{"bitmap 1", "bitmap 2"}[which]
		if err := bm.src.ReadAt(d.b, off, name); err != nil {
			d.err, d.b = err, nil
		}
	}
	var acc uint32
	for i := 0; i < stridesPerBlk; i++ {
		d.sub[i] = acc
		lo, hi := i*rankStride, min((i+1)*rankStride, len(d.b))
		if lo < hi {
			acc += uint32(popcount(d.b[lo:hi]))
		}
	}
	d.sub[stridesPerBlk] = acc
	bm.cache.Put(key, d)
	bm.last[which].Store(d)
	return d
}

// beyondEOF reports whether block blk of either bitmap starts at or after
// the end of the file.
func (bm *bitmaps) beyondEOF(blk int64) bool {
	for _, off := range bm.off {
		if off+blk*bitmapBlock >= bm.src.Len() {
			return true
		}
	}
	return false
}

// bit returns bit pfn of bitmap which.
func (bm *bitmaps) bit(which int, pfn uint64) (bool, error) {
	byteOff := int64(pfn / 8)
	if byteOff >= bm.size {
		return false, fmt.Errorf("pfn %#x is beyond the bitmap (%d bytes)", pfn, bm.size)
	}
	d := bm.block(which, byteOff/bitmapBlock)
	if d.err != nil {
		return false, d.err
	}
	return d.b[byteOff%bitmapBlock]>>(pfn%8)&1 == 1, nil
}

// byteAt returns the bitmap byte holding pfn and its file offset.
func (bm *bitmaps) byteAt(which int, pfn uint64) (byte, int64, error) {
	byteOff := int64(pfn / 8)
	w := which
	if bm.single {
		w = 1
	}
	off := bm.off[w] + byteOff
	if byteOff >= bm.size {
		return 0, off, fmt.Errorf("pfn %#x is beyond the bitmap", pfn)
	}
	d := bm.block(which, byteOff/bitmapBlock)
	if d.err != nil {
		return 0, off, d.err
	}
	return d.b[byteOff%bitmapBlock], off, nil
}

// rank returns the number of set bits of bitmap 2 in [0, pfn). It extends
// the per-block prefix sums as far as pfn needs, reading each block once.
func (bm *bitmaps) rank(pfn uint64) (uint64, error) {
	blk := int64(pfn / pfnsPerBlock)
	var base uint64
	if c := bm.ranked.Load(); c != nil && int64(len(c.cum)) > blk {
		base = c.cum[blk]
	} else {
		bm.rankMu.Lock()
		bm.extendRank(blk)
		c := bm.cum
		bm.ranked.Store(&rankIndex{cum: c, within: bm.within})
		if int64(len(c)) <= blk {
			err := bm.cumErr
			bm.rankMu.Unlock()
			return 0, err
		}
		base = c[blk]
		bm.rankMu.Unlock()
	}
	if pfn%pfnsPerBlock == 0 {
		return base, nil // also the rank at the very end of the bitmap
	}
	d := bm.block(1, blk)
	if d.err != nil {
		return 0, d.err
	}
	inBlk := int(pfn % pfnsPerBlock) // bit index inside the block
	byteIdx := inBlk / 8
	stride := byteIdx / rankStride
	r := base + uint64(d.sub[stride])
	r += uint64(popcount(d.b[stride*rankStride : byteIdx]))
	if rem := inBlk % 8; rem != 0 && byteIdx < len(d.b) {
		r += uint64(bits.OnesCount8(d.b[byteIdx] & (1<<rem - 1)))
	}
	return r, nil
}

// noteBlock extends the rank prefix sums with block blk of bitmap 2 (b2,
// read beside b1 of bitmap 1) when it is the next one needed, so a
// sequential pass (Runs) builds the rank index as a side effect.
func (bm *bitmaps) noteBlock(blk int64, b1, b2 *bitmapBlockData) {
	bm.rankMu.Lock()
	defer bm.rankMu.Unlock()
	if len(bm.cum) == 0 {
		bm.cum = append(bm.cum, 0)
	}
	if int64(len(bm.cum)) == blk+1 && b2.err == nil {
		bm.push(uint64(b2.sub[stridesPerBlk]), b1.err == nil && bm.inside(b1.b, b2.b))
	}
}

// push adds the next block of bitmap 2, with pop bits set, to the rank
// prefix sums; in says it lies within bitmap 1. bm.rankMu is held and cum
// is not empty.
func (bm *bitmaps) push(pop uint64, in bool) {
	bm.cum = append(bm.cum, bm.cum[len(bm.cum)-1]+pop)
	bm.within = append(bm.within, in)
}

// inside reports whether every bit set in b2 is set in b1 (two pieces of
// the bitmaps at the same offset); with one bitmap serving as both, it is.
func (bm *bitmaps) inside(b1, b2 []byte) bool {
	if bm.single {
		return true
	}
	if len(b1) != len(b2) {
		return false
	}
	var odd uint64
	for len(b1) >= 8 {
		odd |= le64(b2) &^ le64(b1)
		b1, b2 = b1[8:], b2[8:]
	}
	for i := range b1 {
		odd |= uint64(b2[i] &^ b1[i])
	}
	return odd == 0
}

// eachSet calls fn for every pfn in [from, to) set in bitmap 2, with its
// bitmap 1 bit, a 64-bit word at a time. It stops when fn returns false or
// a block cannot be read.
func (bm *bitmaps) eachSet(ctx context.Context, from, to uint64, fn func(pfn uint64, in1 bool) bool) error {
	for pfn := from; pfn < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		blk := int64(pfn / pfnsPerBlock)
		b1, b2 := bm.block(0, blk), bm.block(1, blk)
		if b1.err != nil || b2.err != nil {
			return nil
		}
		base := uint64(blk) * pfnsPerBlock
		end := min(base+pfnsPerBlock, to)
		for pfn < end {
			i := pfn - base
			w := word(b2.b, i) >> (i % 64)
			if w == 0 {
				pfn += 64 - i%64
				continue
			}
			pfn += uint64(bits.TrailingZeros64(w))
			if pfn >= end {
				break
			}
			j := pfn - base
			in1 := int(j/8) < len(b1.b) && b1.b[j/8]>>(j%8)&1 == 1
			if !fn(pfn, in1) {
				return nil
			}
			pfn++
		}
		pfn = max(pfn, end)
	}
	return nil
}

// word returns the 64 bits of b holding bit i (aligned down), with bytes
// past the end read as zero.
func word(b []byte, i uint64) uint64 {
	k := int(i/64) * 8
	if k+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[k:])
	}
	var w uint64
	for j := 0; k+j < len(b); j++ {
		w |= uint64(b[k+j]) << (8 * j)
	}
	return w
}

// popcount counts the set bits of b, eight bytes at a time.
func popcount(b []byte) int {
	n := 0
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return n
}

// states returns the two bitmap bits of pfn as a state before descriptors:
// not_in_dump (hole), excluded, or present (in bitmap 2).
func (bm *bitmaps) state(pfn uint64) (model.PageState, error) {
	if c := bm.ranked.Load(); c != nil {
		if blk := pfn / pfnsPerBlock; blk < uint64(len(c.within)) && c.within[blk] {
			// A stored frame is RAM here: bitmap 1 is read only for a
			// frame that is not stored, to tell a hole from an exclusion.
			if in, err := bm.bit(1, pfn); err == nil && in {
				return model.StatePresent, nil
			}
		}
	}
	ram, err := bm.bit(0, pfn)
	if err != nil {
		return model.StateUnreadable, err
	}
	if !ram {
		return model.StateNotInDump, nil
	}
	in, err := bm.bit(1, pfn)
	if err != nil {
		return model.StateUnreadable, err
	}
	if !in {
		return model.StateExcluded, nil
	}
	return model.StatePresent, nil
}
