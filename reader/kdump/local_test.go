package kdump_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"dumpscope/model"
	"dumpscope/reader"
	"dumpscope/reader/kdump"
)

// TestLocalReadsMatch: a file read through reader.ReadAhead, as open gives
// local files, walks its descriptors through windows and reads page images
// in pieces of its own, kept from one ReadRange call to the next. What
// Check and ReadRange report must not differ from what the block cache and
// the exact reads other readers get give, on whole and damaged files, in
// ranges of every alignment (some start inside what the last call read,
// some before it).
func TestLocalReadsMatch(t *testing.T) {
	for _, c := range []string{"zlib", "lzo", "snappy", "zstd", "none"} {
		// More than one window of descriptors (2731 of them) and of images.
		k := baseDump(6, c, 3200)
		b, lay := k.Bytes()
		desc := func(bb []byte, i int) []byte { return bb[lay.DescOff+int64(i)*24:] }
		variants := map[string][]byte{"whole": b}
		for name, cut := range map[string]int64{
			"cut in the descriptors":        lay.DescOff + 24*2900 + 7,
			"cut at a window's end":         lay.DescOff + 24*2731,
			"cut early in the page data":    lay.DataOff + 70000,
			"cut in the middle of the data": lay.DataOff + (lay.EraseOff-lay.DataOff)/2,
		} {
			variants[name] = bytes.Clone(b[:cut])
		}
		bad := bytes.Clone(b)
		binary.LittleEndian.PutUint64(desc(bad, 2730), uint64(len(b))+4096) // beyond the end
		binary.LittleEndian.PutUint32(desc(bad, 2731)[8:], 5000)            // larger than a page
		binary.LittleEndian.PutUint64(desc(bad, 3100), 0)                   // lost
		variants["bad descriptors"] = bad
		for name, v := range variants {
			t.Run(c+"/"+name, func(t *testing.T) {
				plain := readOutcomes(t, reader.Source{Name: "k", R: bytes.NewReader(v), Size: int64(len(v))})
				local := readOutcomes(t, reader.Source{Name: "k", R: reader.NewReadAhead(bytes.NewReader(v), reader.DefaultReadAhead), Size: int64(len(v))})
				if len(plain) != len(local) {
					t.Fatalf("%d outcomes through the block cache, %d through windows", len(plain), len(local))
				}
				for i := range plain {
					if plain[i] != local[i] {
						t.Fatalf("outcome %d differs:\nblock cache: %s\nwindows:     %s", i, plain[i], local[i])
					}
				}
			})
		}
	}
}

// readOutcomes opens src and lists what Check reports and what ReadRange
// gives for every frame, in ranges of several lengths.
func readOutcomes(t *testing.T, src reader.Source) []string {
	t.Helper()
	f, err := kdump.NewFile(src)
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	ctx := context.Background()
	var out []string
	if err := f.Check(ctx, func(p model.Problem) { out = append(out, "check: "+p.String()) }); err != nil {
		t.Fatal(err)
	}
	maxPFN := uint64(f.Info().MaxPFN)
	for _, step := range []uint64{256, 97} {
		for start := uint64(0); start < maxPFN; start += step {
			err := f.ReadRange(ctx, model.PFN(start), min(step, maxPFN-start), reader.ReadOptions{Strict: true},
				func(pi model.PageInfo, page []byte, err error) bool {
					out = append(out, fmt.Sprintf("%d: %+v %v %x", step, pi, err, sha256.Sum256(page)))
					return true
				})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Backwards, so that every call starts before what the last one read.
	for start := int64(maxPFN) - 300; start >= 0; start -= 300 {
		f.ReadRange(ctx, model.PFN(start), 300, reader.ReadOptions{Strict: true}, func(pi model.PageInfo, page []byte, err error) bool {
			out = append(out, fmt.Sprintf("back: %+v %v %x", pi, err, sha256.Sum256(page)))
			return true
		})
	}
	return out
}
