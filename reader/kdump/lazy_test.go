package kdump_test

import (
	"bytes"
	"sync"
	"testing"

	"dumpscope/model"
	"dumpscope/open"
	"dumpscope/reader"
	"dumpscope/reader/dumptest"
)

// regionCounter counts bytes read inside and outside one region.
type regionCounter struct {
	r          *bytes.Reader
	lo, hi     int64
	mu         sync.Mutex
	in, out    int64
	maxOutside int64
}

func (c *regionCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := int64(0); i < int64(n); {
		pos := off + i
		switch {
		case pos < c.lo:
			k := min(int64(n)-i, c.lo-pos)
			c.out += k
			c.maxOutside = max(c.maxOutside, pos+k)
			i += k
		case pos < c.hi:
			k := min(int64(n)-i, c.hi-pos)
			c.in += k
			i += k
		default:
			c.out += int64(n) - i
			c.maxOutside = max(c.maxOutside, off+int64(n))
			i = int64(n)
		}
	}
	return n, err
}

// bigDump is a writer-made dump of a 1 TiB address space (2^28 frames of 4
// KiB, 32 MiB bitmaps) holding a few pages at both ends.
func bigDump(frames uint64) (*dumptest.Kdump, []byte, dumptest.KdumpLayout) {
	pages := map[uint64][]byte{}
	for _, p := range []uint64{0, 1, 2, frames / 2, frames - 2, frames - 1} {
		pages[p] = dumptest.Pattern(p, 4096)
	}
	k := &dumptest.Kdump{Version: 6, Codec: "zlib", MaxMapnr: frames, Pages: pages,
		Utsname: [6]string{"Linux", "big", "6.1.0", "#1", "x86_64", ""}, NrCPUs: 64, DumpLevel: 31,
		RAM: [][2]uint64{{0, 1 << 20}}, VMCoreInfo: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n")}
	b, lay := k.Bytes()
	return k, b, lay
}

// TestOpenIsLazyAtOneTiB: opening reads the headers only, and info reads a
// bounded number of bytes outside the bitmaps, the same for a 16 GiB and a
// 1 TiB address space.
func TestOpenIsLazyAtOneTiB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 64 MiB dump")
	}
	var outside []int64
	for _, frames := range []uint64{1 << 22, 1 << 28} {
		k, b, lay := bigDump(frames)
		c := &regionCounter{r: bytes.NewReader(b), lo: lay.Bitmap1Off, hi: lay.DescOff}
		d, err := open.Sources(reader.Source{Name: "big", R: c, Size: int64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		if c.in != 0 {
			t.Fatalf("opening read %d bytes of bitmaps", c.in)
		}
		opened := c.out
		in := dumptest.InfoWithCounts(t, d)
		if uint64(in.MaxPFN) != frames || in.Pages[model.StatePresent] != 6 || in.Pages[model.StateExcluded] != 1<<20-3 {
			t.Fatalf("info: %+v", in.Pages)
		}
		if c.maxOutside > lay.Bitmap1Off {
			t.Fatalf("info read past the bitmaps (up to %#x)", c.maxOutside)
		}
		// A page at the far end is found by rank through the bitmaps.
		buf := make([]byte, 4096)
		if _, err := d.ReadPage(model.PFN(frames-1), buf, reader.ReadOptions{}); err != nil || !bytes.Equal(buf, k.Pages[frames-1]) {
			t.Fatalf("last page: %v", err)
		}
		t.Logf("%d frames: open read %d bytes, info %d bytes outside the bitmaps and %d of bitmaps (%d MiB each)",
			frames, opened, c.out, c.in, lay.BitmapSize>>20)
		outside = append(outside, c.out)
	}
	if outside[0] != outside[1] {
		t.Fatalf("bytes read outside the bitmaps grow with the address space: %v", outside)
	}
}

// BenchmarkOpenOneTiB measures opening a dump of a 1 TiB address space
// (headers only).
func BenchmarkOpenOneTiB(b *testing.B) {
	_, data, _ := bigDump(1 << 28)
	src := reader.Source{Name: "big", R: bytes.NewReader(data), Size: int64(len(data))}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := open.Sources(src); err != nil {
			b.Fatal(err)
		}
	}
}
