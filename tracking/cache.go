package tracking

import "sync"

// genCache is a bounded, approximately-LRU map: entries live in a current
// generation; when it is full it becomes the old one (and the older one is
// dropped). A hit in the old generation moves the entry forward, so recently
// used entries survive.
type genCache[K comparable, V any] struct {
	mu       sync.Mutex
	max      int
	cur, old map[K]V
}

func newGenCache[K comparable, V any](max int) *genCache[K, V] {
	return &genCache[K, V]{max: max, cur: make(map[K]V)}
}

func (c *genCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	v, ok := c.old[k]
	if ok {
		c.putLocked(k, v)
	}
	return v, ok
}

func (c *genCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	c.putLocked(k, v)
	c.mu.Unlock()
}

func (c *genCache[K, V]) putLocked(k K, v V) {
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[K]V, c.max)
	}
	c.cur[k] = v
}
