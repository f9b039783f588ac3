package xencore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"dumpscope/reader"
)

// The frame table says which frame each stored page is: entry i names
// page i of the page data. ELF dump-cores have .xen_p2m ({u64 pfn, u64
// gmfn}, PV guests) or .xen_pfn (u64 pfn, HVM and ia64 guests), sorted by
// pfn, with entries of all ones (invalid, live dumps of a shrinking
// domain) only at the end (formats.md §4.5). A legacy core has an index of
// machine frames (4 or 8 bytes each) in the hypervisor's order (§4.7).
//
// A sorted table is never loaded: a lookup binary-searches the first keys
// of 4096-entry blocks with single small reads, then reads one block
// through a small LRU. The trailing invalid entries sort last (all ones is
// the largest key), so the same search finds where they start. A table
// found unsorted (and every legacy index) is sorted into memory once, if
// it is not too large: 12 bytes per entry.

// tableKind says what a table's entries are.
type tableKind uint8

const (
	kindP2M tableKind = iota // .xen_p2m: {pfn, gmfn}
	kindPFN                  // .xen_pfn: pfn
	kindMFN                  // legacy index: mfn, unsorted
)

const (
	blockEntries   = 4096    // entries per cached block (frameTable.per)
	cachedBlocks   = 16      // blocks in the LRU (at most 1 MiB for .xen_p2m)
	cachedFirsts   = 4096    // first keys of blocks kept for the block search
	maxSortEntries = 1 << 26 // largest table sorted in memory (768 MiB)
)

// frameTable reads one table lazily. All methods are safe for concurrent
// use.
type frameTable struct {
	src     reader.Source
	order   binary.ByteOrder
	name    string // section name for messages
	kind    tableKind
	off     int64  // file offset of entry 0
	n       int64  // entries that are in the file
	ent     int64  // bytes per entry
	word    int64  // bytes of the key (entry offset 0): 8, or 4 for 32-bit legacy indexes
	per     int64  // entries per block: blockEntries (tests use fewer)
	invalid uint64 // the invalid key: all ones of the key's width

	blocks *reader.LRU[int64, []byte]
	firsts *reader.LRU[int64, uint64]

	validOnce sync.Once
	nValid    int64 // entries before the trailing invalid ones (sorted tables)
	maxKey    uint64
	validErr  error

	sortMu   sync.Mutex
	sorted   atomic.Pointer[sortedIndex]
	sortErr  error
	verified atomic.Bool // a full pass found the table sorted (or sorted it)
}

func newFrameTable(src reader.Source, order binary.ByteOrder, name string, kind tableKind, off, n, ent, word int64) *frameTable {
	t := &frameTable{src: src, order: order, name: name, kind: kind, off: off, n: max(n, 0), ent: ent, word: word, per: blockEntries,
		invalid: ^uint64(0), blocks: reader.NewLRU[int64, []byte](cachedBlocks), firsts: reader.NewLRU[int64, uint64](cachedFirsts)}
	if word == 4 {
		t.invalid = 0xffffffff
	}
	return t
}

// entryOffset returns the file offset of entry i.
func (t *frameTable) entryOffset(i int64) int64 { return t.off + i*t.ent }

func (t *frameTable) keyIn(b []byte) uint64 {
	if t.word == 4 {
		return uint64(t.order.Uint32(b))
	}
	return t.order.Uint64(b)
}

// block returns the bytes of block b (the last block may be short).
func (t *frameTable) block(b int64) ([]byte, error) {
	if blk, ok := t.blocks.Get(b); ok {
		return blk, nil
	}
	count := min(t.per, t.n-b*t.per)
	if count <= 0 {
		return nil, fmt.Errorf("%s block %d is beyond the table", t.name, b)
	}
	blk := make([]byte, count*t.ent)
	if err := t.src.ReadAt(blk, t.entryOffset(b*t.per), t.name); err != nil {
		return nil, err
	}
	t.blocks.Put(b, blk)
	return blk, nil
}

// entry returns the key (pfn or mfn) and, for .xen_p2m, the gmfn of entry
// i.
func (t *frameTable) entry(i int64) (key, gmfn uint64, err error) {
	blk, err := t.block(i / t.per)
	if err != nil {
		return 0, 0, err
	}
	e := blk[(i%t.per)*t.ent:]
	key = t.keyIn(e)
	if t.kind == kindP2M {
		gmfn = t.order.Uint64(e[8:])
	}
	return key, gmfn, nil
}

