package reader_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"dumpscope/reader"
)

// countingReader counts the reads that reach the file.
type countingReader struct {
	r     *bytes.Reader
	reads atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.r.ReadAt(p, off)
}

// TestReadAheadSameBytes reads a file through ReadAhead in pages in order,
// at random and from four goroutines at once, and checks every byte and
// every error against the file itself.
func TestReadAheadSameBytes(t *testing.T) {
	data := make([]byte, 3<<20+123)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	c := &countingReader{r: bytes.NewReader(data)}
	ra := reader.NewReadAhead(c, 64<<10)
	check := func(n int, off int64) {
		got := make([]byte, n)
		want := make([]byte, n)
		gn, gerr := ra.ReadAt(got, off)
		wn, werr := bytes.NewReader(data).ReadAt(want, off)
		if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], want[:wn]) {
			t.Errorf("ReadAt(%d bytes at %d): %d, %v; want %d, %v", n, off, gn, gerr, wn, werr)
		}
	}
	// In order, page by page, to past the end: one read per window.
	for off := int64(0); off < int64(len(data))+8192; off += 4096 {
		check(4096, off)
	}
	if r := c.reads.Load(); r > int64(len(data))/(64<<10)+8 {
		t.Errorf("%d reads reached the file for %d bytes in order (windows growing to 64 KiB)", r, len(data))
	}
	// At random, and four streams at once.
	for range 2000 {
		check(1+rng.IntN(20000), int64(rng.IntN(len(data)+100)))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for off := int64(w) << 18; off < int64(w+1)<<18; off += 1000 {
				check(1000, off)
			}
		})
	}
	wg.Wait()
	if _, err := ra.ReadAt(make([]byte, 10), int64(len(data))); err != io.EOF {
		t.Errorf("read at the end: %v", err)
	}
}
