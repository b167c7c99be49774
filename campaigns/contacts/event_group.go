package contacts

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/groupcommit"
)

// EventWriter group-commits POST /events: concurrent posts are stored in
// one transaction (internal/groupcommit: no timers; what arrives during a
// commit rides the next), each answered once that transaction has
// committed, where one post alone paid a transaction and a durable commit
// of its own. The group runs one statement per step for all its events
// (storeGroup) and decides each as RecordEvent would; an event refused
// for reasons of its own (an unknown contact or campaign, a key used for
// another body) is refused by a read before anything is written, so it
// leaves its group alone. A group that fails as a
// whole (a database error, a deadlock, a key stored meanwhile by another
// process) is rolled back and each of its events is recorded alone with
// RecordEvent, so every caller gets the answer of its own event.
//
// Create it with NewEventWriter; its methods are safe for concurrent use.
type EventWriter struct {
	pool  *pgxpool.Pool
	conv  ConversionRecorder
	hooks []EventHook
	group groupcommit.Group[*eventReq]

	commits, grouped, alone atomic.Int64
	// beforeWrite, when set (tests), runs before each group's transaction.
	beforeWrite func(n int)
}

// eventReq is one post waiting for its group's transaction.
type eventReq struct {
	in     EventInput
	digest string

	// What the group decided: the stored event, or an error of the event's
	// own; alone: record it by itself after the group (see answerDup).
	t       Transaction
	created bool
	err     error
	alone   bool
	dup     *eventReq // the group's earlier event with the same key

	contactID int64  // the event's contact, once known
	emailKey  string // the contact's email_key, for an event given by address
	stored    bool   // the group inserted the event
}

// NewEventWriter returns a writer storing events in pool, handing
// conversions to conv (may be nil) and new events to hooks (the journeys).
func NewEventWriter(pool *pgxpool.Pool, conv ConversionRecorder, hooks ...EventHook) *EventWriter {
	w := &EventWriter{pool: pool, conv: conv, hooks: hooks}
	w.group.Write = w.write
	w.group.Writers = eventWriters
	return w
}

// eventWriters is how many groups are stored at once: a group is about
// eight round trips to PostgreSQL one after the other, and on a loaded
// machine each waits to be scheduled, so a second group overlapping it
// keeps the API answering (as the transactional API's groupWriters).
// Groups lock contacts in one order (by id, and new addresses by
// email_key), so two groups do not deadlock on them.
const eventWriters = 2

// Record is RecordEvent, group-committed with concurrent calls: the same
// validation, answers and errors.
func (w *EventWriter) Record(ctx context.Context, in EventInput) (Transaction, bool, error) {
	if err := in.validate(); err != nil {
		return Transaction{}, false, err
	}
	if in.ContactID == 0 || in.Email != "" {
		// Refused here, not in the group: eventContact would refuse it
		// before it writes, but an address is cheap to check first.
		if _, err := NormalizeEmail(in.Email); err != nil {
			return Transaction{}, false, err
		}
	}
	r := &eventReq{in: in}
	if in.IdempotencyKey != "" {
		r.digest = eventDigest(in)
	}
	if err := w.group.Do(ctx, r); err != nil || r.alone {
		w.alone.Add(1)
		return RecordEvent(ctx, w.pool, w.conv, in, w.hooks...)
	}
	return r.t, r.created, r.err
}

// EventWriterStats counts what an EventWriter has done, for metrics and
// tests.
type EventWriterStats struct {
	// Commits is how many group transactions have committed.
	Commits int64
	// Grouped is how many events those transactions carried (stored,
	// replayed or refused).
	Grouped int64
	// Alone is how many events were recorded by themselves after their
	// group failed (or after an earlier event with their key was refused).
	Alone int64
}

// Stats returns the writer's counts so far.
func (w *EventWriter) Stats() EventWriterStats {
	return EventWriterStats{Commits: w.commits.Load(), Grouped: w.grouped.Load(), Alone: w.alone.Load()}
}

// write stores a group in one transaction; an error is the whole group's.
func (w *EventWriter) write(ctx context.Context, reqs []*eventReq) error {
	if w.beforeWrite != nil {
		w.beforeWrite(len(reqs))
	}
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		return w.storeGroup(ctx, tx, reqs)
	})
	if err != nil {
		return fmt.Errorf("record %d events: %w", len(reqs), err)
	}
	w.commits.Add(1)
	w.grouped.Add(int64(len(reqs)))
	for _, r := range reqs {
		if r.dup != nil {
			r.answerDup()
		}
	}
	return nil
}

// answerDup answers an event whose key an earlier event of its group
// carried: that event, replayed, when the bodies agree; the refusal
// RecordEvent gives a key used for another body otherwise. When the
// earlier event was refused, this one is recorded alone (its own checks
// decide).
func (r *eventReq) answerDup() {
	p := r.dup
	if p.err != nil {
		r.alone = true
		return
	}
	if p.digest != r.digest {
		r.err = keyUsedError(r.in.IdempotencyKey, p.t.ID)
		return
	}
	r.t, r.created = p.t, false
	r.t.IdempotencyKey, r.t.Replayed = r.in.IdempotencyKey, true
}
