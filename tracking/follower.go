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

// follower folds event_inbox (inbox.go) into events and everything derived
// from them: it takes the oldest waiting events, applies them as the
// writer applies a batch (the deliveries locked in id order, firsts and
// unique counts, rollups, campaign_people, contacts' engagement, click
// history, rule jobs) and deletes them from the inbox, all in one
// transaction. A fold that fails or a process that dies mid-fold rolls
// back whole: no event is counted twice or lost. Every process runs one;
// a transaction-scoped advisory lock lets one fold at a time, so events
// are applied in order.
//
// It is woken by the inbox writer after each commit and polls for the
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
// its own, so the events after it are folded; it is logged as lost.
func (f *follower) drop(ctx context.Context, cause error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var id int64
	err := f.pool.QueryRow(ctx, query("follower_drop")).Scan(&id)
	f.logger.Error("tracking: event refused by the database, dropped from the inbox", slog.Int64("event_id", id),
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
	evs, err := take(ctx, tx, limit)
	if err != nil {
		return 0, err
	}
	if len(evs) > 0 {
		// In the order they happened: an event whose commit came late is
		// applied with the batch that takes it, in its place by time.
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		_, errsOut, err := f.applier.apply(ctx, tx, evs)
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

// take deletes up to limit of the oldest waiting events and returns them.
func take(ctx context.Context, tx pgx.Tx, limit int) ([]*Event, error) {
	rows, err := tx.Query(ctx, query("follower_take"), limit)
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
// up to the highest it answered waits in the inbox (each was committed
// before its answer). It polls the inbox every 5 ms; tests use it to wait
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