// keyAt returns the key of entry i, from a cached block or a small read.
func (t *frameTable) keyAt(i int64) (uint64, error) {
	if blk, ok := t.blocks.Get(i / t.per); ok {
		return t.keyIn(blk[(i%t.per)*t.ent:]), nil
	}
	var b [8]byte
	if err := t.src.ReadAt(b[:t.word], t.entryOffset(i), t.name+" entry"); err != nil {
		return 0, err
	}
	return t.keyIn(b[:]), nil
}

// firstKey returns the key of the first entry of block b.
func (t *frameTable) firstKey(b int64) (uint64, error) {
	if k, ok := t.firsts.Get(b); ok {
		return k, nil
	}
	k, err := t.keyAt(b * t.per)
	if err == nil {
		t.firsts.Put(b, k)
	}
	return k, err
}

// lowerBound returns the first entry whose key is >= key, assuming the
// table is sorted: a search over block first keys, then inside one block.
func (t *frameTable) lowerBound(key uint64) (int64, error) {
	nb := (t.n + t.per - 1) / t.per
	var err error
	// The first block whose first key is >= key; the answer is in the
	// block before it, or is its first entry.
	b := int64(sort.Search(int(nb), func(i int) bool {
		if err != nil {
			return true
		}
		k, e := t.firstKey(int64(i))
		if e != nil {
			err = e
			return true
		}
		return k >= key
	}))
	if err != nil {
		return 0, err
	}
	if b == 0 {
		return 0, nil
	}
	// The key starts block b (the common case of a lookup landing on a
	// block boundary): check the entry before it instead of reading
	// block b-1.
	if b < nb {
		k, err := t.firstKey(b)
		if err != nil {
			return 0, err
		}
		if k == key {
			if before, err := t.keyAt(b*t.per - 1); err != nil || before < key {
				return b * t.per, err
			}
		}
	}
	blk, err := t.block(b - 1)
	if err != nil {
		return 0, err
	}
	count := int64(len(blk)) / t.ent
	j := sort.Search(int(count), func(i int) bool { return t.keyIn(blk[int64(i)*t.ent:]) >= key })
	return (b-1)*t.per + int64(j), nil
}

// valid finds, once, how many entries precede the trailing invalid ones
// and the largest valid key (the last one, as the table is sorted).
func (t *frameTable) valid() (int64, uint64, error) {
	t.validOnce.Do(func() {
		if t.n == 0 {
			return
		}
		last, err := t.keyAt(t.n - 1)
		if err != nil {
			t.validErr = err
			return
		}
		t.nValid = t.n
		if last == t.invalid {
			if t.nValid, err = t.lowerBound(t.invalid); err != nil {
				t.validErr = err
				return
			}
		}
		if t.nValid > 0 {
			t.maxKey, t.validErr = t.keyAt(t.nValid - 1)
		}
	})
	return t.nValid, t.maxKey, t.validErr
}

// limit returns one past the largest key: the dump's MaxPFN.
func (t *frameTable) limit() uint64 {
	if s := t.sortedIndex(); s != nil {
		if len(s.keys) == 0 {
			return 0
		}
		return s.keys[len(s.keys)-1] + 1
	}
	n, k, err := t.valid()
	if err != nil || n == 0 {
		return 0
	}
	return k + 1
}

// lookup returns the entry index of a frame.
func (t *frameTable) lookup(key uint64) (int64, bool, error) {
	if key == t.invalid {
		return 0, false, nil
	}
	if s := t.sortedIndex(); s != nil {
		i := s.lowerBound(key)
		if i < len(s.keys) && s.keys[i] == key {
			return int64(s.idx[i]), true, nil
		}
		return 0, false, nil
	}
	i, err := t.lowerBound(key)
	if err != nil || i >= t.n {
		return 0, false, err
	}
	k, err := t.keyAt(i)
	return i, err == nil && k == key, err
}

// sortedIndex is a table sorted in memory: keys ascending, and for equal
// keys the lower entry index first, so the first occurrence wins.
type sortedIndex struct {
	keys []uint64
	idx  []uint32
}

func (s *sortedIndex) Len() int { return len(s.keys) }
func (s *sortedIndex) Less(i, j int) bool {
	return s.keys[i] < s.keys[j] || (s.keys[i] == s.keys[j] && s.idx[i] < s.idx[j])
}
func (s *sortedIndex) Swap(i, j int) {
	s.keys[i], s.keys[j] = s.keys[j], s.keys[i]
	s.idx[i], s.idx[j] = s.idx[j], s.idx[i]
}
func (s *sortedIndex) lowerBound(key uint64) int {
	return sort.Search(len(s.keys), func(i int) bool { return s.keys[i] >= key })
}

