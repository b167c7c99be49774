package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/puddle/v2"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// The send fold derives from the committed send outcomes what a flush no
// longer writes: the campaign's step counters (sent, send_bounced, failed,
// skipped in rollups, rollup_totals and rollup_hours) and its people
// (campaign_people and the people counters the report's campaign-level
// rates divide by). Every flush adds one send_outcome_log row naming the
// recipients whose deliveries it made sent or bounced (migration 045) and
// its counts per campaign, step and metric (migration 049); a fold takes the
// oldest waiting rows, up to foldRows, with DELETE … RETURNING, creates or
// refreshes their people and commits, all in one transaction: a fold that
// fails or a process that dies mid-fold rolls back whole and the next
// fold takes the same rows, so each outcome is folded exactly once, and a
// crash after a flush loses nothing (its log row committed with its
// deliveries). One fold runs at a time across processes (an advisory lock
// in send_fold_take), so folds take large batches.
//
// The fold also adds the contacts' sent counts (contact_stats.sent) of the
// deliveries the flushes made sent (migration 052), in one statement for
// all the rows it takes: the same writes as one statement per flush, at
// half the PostgreSQL CPU per row (docs/benchmarks.md, "the send fold
// counts the contacts' sent messages"). When these counts were on the
// contacts row, folding them in batches of hundreds updated many contacts
// of one page in one transaction, which left no room on the page for HOT
// updates (62% HOT instead of 89%, every other version a new entry in the
// contacts' four indexes, two of them GIN: docs/benchmarks.md, "Issue 22:
// send outcome fold"); contact_stats is narrow, has one index and keeps
// half of each page free (fillfactor 50, migration 048), so every row of a
// page has room for its next version. contact_stats.sent therefore lags
// the deliveries by one fold, like the people counters, and equals them
// whenever the log is empty (SettleSends).
//
// The counters are taken out of the flush because every flush of every
// sender upserted the same campaign's counter rows: the flushes queued on
// those rows' locks (docs/benchmarks.md, "Issue 22: step counters in the
// send fold"). A fold writes them once for up to foldRows flushes, and only
// one fold runs at a time. What the report and the progress show therefore
// lags the deliveries by one fold (docs/metrics.md), and a campaign is
// finished only once its outcomes are folded (finishIfDone).
//
// Lock order: the people rows (created, or locked in key order), then the
// contacts' contact_stats rows (in id order), then the step counters, then
// the people counters, as the tracking writer and follower (people rows,
// contacts, rollups); a flush takes neither people rows nor counter rows.
//
// The fold runs in the background of the process that flushed (started
// by the flush, ending after foldIdle empty looks) and, in a serving
// process, for good (Engine.StartSendFold), which also folds what a dead
// process left in the log.
const (
	// foldRows is the most log rows (flushes of ≈ 20–30 outcomes) one
	// fold takes: ≈ 1,500–2,000 outcomes.
	foldRows = 64
	// foldEvery is the least time between two folds' starts, so that
	// under load a fold takes what arrived meanwhile (larger batches,
	// less work per outcome) and settling stays short.
	foldEvery = 100 * time.Millisecond
	// foldPoll is how often the fold looks for rows when it was not woken.
	foldPoll = 250 * time.Millisecond
	// foldIdle is how many empty looks a fold started by a flush makes
	// before its goroutine ends (the next flush starts it again).
	foldIdle = 8
	// foldTimeout bounds one fold's transaction.
	foldTimeout = 30 * time.Second
)

// sendFold is a process's send fold.
type sendFold struct {
	mu      sync.Mutex
	running bool
	wake    chan struct{}
	// beforeCommit, when set (tests), runs after a fold's statements and
	// before its commit; an error rolls the fold back.
	beforeCommit atomic.Pointer[sendFoldHook]

	folds, folded atomic.Int64
	// conflicts counts the folds done again because a people row was
	// created meanwhile by another transaction (foldOnce).
	conflicts atomic.Int64

	// unfinished are the campaigns whose outcomes a fold took and whose
	// finish has not been decided since (the fold loop's own).
	unfinished map[int64]bool
	// triggered caches which campaigns are triggered (those never finish
	// when their sends drain).
	triggered map[int64]bool
}

