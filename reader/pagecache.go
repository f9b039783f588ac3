package reader

import (
	"sync"
	"sync/atomic"

	"dumpscope/model"
)

// PageCache keeps recently decoded pages, so that reading the same pages
// again (page-table walks, a hex view going back and forth, the kernel
// log) costs a copy rather than a read and a decode. It holds at most
// pageCacheBytes of pages, whatever the page size, in preallocated slots
// replaced in turn, so that a miss allocates nothing.
type PageCache struct {
	mu       sync.Mutex
	pageSize int
	slots    []cacheSlot
	index    map[model.PFN]int // pfn -> slot
	next     int               // the slot the next page replaces
	// streams follow runs of consecutive frames put: a reader that
	// streams through memory (find, page --count, a scan) reads each page
	// once, and caching it would only copy it and evict pages worth
	// keeping. Several streams are followed because workers reading
	// chunks of one range in turn interleave their runs; with one, every
	// put of two workers broke the other's run and every page was copied.
	streams [pcStreams]pcStream
	tick    uint64
	// held counts the pages held per bucket of frames (pfn % pcBuckets),
	// allocated with the slots: a Get in an empty bucket, most misses,
	// answers without the lock, which workers that read pages no one
	// reads again would otherwise take in turn for every page.
	held atomic.Pointer[[pcBuckets]atomic.Int32]
}

// pcBuckets is the number of held's buckets, four per slot of 4 KiB pages.
const pcBuckets = 1024

// pcStreams is how many runs of consecutive frames are followed at once.
const pcStreams = 4

// pcStream is one run of consecutive frames: the last frame put and how
// many came right before it.
type pcStream struct {
	last   model.PFN
	streak int
	used   uint64 // tick of the last put, for replacing the oldest
}

// maxStreak is how many consecutive frames in a row are cached; later
// frames of the same run are not.
const maxStreak = 16

type cacheSlot struct {
	used bool
	pfn  model.PFN
	info model.PageInfo
	data []byte
}

// pageCacheBytes is 1 MiB: 256 pages of 4 KiB. The kernel engine keeps
// its own 512 pages; this cache serves the hex view, `page` and other
// readers going back and forth. At 4 MiB, random reads that never hit
// spent 7-23% of their CPU filling fresh slots (zlib and lzo pages).
const pageCacheBytes = 1 << 20

// NewPageCache returns a cache for pages of pageSize bytes. Nothing is
// allocated until the first page is stored, so opening stays cheap.
func NewPageCache(pageSize int64) *PageCache {
	return &PageCache{pageSize: int(pageSize)}
}

// Get copies a cached page into dst and returns its PageInfo.
func (c *PageCache) Get(pfn model.PFN, dst []byte) (model.PageInfo, bool) {
	if h := c.held.Load(); h == nil || h[uint64(pfn)%pcBuckets].Load() == 0 {
		return model.PageInfo{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[pfn]
	if !ok {
		return model.PageInfo{}, false
	}
	copy(dst, c.slots[i].data)
	return c.slots[i].info, true
}

// Put stores a copy of a decoded page, replacing the oldest one, unless
// it continues a long run of consecutive frames.
func (c *PageCache) Put(pfn model.PFN, info model.PageInfo, src []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.follow(pfn) >= maxStreak {
		return
	}
	if _, ok := c.index[pfn]; ok {
		return
	}
	if c.slots == nil {
		n := max(16, pageCacheBytes/max(c.pageSize, 1))
		c.slots, c.index = make([]cacheSlot, n), make(map[model.PFN]int, n)
		c.held.Store(new([pcBuckets]atomic.Int32))
	}
	held := c.held.Load()
	s := &c.slots[c.next]
	if s.used {
		delete(c.index, s.pfn)
		held[uint64(s.pfn)%pcBuckets].Add(-1)
	}
	if s.data == nil {
		s.data = make([]byte, c.pageSize)
	}
	copy(s.data, src)
	s.used, s.pfn, s.info = true, pfn, info
	c.index[pfn] = c.next
	held[uint64(pfn)%pcBuckets].Add(1)
	c.next = (c.next + 1) % len(c.slots)
}

// follow records a put of pfn and returns how many consecutive frames
// before it the same stream put: the stream whose last frame is pfn-1
// continues, otherwise pfn starts a stream in place of the oldest.
func (c *PageCache) follow(pfn model.PFN) int {
	c.tick++
	oldest := &c.streams[0]
	for i := range c.streams {
		s := &c.streams[i]
		if s.used != 0 && s.last+1 == pfn {
			s.last, s.used = pfn, c.tick
			s.streak++
			return s.streak
		}
		if s.used < oldest.used {
			oldest = s
		}
	}
	*oldest = pcStream{last: pfn, used: c.tick}
	return 0
}
