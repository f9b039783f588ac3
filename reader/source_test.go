package reader

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"dumpscope/model"
)

func TestSourceBounds(t *testing.T) {
	s := Source{Name: "f", R: bytes.NewReader(make([]byte, 100)), Size: 100}
	if err := s.ReadAt(make([]byte, 10), 95, "thing"); !errors.Is(err, model.ErrTruncated) {
		t.Fatalf("read past the end: %v", err)
	}
	var fe *model.FormatError
	if err := s.ReadAt(make([]byte, 1), -1, "thing"); !errors.As(err, &fe) || fe.Struct != "thing" {
		t.Fatalf("negative offset: %v", err)
	}
	if _, err := s.Bytes(0, 1<<40, 1<<20, "huge"); !errors.Is(err, model.ErrCorrupt) {
		t.Fatalf("a size over the limit must fail before allocating: %v", err)
	}
	if _, err := s.Bytes(1<<62, 1<<62, 1<<63-1, "overflow"); !errors.Is(err, model.ErrTruncated) {
		t.Fatalf("overflowing range: %v", err)
	}
	if b, err := s.Bytes(90, 10, 100, "tail"); err != nil || len(b) != 10 {
		t.Fatalf("tail: %v", err)
	}
	if v, ok := AddOK(1<<61, 1<<61); !ok || v != 1<<62 {
		t.Fatal("AddOK")
	}
	if _, ok := AddOK(1<<62, 1<<62); ok {
		t.Fatal("AddOK overflow")
	}
	if _, ok := MulOK(1<<32, 1<<32); ok {
		t.Fatal("MulOK overflow")
	}
}

func TestLRU(t *testing.T) {
	c := NewLRU[int, string](2)
	c.Put(1, "a")
	c.Put(2, "b")
	c.Get(1) // 1 is now the most recent
	c.Put(3, "c")
	if _, ok := c.Get(2); ok {
		t.Fatal("the least recently used entry survived")
	}
	if v, ok := c.Get(1); !ok || v != "a" || c.Len() != 2 {
		t.Fatal("LRU lost the recent entry")
	}
}

func TestPageCache(t *testing.T) {
	c := NewPageCache(4096)
	page := bytes.Repeat([]byte{7}, 4096)
	c.Put(5, model.PageInfo{PFN: 5, State: model.StatePresent}, page)
	page[0] = 9 // the cache keeps a copy
	dst := make([]byte, 4096)
	if pi, ok := c.Get(5, dst); !ok || pi.PFN != 5 || dst[0] != 7 {
		t.Fatal("cached page")
	}
	// Filling every slot replaces the oldest page.
	for pfn := model.PFN(100); pfn < 100+2*pageCacheBytes/4096; pfn += 2 {
		c.Put(pfn, model.PageInfo{PFN: pfn}, page)
	}
	if _, ok := c.Get(5, dst); ok {
		t.Fatal("the oldest page was not replaced")
	}
}

// TestPageCacheHeldCounts: the per-bucket counts that let Get miss without
// the lock follow the pages held, through replacements, so that every
// page held is found (frames that share a bucket included) and no
// replaced one is.
func TestPageCacheHeldCounts(t *testing.T) {
	c := NewPageCache(4096)
	page := make([]byte, 4096)
	dst := make([]byte, 4096)
	slots := pageCacheBytes / 4096
	// Frames pcBuckets apart share a bucket; put three times as many
	// frames as there are slots, in an order that is no run.
	var put []model.PFN
	for i := 0; i < 3*slots; i++ {
		pfn := model.PFN(i%3*pcBuckets + i/3*7)
		c.Put(pfn, model.PageInfo{PFN: pfn}, page)
		put = append(put, pfn)
	}
	for i, pfn := range put {
		_, ok := c.Get(pfn, dst)
		if held := i >= len(put)-slots; ok != held {
			t.Fatalf("pfn %d (put %d of %d): found %v, held %v", pfn, i, len(put), ok, held)
		}
	}
	total := 0
	for i := range c.held.Load() {
		total += int(c.held.Load()[i].Load())
	}
	if total != slots {
		t.Errorf("the buckets count %d pages, the cache holds %d", total, slots)
	}
}

// TestPageCacheSkipsStreams: a long run of consecutive frames, read once
// each by a scan, keeps its first frames only and evicts nothing more.
func TestPageCacheSkipsStreams(t *testing.T) {
	c := NewPageCache(4096)
	page := make([]byte, 4096)
	dst := make([]byte, 4096)
	c.Put(7, model.PageInfo{PFN: 7}, page)
	for pfn := model.PFN(1000); pfn < 1000+4*pageCacheBytes/4096; pfn++ {
		c.Put(pfn, model.PageInfo{PFN: pfn}, page)
	}
	if _, ok := c.Get(7, dst); !ok {
		t.Error("a scan evicted a page read before it")
	}
	if _, ok := c.Get(1000+maxStreak-1, dst); !ok {
		t.Error("the start of a run is not cached")
	}
	if _, ok := c.Get(1000+maxStreak+5, dst); ok {
		t.Error("a frame deep in a run was cached")
	}
}

