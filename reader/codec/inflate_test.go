package codec

import (
	"bytes"
	"compress/zlib"
	"math/rand/v2"
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
