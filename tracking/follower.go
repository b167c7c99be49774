package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// follower folds the clicks and opens their requests stored (inbox.go)
// into everything derived from them: it takes the oldest waiting events,
// applies them as the writer applies a batch (the deliveries locked in id
// order, firsts and unique counts, rollups, campaign_people, contacts'
// engagement, click history, rule jobs) and marks them folded, all in one
// transaction. A fold that fails or a process that dies mid-fold rolls
// back whole: no event is counted twice or lost. Every process runs one;
// a transaction-scoped advisory lock lets one fold at a time, so events
// are applied in order.
//
// The waiting events are of two kinds. A request of this version writes
// its event into events, marked followed, and a fold takes the followed
// events above the watermark (tracking_watermark, migration 053) and moves
// the watermark to the highest it took, in its transaction. An id
// watermark misses an event whose transaction took a lower id and commits
// after a higher one was folded; the fold prevents that with a bound:
//
//   - every followed insert takes its ids under an advisory lock, shared
//     (group commits run side by side, as before) and held until its
//     transaction ends (clicks_lock);
//   - before it reads, a fold takes the same lock exclusively in a
//     transaction of its own and reads the sequence (follower_bound): the
//     lock is granted once every group commit holding it has ended, and
//     none starts taking ids until it is released, so every followed id up
//     to the bound belongs to a transaction that has ended: committed and
//     visible to every later snapshot (PostgreSQL makes a commit visible
//     before it releases the transaction's locks), or rolled back;
//   - the fold then reads the followed events above the watermark and up
//     to the bound, and moves the watermark to the highest it took.
//
// So no followed id at or below the watermark can appear later. Waiting
// for the group commits in flight (one commit's time) holds back new ones
// for that moment, once per fold: folds are at least every apart.
// Other writers of events (unsubscribes, conversions, bounces,
// complaints, Service.Record) leave followed false: they write their
// derived state themselves, and the fold skips them.
//
// A process of an older version (a rolling deploy, docs/operations.md)
// still writes event_inbox; the fold drains it as before, by DELETE …
// RETURNING in its transaction, and inserts those events into events.
//
// It is woken by the request path after each commit and polls for the
// events other processes commit. Between two folds it waits at least
// every, so that under load a fold takes what arrived meanwhile (larger
// batches, less work per event) instead of a few events per fold.
type follower struct {
	pool    *pgxpool.Pool
	applier *applier
	logger  *slog.Logger
	size    int           // most events per fold
	every   time.Duration // least time between two folds' starts
	poll    time.Duration // longest wait without a wake-up
	timeout time.Duration // per fold

	// beforeCommit, when set (tests), runs after a fold's statements and
	// before its commit; an error rolls the fold back.
	beforeCommit atomic.Pointer[foldHook]

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	folds, folded atomic.Int64
}

// foldHook is a test's look into a fold before it commits.
type foldHook func(ctx context.Context, tx pgx.Tx, events int) error

// errBusy: another process's follower holds the lock.
var errBusy = errors.New("tracking: another follower is folding")

// nudge wakes the follower (it never blocks).
func (f *follower) nudge() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *follower) start(ctx context.Context) {
	// The follower outlives the caller's context: stop ends it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(ctx)
}

// stop ends the loop after the fold in progress (a fold cut short rolls
// back: its events stay in the inbox for the next follower).
func (f *follower) stop(ctx context.Context) error {
	if f.cancel == nil {
		return nil
	}
	f.once.Do(f.cancel)
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracking: stop follower: %w", ctx.Err())
	}
}

func (f *follower) run(ctx context.Context) {
	defer close(f.done)
	limit := f.size
	poll := time.NewTimer(f.poll)
	defer poll.Stop()
	for {
		started := time.Now()
		n, err := f.fold(ctx, limit)
		switch {
		case err == nil:
			limit = f.size
		case ctx.Err() != nil:
			return
		case errors.Is(err, errBusy):
		case dataError(err) && limit > 1:
			// Isolate the event the database refuses: the oldest ones
			// are taken first, so halving finds it.
			limit = max(1, limit/2)
			continue
		case dataError(err):
			f.drop(ctx, err)
			limit = f.size
			continue
		default:
			f.logger.Warn("tracking: fold failed", slog.Any("error", err))
		}
		if n < limit || err != nil {
			// Caught up (or failing): wait for a wake-up or the poll.
			if !poll.Stop() {
				select {
				case <-poll.C:
				default:
				}
			}
			poll.Reset(f.poll)
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			case <-poll.C:
			}
		}
		// Let a batch gather: at most one fold starts per every.
		if wait := f.every - time.Since(started); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// drop removes the oldest waiting event, which the database refuses on
// its own, so the events after it are folded; it is logged as lost. The
// inbox's rows are taken first (take), so its oldest row goes first;
// without one, the oldest followed event above the watermark.
func (f *follower) drop(ctx context.Context, cause error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var id int64
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, query("follower_lock")).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return errBusy
		}
		err := tx.QueryRow(ctx, query("follower_drop")).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, query("follower_drop_event")).Scan(&id)
		}
		return err
	})
	f.logger.Error("tracking: event refused by the database, dropped", slog.Int64("event_id", id),
		slog.Any("cause", cause), slog.Any("error", err))
}