// TestPageCacheSkipsInterleavedStreams: two workers reading chunks of one
// range in turn interleave two runs; each is still seen as a run.
func TestPageCacheSkipsInterleavedStreams(t *testing.T) {
	c := NewPageCache(4096)
	page := make([]byte, 4096)
	dst := make([]byte, 4096)
	const chunk = 256
	for i := model.PFN(0); i < chunk; i++ {
		c.Put(i, model.PageInfo{PFN: i}, page)               // worker 1: chunk 0
		c.Put(chunk+i, model.PageInfo{PFN: chunk + i}, page) // worker 2: chunk 1
	}
	for _, pfn := range []model.PFN{0, maxStreak - 1, chunk, chunk + maxStreak - 1} {
		if _, ok := c.Get(pfn, dst); !ok {
			t.Errorf("pfn %d, the start of a run, is not cached", pfn)
		}
	}
	for _, pfn := range []model.PFN{maxStreak + 5, chunk + maxStreak + 5, chunk - 1, 2*chunk - 1} {
		if _, ok := c.Get(pfn, dst); ok {
			t.Errorf("pfn %d, deep in an interleaved run, was cached", pfn)
		}
	}
	// Random frames are all cached.
	for _, pfn := range []model.PFN{9000, 7000, 9500, 12, 8000} {
		c.Put(pfn, model.PageInfo{PFN: pfn}, page)
	}
	for _, pfn := range []model.PFN{9000, 7000, 9500, 8000} {
		if _, ok := c.Get(pfn, dst); !ok {
			t.Errorf("random pfn %d is not cached", pfn)
		}
	}
}

// TestLRUMostRecent: the entry Get finds without the lock is the one at
// the front, with the value last Put.
func TestLRUMostRecent(t *testing.T) {
	c := NewLRU[int, string](2)
	c.Put(1, "a")
	c.Put(1, "a2") // replaced while the most recent
	if v, _ := c.Get(1); v != "a2" {
		t.Fatalf("Get(1) = %q after Put(1, a2)", v)
	}
	c.Put(2, "b")
	c.Put(3, "c") // evicts 1
	if _, ok := c.Get(1); ok {
		t.Fatal("an evicted entry was found")
	}
	c.Get(2) // 2 is the most recent, 3 the oldest
	c.Put(4, "d")
	if _, ok := c.Get(3); ok {
		t.Fatal("the oldest entry survived: Get of the most recent entry must move it to the front")
	}
}

// TestLRUConcurrent runs Get and Put from several goroutines (go test
// -race checks the lock-free path).
func TestLRUConcurrent(t *testing.T) {
	c := NewLRU[int, int](4)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 2000; i++ {
				k := (i / 10) % 7
				if v, ok := c.Get(k); ok && v != 10*k {
					t.Errorf("Get(%d) = %d", k, v)
				}
				c.Put(k, 10*k)
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// failingReader fails every read after n bytes with err.
type failingReader struct {
	n   int64
	err error
}

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.n {
		return 0, r.err
	}
	return copy(p, make([]byte, r.n-off)), r.err
}

// TestReadAtSaysWhyAReadFailed: an I/O error (a failed request, a bad
// disk) is in the message and the chain; only the end of the file reads
// as truncation.
func TestReadAtSaysWhyAReadFailed(t *testing.T) {
	eio := errors.New("http://host/vmcore: read bytes 0x0-0xfff: HTTP 403 Forbidden")
	s := Source{Name: "vmcore", R: failingReader{16, eio}, Size: 4096}
	err := s.ReadAt(make([]byte, 64), 0, "PT_LOAD data")
	if !errors.Is(err, eio) || errors.Is(err, model.ErrTruncated) ||
		err.Error() != "vmcore: read 16 of 64 bytes: http://host/vmcore: read bytes 0x0-0xfff: HTTP 403 Forbidden, PT_LOAD data at offset 0x0" {
		t.Errorf("I/O error: %v", err)
	}
	short := Source{Name: "vmcore", R: failingReader{16, io.EOF}, Size: 4096}
	if err := short.ReadAt(make([]byte, 64), 0, "PT_LOAD data"); !errors.Is(err, model.ErrTruncated) ||
		err.Error() != "vmcore: read 16 of 64 bytes, PT_LOAD data at offset 0x0" {
		t.Errorf("end of file: %v", err)
	}
}
