package kdump

import (
	"math/bits"
	"math/rand/v2"
	"testing"
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
