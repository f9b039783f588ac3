package kdump

import (
	"bytes"
	"context"
	"math/bits"
	"math/rand/v2"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
)

// naiveCounts counts bit by bit over pfns [lo, hi) of b1 and b2.
func naiveCounts(b1, b2 []byte, lo, hi uint64) (in1, both, in2 uint64) {
	for i := lo; i < hi; i++ {
		x, y := b1[i/8]>>(i%8)&1, b2[i/8]>>(i%8)&1
		in1 += uint64(x)
		both += uint64(x & y)
		in2 += uint64(y)
	}
	return in1, both, in2
}

// randomBitmaps returns bitmap 1 and bitmap 2 of n bytes; bitmap 2 is a
// subset of bitmap 1 unless extra, which adds bits of bitmap 2 alone.
func randomBitmaps(r *rand.Rand, n int, extra bool) ([]byte, []byte) {
	b1, b2 := make([]byte, n), make([]byte, n)
	for i := range b1 {
		b1[i] = byte(r.Uint32())
		b2[i] = b1[i] & byte(r.Uint32())
		if extra && r.IntN(50) == 0 {
			b2[i] |= 1 << r.IntN(8)
		}
	}
	return b1, b2
}

// TestCountWords checks the word-at-a-time count against a bit-by-bit
// one, with bitmap 2 inside bitmap 1 and with bits of its own.
func TestCountWords(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 8, 24, 32, 40, 4096, 4096 + 56} {
		for _, extra := range []bool{false, true} {
			b1, b2 := randomBitmaps(r, n, extra)
			a, b, c := countWords(b1, b2)
			x, y, z := naiveCounts(b1, b2, 0, uint64(8*n))
			if a != x || b != y || c != z {
				t.Errorf("%d bytes, extra %v: countWords %d %d %d, bit by bit %d %d %d", n, extra, a, b, c, x, y, z)
			}
		}
	}
}

// TestCountStretch checks that one counting pass over a stretch gives the
// counts of [lo, hi) (block-aligned or not, as at the edges of a split
// part) and leaves the rank prefix sums of bitmap 2's whole blocks.
func TestCountStretch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const size = 3*bitmapBlock + 100 // the last block is short
	b1, b2 := randomBitmaps(r, size, true)
	for _, c := range []struct{ lo, hi uint64 }{
		{0, 8 * size},
		{13, 8*size - 5},
		{8*bitmapBlock + 3, 8*2*bitmapBlock + 77},
		{8 * bitmapBlock, 8 * 2 * bitmapBlock},
	} {
		bm := &bitmaps{size: size}
		in1, both := bm.countStretch(stretch{off: 0, n: size, b1: b1, b2: b2, ok: true}, c.lo, c.hi)
		x, y, _ := naiveCounts(b1, b2, c.lo, c.hi)
		if in1 != x || both != y {
			t.Errorf("[%d, %d): countStretch %d %d, bit by bit %d %d", c.lo, c.hi, in1, both, x, y)
		}
		if len(bm.cum) != 5 {
			t.Fatalf("[%d, %d): %d prefix sums, want 5 (4 blocks)", c.lo, c.hi, len(bm.cum))
		}
		for k := range 4 {
			var want uint64
			for _, v := range b2[:min((k+1)*bitmapBlock, size)] {
				want += uint64(bits.OnesCount8(v))
			}
			if bm.cum[k+1] != want {
				t.Errorf("[%d, %d): cum[%d] = %d, want %d", c.lo, c.hi, k+1, bm.cum[k+1], want)
			}
		}
	}
}

// TestStateWithin checks that the state of every frame is the same
// whichever pass built the rank index (the rank scan, a count, a walk
// block by block, or none), when bitmap 2 lies within bitmap 1 and when
// some blocks set bits of their own: the lookup of a stored frame skips
// bitmap 1 only where the pass saw the block inside it.
func TestStateWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const size = 5*bitmapBlock + 300
	for _, extra := range []bool{false, true} {
		b1, b2 := randomBitmaps(r, size, extra)
		file := append(append([]byte{}, b1...), b2...)
		src := reader.Source{Name: "bitmaps", R: bytes.NewReader(file), Size: int64(len(file))}
		want := func(pfn uint64) model.PageState {
			switch {
			case b1[pfn/8]>>(pfn%8)&1 == 0:
				return model.StateNotInDump
			case b2[pfn/8]>>(pfn%8)&1 == 0:
				return model.StateExcluded
			}
			return model.StatePresent
		}
		passes := map[string]func(bm *bitmaps){
			"none": func(*bitmaps) {},
			"rank": func(bm *bitmaps) { bm.rank(8*size - 1) },
			"count": func(bm *bitmaps) {
				bm.scan(context.Background(), 0, 8*size, func(s stretch) bool {
					bm.countStretch(s, 0, 8*size)
					return true
				})
			},
			"blocks": func(bm *bitmaps) {
				for blk := int64(0); blk < bm.blocks; blk++ {
					bm.noteBlock(blk, bm.block(0, blk), bm.block(1, blk))
				}
			},
		}
		for name, pass := range passes {
			bm := newBitmaps(src, 0, size, size, size, false, 8*size)
			pass(bm)
			bm.rank(8*size - 1) // publishes the index
			inside := 0
			for _, in := range bm.ranked.Load().within {
				if in {
					inside++
				}
			}
			if name != "none" && !extra && inside != int(bm.blocks) {
				t.Errorf("%s: %d of %d blocks seen within bitmap 1, want all", name, inside, bm.blocks)
			}
			if extra && inside == int(bm.blocks) {
				t.Errorf("%s: every block seen within bitmap 1, though bitmap 2 strays", name)
			}
			for pfn := uint64(0); pfn < 8*size; pfn++ {
				if got, err := bm.state(pfn); err != nil || got != want(pfn) {
					t.Fatalf("%s, extra %v: state(%#x) = %v, %v; want %v", name, extra, pfn, got, err, want(pfn))
				}
			}
		}
	}
}
