package remote

import "container/list"

// blockCache keeps recently used blocks in memory, least recently used
// first out, bounded in bytes. Blocks are never changed once stored, so
// readers copy out of them without a lock. It is guarded by the object's
// mutex.
type blockCache struct {
	max, used int64
	lru       list.List // of *cached, most recent at the front
	index     map[int64]*list.Element
}

type cached struct {
	block int64
	data  []byte
}

func newBlockCache(maxBytes int64) *blockCache {
	return &blockCache{max: maxBytes, index: make(map[int64]*list.Element)}
}

func (c *blockCache) get(block int64) ([]byte, bool) {
	e, ok := c.index[block]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cached).data, true
}

func (c *blockCache) put(block int64, data []byte) {
	if e, ok := c.index[block]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.index[block] = c.lru.PushFront(&cached{block, data})
	c.used += int64(len(data))
	for c.used > c.max && c.lru.Len() > 1 {
		e := c.lru.Back()
		old := c.lru.Remove(e).(*cached)
		delete(c.index, old.block)
		c.used -= int64(len(old.data))
	}
}

// blockCall is one block as a reader waits for it: ready at once from
// the cache (done is nil), or being fetched (done closes when data or err
// is set). Readers of the same block share one call, so a block is
// fetched once however many goroutines want it.
type blockCall struct {
	done chan struct{}
	data []byte
	err  error
}
