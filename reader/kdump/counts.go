package kdump

import (
	"context"
	"encoding/binary"
	"maps"
	"math/bits"
	"sync"

	"dumpscope/model"
)

// Counting frames by state needs every bit of both bitmaps: 2 × 32 MiB for
// a 1 TiB address space. Counts and the rank index read them in stretches
// of scanChunk bytes into two buffers shared through a pool, a 64-bit word
// at a time, without going through the block cache (whose blocks are sized
// for lookups) and without allocating per block. The buffers are small because
// fresh memory costs a page fault per 4 KiB, which on a virtual machine
// costs more than the read system calls a larger buffer saves (2 x 1 MiB
// made opening a 16 GiB dump 50 % slower).
const scanChunk = 128 << 10

// scanBuffers holds pairs of scanChunk buffers for scans, shared by every
// open file: opening dumps one after another (the TUI, a test suite, the
// benchmark) otherwise left 256 KiB of garbage per count, and the garbage
// collector and the scavenger returning that memory to the system cost
// more CPU than the count itself.
var scanBuffers sync.Pool // *[2][]byte

// getScanBuffers returns a pair of buffers of at least n bytes (at most
// scanChunk): small bitmaps get small buffers, which a larger scan later
// replaces.
func getScanBuffers(n int64) *[2][]byte {
	n = max(min(n, scanChunk), 0)
	if b, ok := scanBuffers.Get().(*[2][]byte); ok && int64(len(b[0])) >= n {
		return b
	}
	return &[2][]byte{make([]byte, n), make([]byte, n)}
}

// stretch is a piece of both bitmaps, aligned to bitmap blocks: the bytes
// of bitmap 1 and bitmap 2 that hold the bits of pfns [8·off, 8·(off+len)).
// When the file does not hold it, ok is false and b1, b2 are nil.
type stretch struct {
	off    int64
	n      int64
	b1, b2 []byte
	ok     bool
}

// scan calls fn for the stretches of the bitmaps that hold the bits of
// pfns [from, to), in order, until fn returns false. A stretch that cannot
// be read whole is passed block by block, each block as the block cache
// reads it; a block that starts beyond the end of the file ends the scan
// with one last stretch that is not ok and runs to the end.
func (bm *bitmaps) scan(ctx context.Context, from, to uint64, fn func(stretch) bool) error {
	first := int64(from/8) / bitmapBlock * bitmapBlock
	last := min(int64((to+7)/8), bm.size)
	bufs := getScanBuffers(last - first)
	defer scanBuffers.Put(bufs)
	buf1, buf2 := bufs[0], bufs[1]
	for off := first; off < last; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(scanChunk, last-off)
		s := stretch{off: off, n: n, b1: buf1[:n], b2: buf1[:n]}
		err := bm.src.ReadAt(s.b1, bm.off[0]+off, "bitmap 1")
		if bm.single {
			err = bm.src.ReadAt(s.b1, bm.off[1]+off, "bitmap 2")
		} else if err == nil {
			s.b2 = buf2[:n]
			err = bm.src.ReadAt(s.b2, bm.off[1]+off, "bitmap 2")
		}
		if err == nil {
			s.ok = true
			if !fn(s) {
				return nil
			}
			off += n
			continue
		}
		// Part of the stretch is beyond the end of the file: go block by
		// block, as lookups see the blocks.
		for end := off + n; off < end; off += bitmapBlock {
			blk := off / bitmapBlock
			if bm.beyondEOF(blk) {
				fn(stretch{off: off, n: last - off})
				return nil
			}
			b1, b2 := bm.block(0, blk), bm.block(1, blk)
			s := stretch{off: off, n: min(bitmapBlock, last-off), b1: b1.b, b2: b2.b, ok: b1.err == nil && b2.err == nil}
			if !s.ok {
				s.b1, s.b2 = nil, nil
			}
			if !fn(s) {
				return nil
			}
		}
	}
	return nil
}

// Counts counts the frames by state from the bitmaps, once (the bitmaps do
// not change): the same states Runs gives without detail.
func (f *File) Counts(ctx context.Context) (model.StateCounts, error) {
	f.countsMu.Lock()
	defer f.countsMu.Unlock()
	if f.countsVal == nil {
		c, err := f.count(ctx)
		if err != nil {
			return nil, err
		}
		f.countsVal = c
	}
	return maps.Clone(f.countsVal), nil
}

// count scans both bitmaps over this file's pfns. Frames in bitmap 1 are
// RAM; those also in bitmap 2 are stored (present), the others excluded;
// frames not in bitmap 1 are not in the dump, as are those outside this
// file's range.
func (f *File) count(ctx context.Context) (model.StateCounts, error) {
	c, err := f.countRange(ctx)
	if err != nil {
		return nil, err
	}
	c.Add(model.StateNotInDump, f.maxMapnr-(f.end-f.start))
	return c, nil
}

