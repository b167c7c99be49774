package segments

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Listed is a segment as GET /segments lists it: with its member count
// and how many of them may be sent to, as of CountedAt.
type Listed struct {
	Segment
	// Count is how many contacts are members now (Count).
	Count int64 `json:"count"`
	// Sendable is how many members may be sent to (CountSendable: after
	// suppressions and unsubscribes).
	Sendable int64 `json:"sendable"`
	// CountedAt is when Count and Sendable were computed (they are cached
	// for Counts.TTL).
	CountedAt time.Time `json:"counted_at"`
}

// Counts computes the counts of a list of segments with bounded cost: at
// most Parallel segments are counted at once, and a segment's counts are
// kept for TTL (as long as its rule is unchanged), so a list page
// reloaded, or paged through, does not count every segment again. The
// zero value is ready to use. Safe for concurrent use.
type Counts struct {
	// TTL is how long counts are kept. Default 60 s.
	TTL time.Duration
	// Parallel is how many segments are counted at once. Default 2 (a
	// segment that runs in Go already counts in parallel).
	Parallel int
	// Now is the clock. Default time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[int64]countEntry
}

type countEntry struct {
	rule            string
	count, sendable int64
	at              time.Time
}

func (c *Counts) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Counts) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return time.Minute
}

// cached returns s's counts when they are fresh.
func (c *Counts) cached(s Segment, now time.Time) (countEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[s.ID]
	return e, ok && e.rule == s.Rule && now.Sub(e.at) < c.ttl()
}

func (c *Counts) store(id int64, e countEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[int64]countEntry{}
	}
	c.cache[id] = e
}

// Fill returns list with each segment's counts, from the cache or counted
// now (a segment whose rule no longer compiles counts 0).
func (c *Counts) Fill(ctx context.Context, db DBTX, list []Segment) ([]Listed, error) {
	out := make([]Listed, len(list))
	failed := make([]error, len(list))
	now := c.now()
	parallel := c.Parallel
	if parallel <= 0 {
		parallel = 2
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range list {
		out[i].Segment = s
		if e, ok := c.cached(s, now); ok {
			out[i].Count, out[i].Sendable, out[i].CountedAt = e.count, e.sendable, e.at
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			e, err := countOne(ctx, db, s, now)
			if err != nil {
				failed[i] = err
				return
			}
			c.store(s.ID, e)
			out[i].Count, out[i].Sendable, out[i].CountedAt = e.count, e.sendable, e.at
		})
	}
	wg.Wait()
	if err := errors.Join(failed...); err != nil {
		return nil, err
	}
	return out, nil
}

func countOne(ctx context.Context, db DBTX, s Segment, now time.Time) (countEntry, error) {
	e := countEntry{rule: s.Rule, at: now}
	compiled, err := CompileSegment(s.Rule)
	if err != nil {
		return e, nil // stored before a language change: it matches nobody
	}
	if e.count, err = Count(ctx, db, compiled); err != nil {
		return e, err
	}
	if e.sendable, err = CountSendable(ctx, db, compiled); err != nil {
		return e, err
	}
	return e, nil
}