// fold folds up to limit of the oldest waiting events in one transaction
// and returns how many it took (errBusy when another follower holds the
// lock).
func (f *follower) fold(ctx context.Context, limit int) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	var ok bool
	if err := tx.QueryRow(ctx, query("follower_lock")).Scan(&ok); err != nil {
		return 0, fmt.Errorf("follower lock: %w", err)
	}
	if !ok {
		return 0, errBusy
	}
	// The bound first, while this transaction holds no row lock: its
	// second connection waits only for group commits, which wait for
	// nothing this fold holds.
	bound, err := f.bound(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := take(ctx, tx, limit)
	if err != nil {
		return 0, err
	}
	var fb followBounds
	if err := tx.QueryRow(ctx, query("follower_watermark")).Scan(&fb.before); err != nil {
		return 0, fmt.Errorf("read watermark: %w", err)
	}
	var followed []*Event
	if limit > len(evs) {
		if followed, err = takeFollowed(ctx, tx, fb.before, bound, limit-len(evs)); err != nil {
			return 0, err
		}
	}
	fb.after = fb.before
	if len(followed) > 0 {
		fb.after = followed[len(followed)-1].id
		evs = append(evs, followed...)
	}
	if len(evs) > 0 {
		// In the order they happened: an event whose commit came late is
		// applied with the batch that takes it, in its place by time.
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		_, errsOut, err := f.applier.apply(ctx, tx, evs, &fb)
		if err != nil {
			return 0, fmt.Errorf("fold %d events: %w", len(evs), err)
		}
		for i, e := range errsOut {
			if e != nil {
				// Its delivery or link is gone: nothing to count.
				f.logger.Info("tracking: event of an unknown delivery or link not folded", slog.Int64("event_id", evs[i].id),
					slog.Int64("delivery_id", evs[i].DeliveryID), slog.Any("error", e))
			}
		}
	}
	if fb.after != fb.before {
		// Committed with the events' derived state, or rolled back with it.
		if _, err := tx.Exec(ctx, query("follower_set_watermark"), fb.after); err != nil {
			return 0, fmt.Errorf("move watermark: %w", err)
		}
	}
	if h := f.beforeCommit.Load(); h != nil {
		if err := (*h)(ctx, tx, len(evs)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("fold commit: %w", err)
	}
	if len(evs) > 0 {
		f.folds.Add(1)
		f.folded.Add(int64(len(evs)))
	}
	return len(evs), nil
}

// take deletes up to limit of the oldest events waiting in event_inbox
// (written by an older process) and returns them.
func take(ctx context.Context, tx pgx.Tx, limit int) ([]*Event, error) {
	return scanTaken(tx.Query(ctx, query("follower_take"), limit))
}

// bound is the highest event id below which every followed event's
// transaction has ended (the doc above): read under the request path's
// lock taken exclusively, on a connection and in a transaction of its own
// (one round trip), so the lock is released at once.
func (f *follower) bound(ctx context.Context) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(query("follower_bound_lock"))
	var bound int64
	b.Queue(query("follower_bound")).QueryRow(func(row pgx.Row) error { return row.Scan(&bound) })
	if err := f.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("follower bound: %w", err)
	}
	return bound, nil
}

// takeFollowed returns up to limit of the oldest followed events above
// the watermark and up to bound, in id order.
func takeFollowed(ctx context.Context, tx pgx.Tx, watermark, bound int64, limit int) ([]*Event, error) {
	if bound <= watermark {
		return nil, nil
	}
	evs, err := scanTaken(tx.Query(ctx, query("follower_take_events"), watermark, limit, bound))
	for _, ev := range evs {
		ev.stored = &verdictRow{machine: ev.Machine, reason: ev.Reason}
	}
	return evs, err
}

// scanTaken reads taken events (follower_take, follower_take_events).
func scanTaken(rows pgx.Rows, err error) ([]*Event, error) {
	if err != nil {
		return nil, fmt.Errorf("take events: %w", err)
	}
	var evs []*Event
	var (
		id, del    int64
		typ, url   string
		link       *int32
		machine    bool
		reason, ua string
		ip         *string
		at         time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &del, &typ, &link, &url, &machine, &reason, &ua, &ip, &at}, func() error {
		ev := &Event{id: id, Type: typ, DeliveryID: del, LinkIdx: -1, URL: url, Machine: machine, Reason: reason, UserAgent: ua, At: at}
		if link != nil {
			ev.LinkIdx = int(*link)
		}
		if ip != nil {
			if a, err := netip.ParseAddr(*ip); err == nil {
				ev.IP = a
			}
		}
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take events: %w", err)
	}
	return evs, nil
}

// Settle waits until every click and open this service has answered is
// folded (counted in the reports), or ctx ends: until no event with an id
// up to the highest it answered waits in the inbox and the watermark has
// reached it (each was committed before its answer). It polls the inbox every 5 ms; tests use it to wait
// for the reports instead of sleeping.
func (s *Service) Settle(ctx context.Context) error {
	last := s.lastInbox.Load()
	if last == 0 {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		var pending bool
		if err := s.cfg.Pool.QueryRow(ctx, query("inbox_pending"), last).Scan(&pending); err != nil {
			return fmt.Errorf("tracking: settle: %w", err)
		}
		if !pending {
			return nil
		}
		s.follower.nudge()
		select {
		case <-ctx.Done():
			return fmt.Errorf("tracking: settle: %w", ctx.Err())
		case <-t.C:
		}
	}
}
