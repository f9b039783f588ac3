package reader

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// LRU is a fixed-capacity, goroutine-safe least-recently-used cache.
//
// The entry used last is also kept where Get can see it without the lock:
// readers going through one block after another (bitmap and descriptor
// blocks, one per hundreds of pages) find it there, so that two workers do
// not take turns at the mutex for every page. Entries are never changed in
// place (Put of a present key stores a new entry), so a Get that reads the
// most recent entry without the lock sees a whole one.
type LRU[K comparable, V any] struct {
	mu    sync.Mutex
	cap   int
	order *list.List // front = most recent; elements hold *lruEntry
	items map[K]*list.Element
	mru   atomic.Pointer[lruEntry[K, V]] // the entry at the front
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

// NewLRU returns a cache that holds at most capacity entries (at least 1).
func NewLRU[K comparable, V any](capacity int) *LRU[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	return &LRU[K, V]{cap: capacity, order: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the cached value and marks it recently used.
func (c *LRU[K, V]) Get(k K) (V, bool) {
	if e := c.mru.Load(); e != nil && e.key == k {
		return e.val, true // already the most recent
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		ent := e.Value.(*lruEntry[K, V])
		c.mru.Store(ent)
		return ent.val, true
	}
	var zero V
	return zero, false
}

// Put stores a value, evicting the least recently used entry when full.
func (c *LRU[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ent := &lruEntry[K, V]{k, v}
	if e, ok := c.items[k]; ok {
		e.Value = ent
		c.order.MoveToFront(e)
		c.mru.Store(ent)
		return
	}
	c.items[k] = c.order.PushFront(ent)
	c.mru.Store(ent)
	if c.order.Len() > c.cap {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry[K, V]).key)
	}
}

// Len returns the number of cached entries.
func (c *LRU[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
