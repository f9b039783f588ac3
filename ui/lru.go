package ui

// lru is a small least-recently-used cache for Update's own use (one
// goroutine, no locks): decoded pages, file chunks, area chunks. Entries
// form a doubly linked list through indexes into a fixed slice, so a full
// cache allocates nothing.
type lru[K comparable, V any] struct {
	items      map[K]int
	ents       []lruEnt[K, V]
	head, tail int // most and least recently used; -1 when empty
}

type lruEnt[K comparable, V any] struct {
	key        K
	val        V
	prev, next int
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	return &lru[K, V]{items: make(map[K]int, capacity), ents: make([]lruEnt[K, V], 0, max(capacity, 1)), head: -1, tail: -1}
}

// get returns the value and marks it most recently used.
func (c *lru[K, V]) get(k K) (V, bool) {
	i, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.moveFront(i)
	return c.ents[i].val, true
}

// peek returns the value without changing the order (for View).
func (c *lru[K, V]) peek(k K) (V, bool) {
	i, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	return c.ents[i].val, true
}

// put stores a value, evicting the least recently used one when full.
func (c *lru[K, V]) put(k K, v V) {
	if i, ok := c.items[k]; ok {
		c.ents[i].val = v
		c.moveFront(i)
		return
	}
	var i int
	if len(c.ents) < cap(c.ents) {
		c.ents = append(c.ents, lruEnt[K, V]{})
		i = len(c.ents) - 1
	} else {
		i = c.tail
		c.unlink(i)
		delete(c.items, c.ents[i].key)
	}
	c.ents[i] = lruEnt[K, V]{key: k, val: v, prev: -1, next: -1}
	c.items[k] = i
	c.pushFront(i)
}

func (c *lru[K, V]) unlink(i int) {
	e := &c.ents[i]
	if e.prev >= 0 {
		c.ents[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.ents[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (c *lru[K, V]) pushFront(i int) {
	c.ents[i].prev, c.ents[i].next = -1, c.head
	if c.head >= 0 {
		c.ents[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

func (c *lru[K, V]) moveFront(i int) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}