func (t *frameTable) sortedIndex() *sortedIndex {
	if t.kind == kindMFN && t.sorted.Load() == nil {
		t.buildSorted(context.Background())
	}
	return t.sorted.Load()
}

// buildSorted reads the whole table once and sorts its valid entries in
// memory. It is used for legacy indexes and for tables found unsorted; it
// fails for tables of more than maxSortEntries entries.
func (t *frameTable) buildSorted(ctx context.Context) error {
	t.sortMu.Lock()
	defer t.sortMu.Unlock()
	if t.sorted.Load() != nil || t.sortErr != nil {
		return t.sortErr
	}
	if t.n > maxSortEntries {
		t.sortErr = errTooLarge(t)
		return t.sortErr
	}
	s := &sortedIndex{keys: make([]uint64, 0, t.n), idx: make([]uint32, 0, t.n)}
	err := t.scan(ctx, 0, func(i int64, key, _ uint64) bool {
		if key != t.invalid {
			s.keys = append(s.keys, key)
			s.idx = append(s.idx, uint32(i))
		}
		return true
	})
	if err != nil {
		if ctx.Err() == nil {
			t.sortErr = err
		}
		return err
	}
	if !sort.IsSorted(s) {
		sort.Sort(s)
	}
	t.sorted.Store(s)
	return nil
}

func errTooLarge(t *frameTable) error {
	return fmt.Errorf("%s has %d entries, more than the %d dumpscope sorts in memory", t.name, t.n, maxSortEntries)
}

// scan calls fn for every entry from `from` in table order, reading
// block by block without disturbing the cache.
func (t *frameTable) scan(ctx context.Context, from int64, fn func(i int64, key, gmfn uint64) bool) error {
	buf := make([]byte, min(t.per, max(t.n-from, 0))*t.ent)
	for start := from; start < t.n; start += t.per {
		if err := ctx.Err(); err != nil {
			return err
		}
		count := min(t.per, t.n-start)
		b := buf[:count*t.ent]
		if err := t.src.ReadAt(b, t.entryOffset(start), t.name); err != nil {
			return err
		}
		for j := int64(0); j < count; j++ {
			e := b[j*t.ent:]
			var gmfn uint64
			if t.kind == kindP2M {
				gmfn = t.order.Uint64(e[8:])
			}
			if !fn(start+j, t.keyIn(e), gmfn) {
				return nil
			}
		}
	}
	return nil
}

// walk calls fn for the valid entries in ascending key order, starting
// with the first key >= from, skipping repeated keys (the first entry of
// a key wins). The first walk of a table checks that it is sorted, in one
// sequential pass; a table that is not is sorted in memory and walked
// there. If it is too large to sort, entries out of order are skipped.
func (t *frameTable) walk(ctx context.Context, from uint64, fn func(key uint64, idx int64) bool) error {
	if err := t.verifySorted(ctx); err != nil {
		return err
	}
	if s := t.sortedIndex(); s != nil {
		return s.walk(ctx, from, fn)
	}
	start, err := t.lowerBound(from)
	if err != nil {
		return err
	}
	var prev uint64
	have := false
	return t.scan(ctx, start, func(i int64, key, _ uint64) bool {
		if key == t.invalid || (have && key <= prev) {
			return true
		}
		prev, have = key, true
		return fn(key, i)
	})
}

// verifySorted checks once that the table is in ascending order, and sorts
// it in memory if it is not.
func (t *frameTable) verifySorted(ctx context.Context) error {
	if t.verified.Load() || t.sorted.Load() != nil || t.kind == kindMFN {
		return nil
	}
	var prev uint64
	have, sorted, sawInvalid := false, true, false
	err := t.scan(ctx, 0, func(i int64, key, _ uint64) bool {
		if key == t.invalid {
			sawInvalid = true
			return true
		}
		// A valid entry after an invalid one is out of order too: all
		// ones is the largest key to a binary search.
		if sawInvalid || (have && key < prev) {
			sorted = false
			return false
		}
		prev, have = key, true
		return true
	})
	if err != nil {
		return err
	}
	if !sorted && t.buildSorted(ctx) != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	t.verified.Store(true)
	return nil
}

func (s *sortedIndex) walk(ctx context.Context, from uint64, fn func(key uint64, idx int64) bool) error {
	for i := s.lowerBound(from); i < len(s.keys); i++ {
		if i&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if i > 0 && s.keys[i] == s.keys[i-1] {
			continue
		}
		if !fn(s.keys[i], int64(s.idx[i])) {
			return nil
		}
	}
	return nil
}
