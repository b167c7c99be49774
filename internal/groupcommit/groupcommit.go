// Package groupcommit runs the writes of concurrent callers together: a
// group commit without timers. A caller arriving while no write runs
// becomes the leader and writes everything pending, its own items
// included; callers arriving meanwhile wait, and when the leader's write
// ends the first of them leads the next group. The group grows with the
// load (what arrived during one commit rides the next), so an idle server
// writes each call at once and a busy one pays one transaction, one fsync
// and one round of statements for many calls.
package groupcommit

import (
	"context"
	"fmt"
	"sync"
)

// DefaultMaxGroup is the most items one write takes when Group.Max is 0.
const DefaultMaxGroup = 256

// Group collects the items of concurrent callers into writes. Its zero
// value is ready: set Write before first use and leave the fields alone
// afterwards.
type Group[T any] struct {
	// Write stores one group of items. Its context ignores the callers'
	// cancellation (the others wait for it); its error is every item's
	// error. Per-item results belong in T.
	Write func(ctx context.Context, items []T) error
	// Max is the most items one write takes (default DefaultMaxGroup); the
	// rest lead or join the next group.
	Max int
	// Writers is how many writes may run at once (default 1: one at a
	// time, for writes that lock the same rows). More lets a group's round
	// trips to the database overlap another's when the machine is slow to
	// schedule them; each write still takes whatever is pending.
	Writers int

	mu      sync.Mutex
	pending []*waiter[T]
	writing int
}

type waiter[T any] struct {
	items []T
	done  chan error
	lead  chan struct{}
	led   bool // handed a writer's turn: it writes the next group, no one takes it
}

// Do adds items to the next group as one unit (they are written in the
// same write) and returns once that write has ended, with its error.
func (g *Group[T]) Do(ctx context.Context, items ...T) error {
	w := &waiter[T]{items: items, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.writing >= max(g.Writers, 1) {
		g.mu.Unlock()
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
			g.mu.Lock()
		}
	} else {
		g.writing++
	}
	batch := g.take(w)
	g.mu.Unlock()

	var all []T
	for _, b := range batch {
		all = append(all, b.items...)
	}
	err := g.write(context.WithoutCancel(ctx), all)
	for _, b := range batch {
		b.done <- err
	}
	g.mu.Lock()
	if next := g.nextLeader(); next != nil {
		next.led = true
		next.lead <- struct{}{} // hand over this writer's turn
	} else {
		g.writing--
	}
	g.mu.Unlock()
	return <-w.done
}

// Waiting is how many callers wait for a write (not counting those in the
// writes running now): for tests and metrics.
func (g *Group[T]) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// write is Write, with a panic turned into every item's error: the
// waiters must hear back, and the group must pass to the next leader.
func (g *Group[T]) write(ctx context.Context, items []T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("groupcommit: write panicked: %v", r)
		}
	}()
	return g.Write(ctx, items)
}

// take removes the leader's group from pending (under mu): the leader,
// then the waiters in arrival order while they fit in Max items, leaving
// those handed a turn of their own.
func (g *Group[T]) take(leader *waiter[T]) []*waiter[T] {
	limit := g.Max
	if limit <= 0 {
		limit = DefaultMaxGroup
	}
	batch := []*waiter[T]{leader}
	size, full := len(leader.items), false
	rest := make([]*waiter[T], 0, len(g.pending))
	for _, p := range g.pending {
		switch {
		case p == leader:
		case !p.led && !full && size+len(p.items) <= limit:
			batch = append(batch, p)
			size += len(p.items)
		default:
			full = full || !p.led
			rest = append(rest, p)
		}
	}
	g.pending = rest
	return batch
}

// nextLeader is the first waiter not yet handed a turn (under mu).
func (g *Group[T]) nextLeader() *waiter[T] {
	for _, p := range g.pending {
		if !p.led {
			return p
		}
	}
	return nil
}
