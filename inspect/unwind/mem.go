package unwind

import (
	"encoding/binary"
)

// pageCache keeps the last few pages an unwinder read: stacks and the
// code around return addresses are read a word or a few bytes at a time.
// Dump memory does not change, so entries never go stale; the cache only
// bounds what it holds.
type pageCache struct {
	mem   Memory
	pages [cachePages]cachedPage
	next  int
	// Pages counts the pages read from mem (for benchmarks).
	Pages int
}

const (
	cachePages = 32
	pageSize   = 4096
)

type cachedPage struct {
	addr uint64 // page address; valid when data != nil
	data []byte
	err  error
}

// read fills p from va, through whole cached pages when they can be read,
// else by asking mem for exactly p.
func (c *pageCache) read(va uint64, p []byte) error {
	for len(p) > 0 {
		base := va &^ (pageSize - 1)
		pg := c.page(base)
		if pg.err != nil {
			// The page as a whole is unreadable; ask for the bytes
			// themselves, which gives the caller the dump's error.
			return c.mem.ReadVirt(va, p)
		}
		n := copy(p, pg.data[va-base:])
		p, va = p[n:], va+uint64(n)
	}
	return nil
}

func (c *pageCache) page(base uint64) *cachedPage {
	for i := range c.pages {
		if pg := &c.pages[i]; (pg.data != nil || pg.err != nil) && pg.addr == base {
			return pg
		}
	}
	pg := &c.pages[c.next]
	c.next = (c.next + 1) % cachePages
	if pg.data == nil {
		pg.data = make([]byte, pageSize)
	}
	pg.addr, pg.err = base, nil
	c.Pages++
	if err := c.mem.ReadVirt(base, pg.data); err != nil {
		pg.err = err
	}
	return pg
}

// word reads a little-endian word of size 4 or 8.
func (c *pageCache) word(va uint64, size int) (uint64, error) {
	var b [8]byte
	if err := c.read(va, b[:size]); err != nil {
		return 0, err
	}
	if size == 4 {
		return uint64(binary.LittleEndian.Uint32(b[:])), nil
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
