package tracking

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns/contacts"
)

// Contact engagement (opens, clicks, last open and last click on the
// contacts row) is derived state that follows the events instead of being
// written in each click's group commit: the writer queues its batch's
// deltas in engagement_queue (one row per batch, in the events'
// transaction) and the engagement follower folds them into contacts in
// batches. Updating a contacts row (a wide row whose generated column and
// checks PostgreSQL re-evaluates on every update) was the click path's most
// expensive statement. The deltas are sums and maxima, so batches may be
// folded in any order, by any process; a batch's row is deleted in the
// transaction that applies it, so each is applied exactly once, across
// crashes and concurrent followers.

// Engagement settling: how long after an event is answered its contact's
// stats may still lag. The follower folds EngagementGather after the
// writer's commit, and every EngagementPoll in any case (batches another
// process or a crashed one left).
const (
	// EngagementGather is how long the follower waits after being woken
	// before it folds, so one fold takes several writer batches.
	EngagementGather = 50 * time.Millisecond
	// EngagementPoll is how often the follower folds without being woken.
	EngagementPoll = time.Second
	// engagementTake is how many queued batches one fold transaction takes.
	engagementTake = 200
)

// queueEngagement queues, on b, the batch's contact engagement deltas as
// one engagement_queue row. Nothing is queued for an empty e.
func queueEngagement(b *pgx.Batch, e contacts.Engagement) {
	if len(e.IDs) == 0 {
		return
	}
	b.Queue(query("queue_engagement"), e.IDs, e.Opens, e.Clicks, e.LastOpen, e.LastClick)
}

// engagementFollower folds engagement_queue into contacts.
type engagementFollower struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	gather  time.Duration
	poll    time.Duration
	timeout time.Duration

	wake     chan struct{}
	quit     chan struct{}
	done     chan struct{}
	started  atomic.Bool
	stopOnce sync.Once
}

func newEngagementFollower(pool *pgxpool.Pool, logger *slog.Logger, timeout time.Duration) *engagementFollower {
	return &engagementFollower{pool: pool, logger: logger, gather: EngagementGather, poll: EngagementPoll, timeout: timeout,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// notify tells the follower a batch was queued (never blocks).
func (f *engagementFollower) notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// start runs the follower once; it runs until stop, whatever ctx does.
func (f *engagementFollower) start(ctx context.Context) {
	if f.started.CompareAndSwap(false, true) {
		go f.run(context.WithoutCancel(ctx))
	}
}

// run folds at start (what a previous process left), when woken (after
// gathering) and every poll, until stop; then it folds what is left.
func (f *engagementFollower) run(ctx context.Context) {
	defer close(f.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-f.quit:
			f.drainLogged(ctx)
			return
		case <-f.wake:
			g := time.NewTimer(f.gather)
			select {
			case <-g.C:
			case <-f.quit:
			}
			g.Stop()
		case <-t.C:
		}
		f.drainLogged(ctx)
		t.Reset(f.poll)
	}
}

func (f *engagementFollower) drainLogged(ctx context.Context) {
	if err := f.drain(ctx); err != nil {
		// The batches stay queued; the next fold takes them.
		f.logger.WarnContext(ctx, "tracking: contact engagement not folded yet", slog.Any("error", err))
	}
}

// stop ends run after a last fold (the writer has stopped: nothing more
// is queued by this process). Batches it cannot fold stay queued for the
// next start.
func (f *engagementFollower) stop(ctx context.Context) error {
	f.stopOnce.Do(func() { close(f.quit) })
	if !f.started.Load() {
		return nil
	}
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracking: stop engagement follower: %w", ctx.Err())
	}
}

// drain folds until the queue is empty (of batches no other follower
// holds).
func (f *engagementFollower) drain(ctx context.Context) error {
	for {
		n, err := f.fold(ctx)
		for attempt := 0; err != nil && retryable(err) && attempt < 3; attempt++ {
			n, err = f.fold(ctx)
		}
		if err != nil || n < engagementTake {
			return err
		}
	}
}

// fold takes up to engagementTake queued batches, merges their deltas by
// contact and adds them to contacts (contacts in id order, so concurrent
// folds and writers never deadlock), all in one transaction. It returns
// how many batches it folded.
func (f *engagementFollower) fold(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("fold engagement: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	n, e, err := takeEngagement(ctx, tx, engagementTake)
	if err != nil || n == 0 {
		return 0, err
	}
	b := &pgx.Batch{}
	contacts.QueueEngagement(b, e)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("fold engagement: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("fold engagement: commit: %w", err)
	}
	return n, nil
}

// takeEngagement deletes up to limit queued batches in tx and returns how
// many, with their deltas merged by contact.
func takeEngagement(ctx context.Context, tx pgx.Tx, limit int) (int, contacts.Engagement, error) {
	rows, err := tx.Query(ctx, query("take_engagement"), limit)
	if err != nil {
		return 0, contacts.Engagement{}, fmt.Errorf("take engagement: %w", err)
	}
	merged := map[int64]*contactDelta{}
	n := 0
	for rows.Next() {
		var ids []int64
		var opens, clicks []int32
		var lastOpen, lastClick []*time.Time
		if err := rows.Scan(&ids, &opens, &clicks, &lastOpen, &lastClick); err != nil {
			rows.Close()
			return 0, contacts.Engagement{}, fmt.Errorf("take engagement: %w", err)
		}
		if len(opens) != len(ids) || len(clicks) != len(ids) || len(lastOpen) != len(ids) || len(lastClick) != len(ids) {
			rows.Close()
			return 0, contacts.Engagement{}, fmt.Errorf("take engagement: a queued batch's arrays differ in length")
		}
		n++
		for i, id := range ids {
			cd := merged[id]
			if cd == nil {
				cd = &contactDelta{}
				merged[id] = cd
			}
			cd.opens += int(opens[i])
			cd.clicks += int(clicks[i])
			cd.lastOpen, cd.lastClick = latestOf(cd.lastOpen, lastOpen[i]), latestOf(cd.lastClick, lastClick[i])
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, contacts.Engagement{}, fmt.Errorf("take engagement: %w", err)
	}
	ids := make([]int64, 0, len(merged))
	for id := range merged {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var e contacts.Engagement
	for _, id := range ids {
		cd := merged[id]
		e.IDs, e.Opens, e.Clicks = append(e.IDs, id), append(e.Opens, int32(cd.opens)), append(e.Clicks, int32(cd.clicks))
		e.LastOpen, e.LastClick = append(e.LastOpen, cd.lastOpen), append(e.LastClick, cd.lastClick)
	}
	return n, e, nil
}

func latestOf(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}

// SettleEngagement folds every queued contact engagement delta now and
// returns once none is waiting (those another process is folding
// included), so contacts' opens, clicks, last_open_at and last_click_at
// include every event recorded before the call. Without it they follow
// within about EngagementGather of the writer's commit.
func (s *Service) SettleEngagement(ctx context.Context) error {
	for {
		if err := s.follower.drain(ctx); err != nil {
			return err
		}
		var waiting int64
		if err := s.cfg.Pool.QueryRow(ctx, query("engagement_waiting")).Scan(&waiting); err != nil {
			return fmt.Errorf("tracking: settle engagement: %w", err)
		}
		if waiting == 0 {
			return nil
		}
		// Another follower holds the rest: wait for its commit.
		select {
		case <-ctx.Done():
			return fmt.Errorf("tracking: settle engagement: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
