package aix

import "math/bits"

// pageState is what the dump holds for one page of an area.
type pageState uint8

const (
	pagePresent pageState = iota // bit set, bytes in the file
	pageAbsent                   // bit clear: not in memory at dump time
	pageLost                     // bit set but its bytes are beyond the end of the file, or the bit itself is
)

// state returns the state of page i of a, given its bit and the number of
// set bits before it.
func (a *area) state(i uint64, set bool, rank uint64) pageState {
	switch {
	case i >= a.bits:
		return pageLost
	case !set:
		return pageAbsent
	case rank >= a.inFile:
		return pageLost
	}
	return pagePresent
}

// dataAt returns the file offset of the stored bytes of page i, whose
// rank (set bits before it) is rank: every earlier present page stored
// 4096 bytes, except page 0, which stored only the part from the area's
// first byte.
func (a *area) dataAt(rank uint64) int64 {
	off := a.dataOff + int64(rank)*PageSize
	if rank > 0 && a.bit0 {
		off -= int64(a.lead)
	}
	return off
}

// block returns bitmap block k of a (at most 4096 bytes, only the part in
// the file), through the cache.
func (f *File) block(a *area, k uint64) ([]byte, error) {
	off := a.bmOff + int64(k)*blockBytes
	if b, ok := f.blocks.Get(off); ok {
		return b, nil
	}
	n := min(blockBytes, a.bmAvail-int64(k)*blockBytes)
	b, err := f.src.Bytes(off, n, blockBytes, "bitmap")
	if err != nil {
		return nil, err
	}
	f.blocks.Put(off, b)
	return b, nil
}

// bitAt returns bit i of a's bitmap and the number of set bits before it.
// i must be below a.bits.
func (f *File) bitAt(a *area, i uint64) (set bool, rank uint64, err error) {
	if a.bmAvail <= 8 {
		return a.inline>>i&1 != 0, uint64(bits.OnesCount64(a.inline & (1<<i - 1))), nil
	}
	k := i / blockBits
	b, err := f.block(a, k)
	if err != nil {
		return false, 0, err
	}
	j := i % blockBits
	if a.rank != nil {
		rank = a.rank[k]
	}
	rank += popcount(b[:j/8]) + uint64(bits.OnesCount8(b[j/8]&(1<<(j%8)-1)))
	return b[j/8]>>(j%8)&1 != 0, rank, nil
}

// cursor walks the pages of an area in order, keeping the rank as it goes
// and the current bitmap block at hand.
type cursor struct {
	f    *File
	a    *area
	i    uint64 // current page
	rank uint64 // set bits before page i
	blk  []byte
	blkN uint64 // index of blk + 1 (0: none)
}

// cursorAt starts a cursor at page i.
func (f *File) cursorAt(a *area, i uint64) (cursor, error) {
	c := cursor{f: f, a: a, i: i}
	if i < a.bits {
		_, r, err := f.bitAt(a, i)
		if err != nil {
			return c, err
		}
		c.rank = r
	} else {
		c.rank = a.count
	}
	return c, nil
}

// bit returns the current page's bit (false beyond the bitmap's end).
func (c *cursor) bit() (bool, error) {
	a := c.a
	if c.i >= a.bits {
		return false, nil
	}
	if a.bmAvail <= 8 {
		return a.inline>>c.i&1 != 0, nil
	}
	k := c.i / blockBits
	if c.blkN != k+1 {
		b, err := c.f.block(a, k)
		if err != nil {
			return false, err
		}
		c.blk, c.blkN = b, k+1
	}
	j := c.i % blockBits
	return c.blk[j/8]>>(j%8)&1 != 0, nil
}

// page returns the current page's state and bit, for next.
func (c *cursor) page() (pageState, bool, error) {
	set, err := c.bit()
	if err != nil {
		return pageLost, false, err
	}
	return c.a.state(c.i, set, c.rank), set, nil
}

// next moves to the following page; set is the current page's bit.
func (c *cursor) next(set bool) {
	if set {
		c.rank++
	}
	c.i++
}

// runFrom returns how many pages from the cursor's page on, at most limit,
// share its state, leaving the cursor after them. Whole bytes of 0x00 or
// 0xff are skipped at once.
func (c *cursor) runFrom(limit uint64) (pageState, uint64, error) {
	if c.i >= c.a.bits {
		// Beyond the bitmap's end in the file: all lost.
		c.i += limit
		return pageLost, limit, nil
	}
	st, set, err := c.page()
	if err != nil {
		return st, 0, err
	}
	var n uint64
	for n < limit {
		if c.i >= c.a.bits {
			if st == pageLost {
				c.i += limit - n
				n = limit
			}
			break
		}
		s, b, err := c.page()
		if err != nil {
			return st, n, err
		}
		if s != st {
			break
		}
		// Fast path: a whole byte of equal bits inside the bitmap.
		if c.i%8 == 0 && c.i+8 <= c.a.bits && n+8 <= limit && c.a.bmAvail > 8 && c.blkN == c.i/blockBits+1 {
			j := c.i % blockBits
			if v := c.blk[j/8]; (v == 0xff && set) || (v == 0 && !set) {
				last := c.i + 7
				if c.a.state(last, set, c.rank+boolN(set)*7) == st {
					c.i += 8
					c.rank += boolN(set) * 8
					n += 8
					continue
				}
			}
		}
		c.next(b)
		n++
	}
	return st, n, nil
}

func boolN(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