// sendFoldHook is a test's look into a fold before it commits.
type sendFoldHook func(ctx context.Context, tx pgx.Tx, outcomes int) error

// queueOutcomeLog queues the log row of the recipients whose deliveries
// the flush made sent or bounced, of the contacts of those it made sent
// (once per delivery: a contact sent two messages counts two) and of the
// step counters' changes of every delivery it made final (finals: the rows
// its statement changed, so an outcome recorded again after a crash is
// neither logged nor counted twice). Counts are summed per campaign, step
// and metric: one or two entries for a flush of one campaign's step.
func queueOutcomeLog(b *pgx.Batch, finals []deliveries.Final, at time.Time) {
	var camps, conts []int64
	type key struct {
		campaign     int64
		step, metric string
	}
	var keys []key
	sums := map[key]int64{}
	for _, f := range finals {
		if f.Status == deliveries.Sent || f.Status == deliveries.Bounced {
			camps, conts = append(camps, f.CampaignID), append(conts, f.ContactID)
		}
		m, ok := statusMetric[f.Status]
		if !ok {
			continue
		}
		k := key{f.CampaignID, f.Step, m}
		if _, seen := sums[k]; !seen {
			keys = append(keys, k)
		}
		sums[k]++
	}
	if len(camps) == 0 && len(keys) == 0 {
		return
	}
	cc, cs, cm, cn := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		cc[i], cs[i], cm[i], cn[i] = k.campaign, k.step, k.metric, sums[k]
	}
	if camps == nil {
		camps, conts = []int64{}, []int64{}
	}
	sent := sentContacts(finals)
	if sent == nil {
		sent = []int64{}
	}
	b.Queue(queries.Get("outcome_log_add"), camps, conts, at.UTC(), cc, cs, cm, cn, sent)
}

// nudgeFold wakes the fold, starting it in the background when it is not
// running (it never blocks).
func (w *SendWorker) nudgeFold(ctx context.Context) {
	f := &w.fold
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{}, 1)
	}
	if !f.running {
		f.running = true
		go w.foldLoop(context.WithoutCancel(ctx), foldIdle)
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// runFold folds until ctx ends, whether or not rows wait.
func (w *SendWorker) runFold(ctx context.Context) {
	f := &w.fold
	for {
		f.mu.Lock()
		if f.wake == nil {
			f.wake = make(chan struct{}, 1)
		}
		if !f.running {
			f.running = true
			f.mu.Unlock()
			w.foldLoop(ctx, 0)
			return
		}
		// A loop started by a flush runs: wait for it to end, then take over.
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(foldPoll):
		}
	}
}

// foldLoop folds what waits: again at once while full folds come back
// (at most one start per foldEvery), else when woken or every foldPoll.
// With idle > 0 it ends after idle looks in a row found nothing (or
// failed); with 0, when ctx ends.
func (w *SendWorker) foldLoop(ctx context.Context, idle int) {
	f := &w.fold
	poll := time.NewTimer(foldPoll)
	defer poll.Stop()
	for empty := 0; ; {
		started := time.Now()
		n, camps, err := w.foldOnce(ctx, foldRows)
		if err == nil {
			err = w.finishFolded(ctx, camps)
		}
		// A closed pool is the process shutting down (or a test's
		// engine torn down): nothing is left to fold here, and a
		// restarted process's fold takes what waits.
		if ctx.Err() != nil || errors.Is(err, puddle.ErrClosedPool) {
			f.stopped()
			return
		}
		if err != nil {
			w.Log().WarnContext(ctx, "send fold failed", slog.Any("error", err))
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
		if idle > 0 && empty >= idle && f.endIfNotWoken() {
			return
		}
		if n < foldRows {
			if !poll.Stop() {
				select {
				case <-poll.C:
				default:
				}
			}
			poll.Reset(foldPoll)
			select {
			case <-ctx.Done():
				f.stopped()
				return
			case <-f.wake:
			case <-poll.C:
			}
		}
		if wait := foldEvery - time.Since(started); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				f.stopped()
				return
			case <-t.C:
			}
		}
	}
}