// countRange counts the frames of this file's range [start, end) by state.
func (f *File) countRange(ctx context.Context) (model.StateCounts, error) {
	c := model.StateCounts{}
	exclState, _ := f.absentExcludedState()
	err := f.bm.scan(ctx, f.start, f.end, func(s stretch) bool {
		// The pfns of this file that the stretch holds.
		lo, hi := max(f.start, uint64(s.off)*8), min(f.end, uint64(s.off+s.n)*8)
		if lo >= hi {
			return true
		}
		if !s.ok {
			c.Add(model.StateUnreadable, hi-lo)
			return true
		}
		in1, both := f.bm.countStretch(s, lo, hi)
		c.Add(model.StatePresent, both)
		c.Add(exclState, in1-both)
		c.Add(model.StateNotInDump, (hi-lo)-in1)
		return true
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// countBits counts, over bits [lo, hi) of two bitmaps of equal length, the
// bits set in b1 and the bits set in both.
func countBits(b1, b2 []byte, lo, hi uint64) (in1, both uint64) {
	for i := lo; i < hi; {
		k := i / 64 * 8 // the word holding bit i
		mask := ^uint64(0) << (i % 64)
		next := i - i%64 + 64
		if next > hi {
			mask &= 1<<(hi%64) - 1
			next = hi
		}
		var w1, w2 uint64
		if int(k)+8 <= len(b1) {
			w1, w2 = binary.LittleEndian.Uint64(b1[k:]), binary.LittleEndian.Uint64(b2[k:])
		} else {
			w1, w2 = word(b1, i), word(b2, i)
		}
		in1 += uint64(bits.OnesCount64(w1 & mask))
		both += uint64(bits.OnesCount64(w1 & w2 & mask))
		i = next
		// Whole words, eight bytes at a time, without the masks.
		if i%64 == 0 {
			end := min(hi/64*8, uint64(len(b1))/8*8)
			for k = i / 8; k+8 <= end; k += 8 {
				w1 = binary.LittleEndian.Uint64(b1[k:])
				w2 = binary.LittleEndian.Uint64(b2[k:])
				in1 += uint64(bits.OnesCount64(w1))
				both += uint64(bits.OnesCount64(w1 & w2))
			}
			i = max(i, k*8)
		}
	}
	return in1, both
}

// countStretch counts, over pfns [lo, hi) of a readable stretch, the bits
// set in bitmap 1 and those set in both, and extends the rank prefix sums
// with the stretch's blocks that come next, in the same pass: a count then
// leaves the rank index built without reading bitmap 2 a second time.
// Blocks whose bits all lie in [lo, hi) (all of them but the edges of a
// split part) are counted a word at a time without masks.
func (bm *bitmaps) countStretch(s stretch, lo, hi uint64) (in1, both uint64) {
	base := uint64(s.off) * 8
	var pops [scanChunk/bitmapBlock + 1]uint64 // set bits of bitmap 2 per block
	var in [scanChunk/bitmapBlock + 1]bool     // bitmap 2 within bitmap 1, per block
	nb := 0
	for k := int64(0); k < int64(len(s.b2)); k += bitmapBlock {
		end := min(k+bitmapBlock, int64(len(s.b2)))
		b1, b2 := s.b1[k:end], s.b2[k:end]
		from, to := base+uint64(k)*8, base+uint64(end)*8
		if lo <= from && to <= hi && len(b1)%8 == 0 {
			a, b, p2 := countWords(b1, b2)
			// countWords counts b2 on its own only when it strays.
			in1, both, pops[nb], in[nb] = in1+a, both+b, p2, p2 == b
		} else {
			if a, b := max(lo, from), min(hi, to); a < b {
				x, y := countBits(s.b1, s.b2, a-base, b-base)
				in1, both = in1+x, both+y
			}
			pops[nb], in[nb] = uint64(popcount(b2)), bm.inside(b1, b2)
		}
		nb++
	}
	bm.rankMu.Lock()
	defer bm.rankMu.Unlock()
	bm.appendCum(s.off, int64(len(s.b2)), func(k int64) (uint64, bool) { return pops[k/bitmapBlock], in[k/bitmapBlock] })
	return in1, both
}

// countWords counts the bits set in b1, in both b1 and b2, and in b2, over
// two bitmaps of equal length in whole 64-bit words. Bitmap 2 is normally
// a subset of bitmap 1, so its own count is the common one; only when some
// word of b2 has bits outside b1 is b2 counted again on its own.
func countWords(b1, b2 []byte) (in1, both, in2 uint64) {
	all2 := b2[:len(b1)]
	b2 = all2
	var odd uint64 // bits of b2 outside b1, OR-ed together
	for len(b1) >= 32 && len(b2) >= 32 {
		w0, w1, w2, w3 := le64(b1[0:]), le64(b1[8:]), le64(b1[16:]), le64(b1[24:])
		v0, v1, v2, v3 := le64(b2[0:]), le64(b2[8:]), le64(b2[16:]), le64(b2[24:])
		in1 += uint64(bits.OnesCount64(w0) + bits.OnesCount64(w1) + bits.OnesCount64(w2) + bits.OnesCount64(w3))
		both += uint64(bits.OnesCount64(w0&v0) + bits.OnesCount64(w1&v1) + bits.OnesCount64(w2&v2) + bits.OnesCount64(w3&v3))
		odd |= v0&^w0 | v1&^w1 | v2&^w2 | v3&^w3
		b1, b2 = b1[32:], b2[32:]
	}
	for len(b1) >= 8 && len(b2) >= 8 {
		w, v := le64(b1), le64(b2)
		in1 += uint64(bits.OnesCount64(w))
		both += uint64(bits.OnesCount64(w & v))
		odd |= v &^ w
		b1, b2 = b1[8:], b2[8:]
	}
	if odd == 0 {
		return in1, both, both
	}
	return in1, both, uint64(popcount(all2))
}

// le64 is the little-endian word at the start of b.
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// extendCum adds the popcounts of the blocks of bitmap 2 in b2 (which
// starts at byte off, a block boundary) to the prefix sums, for the blocks
// that come next and that b2 holds whole, with whether each lies within
// b1, the same stretch of bitmap 1 (nil: not read); bm.rankMu is held.
func (bm *bitmaps) extendCum(off int64, b1, b2 []byte) {
	bm.appendCum(off, int64(len(b2)), func(k int64) (uint64, bool) {
		end := min(k+bitmapBlock, int64(len(b2)))
		return uint64(popcount(b2[k:end])), b1 != nil && bm.inside(b1[k:end], b2[k:end])
	})
}

// appendCum adds to the prefix sums the blocks of a piece of bitmap 2 (n
// bytes from byte off, a block boundary) that come next and that the
// piece holds whole; pop(k) is the number of bits set in the block at byte
// k of the piece and whether it lies within bitmap 1, asked only for the
// blocks added. bm.rankMu is held.
func (bm *bitmaps) appendCum(off, n int64, pop func(k int64) (uint64, bool)) {
	if len(bm.cum) == 0 {
		bm.cum = append(bm.cum, 0)
	}
	for k := int64(0); k < n; k += bitmapBlock {
		blk := (off + k) / bitmapBlock
		whole := k+bitmapBlock <= n || off+n == bm.size
		if int64(len(bm.cum)) != blk+1 || !whole {
			continue
		}
		bm.push(pop(k))
	}
}

// extendRank extends the rank prefix sums through block blk, reading bitmap 2
// in stretches of scanChunk bytes; bm.rankMu is held. A stretch it cannot
// read whole is read block by block through the cache, and the first
// block that cannot be read stops the index there (cumErr).
func (bm *bitmaps) extendRank(blk int64) {
	var bufs *[2][]byte
	defer func() {
		if bufs != nil {
			scanBuffers.Put(bufs)
		}
	}()
	// Through block blk itself, which the pfn asked about lies in: rank
	// reads it anyway, and so the index says whether it lies within
	// bitmap 1 before the next page of that block is looked up.
	target := min(blk+1, bm.blocks)
	for int64(len(bm.cum)) <= target && bm.cumErr == nil {
		if len(bm.cum) == 0 {
			bm.cum = append(bm.cum, 0)
			continue
		}
		next := int64(len(bm.cum)) - 1 // the first block not counted yet
		off := next * bitmapBlock
		n := min(scanChunk, bm.size-off, (target-next)*bitmapBlock)
		if n > bitmapBlock {
			if bufs == nil {
				bufs = getScanBuffers(bm.size)
			}
			if b2 := bufs[1][:n]; bm.src.ReadAt(b2, bm.off[1]+off, "bitmap 2") == nil {
				// Bitmap 1 beside it tells which blocks lie within it:
				// a random page read then costs one bitmap block, not
				// two (state), for one more sequential read here.
				b1 := b2 // one bitmap serving as both
				if !bm.single {
					if b1 = bufs[0][:n]; bm.src.ReadAt(b1, bm.off[0]+off, "bitmap 1") != nil {
						b1 = nil
					}
				}
				bm.extendCum(off, b1, b2)
				continue
			}
		}
		d := bm.block(1, next)
		if d.err != nil {
			bm.cumErr = d.err
			break
		}
		d1 := bm.block(0, next) // most often cached: state read it
		bm.push(uint64(d.sub[stridesPerBlk]), d1.err == nil && bm.inside(d1.b, d.b))
	}
}
