package codec

import (
	"bytes"
	"compress/zlib"
	"hash/adler32"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"dumpscope/model"
)

// TestInflateLevels decodes pages that compress/zlib wrote at every level
// (stored blocks, Huffman only, fixed and dynamic codes, several blocks
// per page) and checks them byte for byte; then cuts each stream short and
// checks that every prefix fails.
func TestInflateLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ps := range []int{4096, 16384} {
		d := NewDecoder(ps)
		d.Strict = true
		for i := range 2 * len(pageKinds) {
			page := testPage(i, ps)
			if i >= len(pageKinds) {
				// Mostly text with a few random bytes: long codes.
				for j := range page {
					if rng.IntN(50) == 0 {
						page[j] = byte(rng.Uint32())
					}
				}
			}
			for _, level := range []int{zlib.NoCompression, zlib.HuffmanOnly, zlib.BestSpeed, 5, zlib.BestCompression} {
				var b bytes.Buffer
				w, _ := zlib.NewWriterLevel(&b, level)
				w.Write(page)
				w.Close()
				src := b.Bytes()
				dst := make([]byte, ps)
				if err := d.Decode(model.CodecZlib, src, dst); err != nil || !bytes.Equal(dst, page) {
					t.Fatalf("page size %d, page %d, level %d: %v (equal %v)", ps, i, level, err, bytes.Equal(dst, page))
				}
				for _, cut := range []int{0, 1, 2, 3, len(src) / 2, len(src) - 5, len(src) - 1} {
					if cut >= 0 && cut < len(src) && d.Decode(model.CodecZlib, src[:cut], dst) == nil {
						t.Fatalf("page size %d, page %d, level %d: a stream cut at %d of %d decoded", ps, i, level, cut, len(src))
					}
				}
			}
		}
	}
}

// BenchmarkInflate decodes pages of every kind written as makedumpfile -c
// writes them.
func BenchmarkInflate(b *testing.B) {
	var in [][]byte
	for i := range pageKinds {
		in = append(in, compressZlib(b, testPage(i, 4096)))
	}
	d := NewDecoder(4096)
	dst := make([]byte, 4096)
	b.SetBytes(int64(4096 * len(in)))
	for b.Loop() {
		for _, s := range in {
			if err := d.Decode(model.CodecZlib, s, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestAdler32Sum checks adler32Sum against hash/adler32 on random and
// all-0xff inputs (the largest sums) of every length up to a few pages,
// and across its 1 MiB reduction chunks.
func TestAdler32Sum(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	check := func(what string, b []byte) {
		if got, want := adler32Sum(b), adler32.Checksum(b); got != want {
			t.Fatalf("%s, %d bytes: %#08x, hash/adler32 %#08x", what, len(b), got, want)
		}
	}
	for n := 0; n <= 3*4096; n += 1 + n/16 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		check("random", b)
		check("0xff", bytes.Repeat([]byte{0xff}, n))
	}
	check("0xff", bytes.Repeat([]byte{0xff}, 3<<20+17))
}

// TestHuffmanFill checks the fast tables of random complete codes (and of
// the reused tables between them) against tables built entry by entry:
// every entry whose low n bits are a code's bit-reversed codeword holds
// that code, and the entries of longer codes' first bits hold 0.
func TestHuffmanFill(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var h huffman
	for round := 0; round < 2000; round++ {
		// A random complete code: split leaves of a binary tree up to
		// 15 levels deep, then hand the leaves' depths to random symbols.
		nsym := 2 + r.IntN(285)
		depths := []uint8{1, 1}
		for len(depths) < nsym {
			k := r.IntN(len(depths))
			if depths[k] == 15 {
				continue
			}
			depths[k]++
			depths = append(depths, depths[k])
		}
		lengths := make([]uint8, 286)
		for i, p := range r.Perm(len(lengths))[:len(depths)] {
			lengths[p] = depths[i]
		}
		fastBits := uint(5 + r.IntN(6))
		if !h.init(lengths, fastBits) {
			t.Fatalf("round %d: a complete code was refused", round)
		}
		var want [1 << maxFastBits]uint16
		var next [16]uint16
		var count [16]uint16
		for _, n := range lengths {
			count[n]++
		}
		count[0] = 0
		code := uint16(0)
		for n := 1; n <= 15; n++ {
			code = (code + count[n-1]) << 1
			next[n] = code
		}
		for sym, n := range lengths {
			if n == 0 {
				continue
			}
			c := next[n]
			next[n]++
			if uint(n) > fastBits {
				continue
			}
			for i := int(bits.Reverse16(c) >> (16 - n)); i < 1<<fastBits; i += 1 << n {
				want[i] = uint16(sym)<<4 | uint16(n)
			}
		}
		if got := h.fast[:1<<fastBits]; !slices.Equal(got, want[:1<<fastBits]) {
			t.Fatalf("round %d (%d symbols, %d fast bits): the fast table differs", round, len(depths), fastBits)
		}
	}
}