// endIfNotWoken marks the loop ended unless a wake-up waits (a flush
// committed since the last look), and says whether it ended.
func (f *sendFold) endIfNotWoken() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.wake:
		// Put it back for the loop's wait.
		f.wake <- struct{}{}
		return false
	default:
		f.running = false
		return true
	}
}

// stopped marks the loop ended.
func (f *sendFold) stopped() {
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
}

// foldOnce folds up to limit of the oldest log rows in one transaction and
// returns how many rows it took (none when another process's fold holds
// the lock) and their campaigns. The people without a row are created by
// a plain INSERT (tracking.QueueCreateNewPeople); when another transaction
// created one of those rows meanwhile (a click's fold, say) that insert
// fails, and the fold is rolled back whole and done again at once with
// the speculative insert, which skips the row and refreshes it instead.
func (w *SendWorker) foldOnce(ctx context.Context, limit int) (n int, camps []int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, foldTimeout)
	defer cancel()
	n, camps, err = w.foldTx(ctx, limit, false)
	if tracking.PeopleConflict(err) {
		w.fold.conflicts.Add(1)
		n, camps, err = w.foldTx(ctx, limit, true)
	}
	if err != nil {
		return 0, nil, err
	}
	if n > 0 {
		w.fold.folds.Add(1)
		w.fold.folded.Add(int64(n))
	}
	return n, camps, nil
}

