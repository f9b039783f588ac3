package reader

import (
	"bytes"
	"errors"
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
