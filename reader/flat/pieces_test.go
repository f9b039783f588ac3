package flat

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"dumpscope/reader"
)

// TestOverlayLaterWins replays random, overlapping records over a byte
// array, as makedumpfile -R does, and checks that overlay maps every
// logical byte to the stream byte of the latest record that wrote it.
func TestOverlayLaterWins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		const size = 200
		owner := make([]int64, size) // stream position of each logical byte, -1: hole
		for i := range owner {
			owner[i] = -1
		}
		var base, later []piece
		pos := int64(0)
		nBase := rng.IntN(4)
		for i := 0; i < 1+rng.IntN(12); i++ {
			start := int64(rng.IntN(size - 1))
			end := start + 1 + int64(rng.IntN(int(size-start)))
			p := piece{start, end, pos}
			pos += end - start
			for b := start; b < end; b++ {
				owner[b] = p.pos + (b - start)
			}
			later = append(later, p)
		}
		// The first records become the base: merged already, as a lazy
		// scan leaves them.
		if nBase > len(later) {
			nBase = len(later)
		}
		base = overlay(nil, later[:nBase], nil)
		got := overlay(base, later[nBase:], nil)
		for i := 1; i < len(got); i++ {
			if got[i].start < got[i-1].end {
				t.Fatalf("round %d: pieces overlap: %v", round, got)
			}
		}
		mapped := make([]int64, size)
		for i := range mapped {
			mapped[i] = -1
		}
		for _, p := range got {
			if p.start >= p.end {
				t.Fatalf("round %d: empty piece %v", round, p)
			}
			for b := p.start; b < p.end; b++ {
				mapped[b] = p.pos + (b - p.start)
			}
		}
		for b := range owner {
			if owner[b] != mapped[b] {
				t.Fatalf("round %d: logical byte %d maps to stream %d, want %d (records %v)", round, b, mapped[b], owner[b], later)
			}
		}
	}
}

// minusFStream is a stream shaped as makedumpfile -F writes one: n
// records alternating between a small record at a low offset (page
// descriptors) and a larger one at a high offset (page data).
func minusFStream(n int) []byte {
	var b bytes.Buffer
	hdr := make([]byte, HeaderSize)
	copy(hdr, Signature)
	binary.BigEndian.PutUint64(hdr[16:], typeFlat)
	binary.BigEndian.PutUint64(hdr[24:], versionOne)
	b.Write(hdr)
	record := func(off, size int64) {
		var h [recordHdr]byte
		binary.BigEndian.PutUint64(h[0:], uint64(off))
		binary.BigEndian.PutUint64(h[8:], uint64(size))
		b.Write(h[:])
		b.Write(make([]byte, max(size, 0)))
	}
	const descSize, dataSize = 24, 100
	dataBase := int64(n) * descSize
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			record(int64(i/2)*descSize, descSize)
		} else {
			record(dataBase+int64(i/2)*dataSize, dataSize)
		}
	}
	record(-1, -1)
	return b.Bytes()
}

// TestIndexWorkIsNLogN indexes -F shaped streams of growing size and
// checks that the pieces moved and compared grow as n log n, not n²
// (counted, not timed). It also reads the logical file before the index
// in growing steps, the lazy path.
func TestIndexWorkIsNLogN(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		for _, n := range []int{1 << 10, 1 << 12, 1 << 14} {
			s := minusFStream(n)
			f, err := NewFile(reader.Source{Name: "stream", R: bytes.NewReader(s), Size: int64(len(s))})
			if err != nil {
				t.Fatal(err)
			}
			if lazy {
				// A reader walking the page data from the start before the
				// stream is indexed.
				buf := make([]byte, 100)
				for off := int64(n) * 24; ; off += 100 * 97 {
					if _, err := f.ReadAt(buf, off); err != nil {
						break
					}
				}
			}
			if err := f.Index(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if recs, end := f.Records(); recs != int64(n) || !end {
				t.Fatalf("n=%d: %d records, end marker %v", n, recs, end)
			}
			bound := 8 * float64(n) * math.Log2(float64(n))
			if float64(f.work) > bound {
				t.Errorf("lazy=%v n=%d: %d pieces moved and compared, over 8 n log n = %.0f", lazy, n, f.work, bound)
			}
			// The descriptor records and the data records are each
			// contiguous in the logical file but not in the stream: one
			// piece per record.
			if len(f.pieces) != n {
				t.Errorf("lazy=%v n=%d: %d pieces", lazy, n, len(f.pieces))
			}
			t.Logf("lazy=%v n=%d: work %d (%.1f n log n)", lazy, n, f.work, float64(f.work)/(float64(n)*math.Log2(float64(n))))
		}
	}
}

// BenchmarkIndexMinusF indexes a -F shaped stream of 16384 records.
func BenchmarkIndexMinusF(b *testing.B) {
	s := minusFStream(1 << 14)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		f, err := NewFile(reader.Source{Name: "stream", R: bytes.NewReader(s), Size: int64(len(s))})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Index(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