// foldTx is foldOnce's transaction; speculative creates the people with
// ON CONFLICT DO NOTHING.
func (w *SendWorker) foldTx(ctx context.Context, limit int, speculative bool) (n int, camps []int64, err error) {
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		taken, err := takeOutcomes(ctx, tx, limit)
		if err != nil {
			return err
		}
		n, camps = taken.rows, taken.campaigns()
		if n == 0 {
			return nil
		}
		if err := taken.apply(ctx, tx, speculative); err != nil {
			return fmt.Errorf("fold %d send outcomes: %w", len(taken.people), err)
		}
		if h := w.fold.beforeCommit.Load(); h != nil {
			if err := (*h)(ctx, tx, len(taken.people)); err != nil {
				return fmt.Errorf("send fold hook: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return n, camps, nil
}

// finishFolded finishes the campaigns among camps (and those a failed
// look left) whose sends are done: a campaign is finished only once its
// outcomes are folded (finishIfDone), so the fold that takes the last of
// them decides. Only a campaign with no first-step delivery left waits
// for the campaign row lock; a triggered one never finishes here.
func (w *SendWorker) finishFolded(ctx context.Context, camps []int64) error {
	f := &w.fold
	if f.unfinished == nil {
		f.unfinished, f.triggered = map[int64]bool{}, map[int64]bool{}
	}
	for _, id := range camps {
		f.unfinished[id] = true
	}
	for id := range f.unfinished {
		if err := w.finishIfFolded(ctx, id); err != nil {
			return err
		}
		delete(f.unfinished, id)
	}
	return nil
}

// finishIfFolded is finishFolded for one campaign.
func (w *SendWorker) finishIfFolded(ctx context.Context, id int64) error {
	f := &w.fold
	if f.triggered[id] {
		return nil
	}
	remaining, err := tracking.FirstStepRemaining(ctx, w.Pool, id)
	if err != nil || remaining > 0 {
		return err
	}
	c, err := campaigns.Get(ctx, w.Pool, id)
	if errs.Is(err, errs.NotFound) {
		return nil // deleted meanwhile: nothing to finish
	}
	if err != nil {
		return err
	}
	if c.Triggered() {
		f.triggered[id] = true
		return nil
	}
	if c.Status != campaigns.StatusRunning {
		return nil
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		_, err := finishIfDone(ctx, tx, id)
		return err
	})
}

// takenOutcomes are the outcomes of the log rows a fold took.
type takenOutcomes struct {
	rows   int
	people []tracking.Recipient
	// sent names the contact of every delivery the flushes made sent, once
	// per delivery (contact_stats.sent).
	sent []int64
	// counts are the step counters' changes, each at its flush's time.
	counts []tracking.Count
	at     time.Time
}

// campaigns are the campaigns of the taken outcomes, each once.
func (t *takenOutcomes) campaigns() []int64 {
	var ids []int64
	seen := map[int64]bool{}
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, p := range t.people {
		add(p.CampaignID)
	}
	for _, c := range t.counts {
		add(c.CampaignID)
	}
	return ids
}

// takeOutcomes deletes up to limit of the oldest log rows and returns
// their outcomes.
func takeOutcomes(ctx context.Context, tx pgx.Tx, limit int) (*takenOutcomes, error) {
	rows, err := tx.Query(ctx, queries.Get("send_fold_take"), limit)
	if err != nil {
		return nil, fmt.Errorf("take send outcomes: %w", err)
	}
	t := &takenOutcomes{}
	var camps, conts, countCamps, countN, sent []int64
	var countSteps, countMetrics []string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&camps, &conts, &at, &countCamps, &countSteps, &countMetrics, &countN, &sent}, func() error {
		if len(conts) != len(camps) {
			return fmt.Errorf("send outcome log row of %d campaigns and %d contacts", len(camps), len(conts))
		}
		if n := len(countCamps); len(countSteps) != n || len(countMetrics) != n || len(countN) != n {
			return fmt.Errorf("send outcome log row of %d, %d, %d and %d count entries",
				n, len(countSteps), len(countMetrics), len(countN))
		}
		t.rows++
		t.sent = append(t.sent, sent...)
		for i := range camps {
			t.people = append(t.people, tracking.Recipient{CampaignID: camps[i], ContactID: conts[i]})
		}
		for i := range countCamps {
			t.counts = append(t.counts, tracking.Count{
				CampaignID: countCamps[i], Step: countSteps[i], Metric: countMetrics[i], At: at, N: countN[i],
			})
		}
		if at.After(t.at) {
			t.at = at
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take send outcomes: %w", err)
	}
	return t, nil
}

// apply writes what the taken outcomes derive, in the lock order above:
// the people without a row are created with their state from their
// deliveries (one statement, one round trip: the rest depends on its
// answer), then the existing people rows are locked, the contacts' sent
// counts added (in id order), the step counters of all the taken flushes
// added in one statement (each in its flush's minute), and the people rows
// refreshed and the people counters changed (one round trip). The people
// counters count at the latest flush's minute. speculative creates the
// people with ON CONFLICT DO NOTHING (foldOnce says when).
func (t *takenOutcomes) apply(ctx context.Context, tx pgx.Tx, speculative bool) error {
	b := &pgx.Batch{}
	create := tracking.QueueCreateNewPeople
	if speculative {
		create = tracking.QueueCreatePeople
	}
	pending := create(b, t.people, t.at)
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("create people: %w", err)
		}
	}
	b = &pgx.Batch{}
	pending.QueueCounts(b, t.counts, func(b *pgx.Batch) { contacts.QueueBumpSent(b, t.sent) })
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("people and step counters: %w", err)
	}
	return nil
}

// SettleSends waits until no send outcome waits to be folded (every
// process's: the log is empty), or ctx ends: from then on the campaigns'
// people and counters and the contacts' sent counts equal the deliveries
// recorded until then. It polls every 5 ms, waking this process's fold; tests and
// benchmarks use it instead of sleeping.
func (w *SendWorker) SettleSends(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		var pending bool
		if err := w.Pool.QueryRow(ctx, queries.Get("send_fold_pending")).Scan(&pending); err != nil {
			return fmt.Errorf("settle sends: %w", err)
		}
		if !pending {
			return nil
		}
		w.nudgeFold(ctx)
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle sends: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// SettleSends is the engine's SendWorker.SettleSends.
func (e *Engine) SettleSends(ctx context.Context) error { return e.send.SettleSends(ctx) }

// StartSendFold runs the send fold in the background for good (a serving
// process: it also folds what other processes, dead ones included, left
// in the log) and returns a function that stops it and waits for it.
func (e *Engine) StartSendFold(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.send.runFold(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
