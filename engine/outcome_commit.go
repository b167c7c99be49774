package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
)

// The send outcomes of all of a process's send jobs are committed together
// (a group commit across connections): every commitEvery, or as soon as
// commitMax outcomes wait, whichever comes first, one transaction records
// them all with one statement over arrays, with their contacts' counts,
// follow-up jobs and a send_outcome_log row from which the send fold
// derives the campaign's counters and people. A kill -9 can then re-send only
// what the SMTP server accepted and no commit has recorded yet: the
// messages being sent and the outcomes not committed yet, which together
// stay under maxUncommitted (a sender reserves room for a slice before it
// sends it: when the database is slow, sending slows rather than the crash
// window growing). Senders do not otherwise
// wait for the commit: a job waits for its outcomes only before it ends.
const (
	commitEvery    = 20 * time.Millisecond
	commitMax      = 32
	maxUncommitted = 96
	// sendSlice is how many messages go to the mailer at once: their
	// outcomes are known (and handed to the group commit) only when the
	// slice is done.
	sendSlice = 4
	// commitIdle is how many empty intervals the committer waits before
	// its goroutine ends (the next outcome starts it again).
	commitIdle = 50
	// commitFlushers is how many flushes of one process may run at once.
	commitFlushers = 2
)

// outcomeBatch is a slice's outcomes waiting for the group commit.
type outcomeBatch struct {
	// client enqueues the follow-up jobs (nil: the campaign has no rules).
	client      *river.Client[pgx.Tx]
	c           *campaigns.Campaign
	group       []deliveries.Delivery
	results     []deliveries.Outcome
	hardBounced []int64
	done        chan error
}

// outcomeCommitter runs the group commit of a SendWorker.
type outcomeCommitter struct {
	mu      sync.Mutex
	pending []*outcomeBatch
	n       int
	running bool
	kick    chan struct{}
	// flushers holds a token per running flush (commitFlushers).
	flushers chan struct{}
	// uncommitted counts the messages reserved for sending and the
	// outcomes submitted, until committed; room is closed when a flush
	// ends, to wake senders waiting for room.
	uncommitted int
	room        chan struct{}
	stats       sendStats
}

// reserve waits until n more messages keep the uncommitted under
// maxUncommitted (or none are, whatever n) and reserves them; the slice's
// submit takes the reservation over.
// It checks the job's lease (fence.go) before each try, so a process
// presumed dead while it waited for room hands nothing more to SMTP (the
// mailer checks it once more right before writing: sendEmails).
func (w *SendWorker) reserve(ctx context.Context, n int) error {
	oc := &w.commits
	for began, waited := time.Now(), false; ; waited = true {
		if err := checkLease(ctx); err != nil {
			return err
		}
		oc.mu.Lock()
		if oc.uncommitted == 0 || oc.uncommitted+n <= maxUncommitted {
			oc.uncommitted += n
			oc.mu.Unlock()
			if waited {
				oc.stats.waited(began)
			}
			return nil
		}
		if oc.room == nil {
			oc.room = make(chan struct{})
		}
		ch := oc.room
		oc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// commitWaits are a job's outcome batches not yet known to be committed.
type commitWaits []chan error

// wait returns once every batch has been committed (or has failed), with
// the first error.
func (ws *commitWaits) wait() error {
	var first error
	for _, ch := range *ws {
		if err := <-ch; err != nil && first == nil {
			first = err
		}
	}
	*ws = (*ws)[:0]
	return first
}

// submit hands b to the group commit, taking over a reservation of
// reserved messages; b.done gets its result.
func (w *SendWorker) submit(ctx context.Context, b *outcomeBatch, reserved int) chan error {
	b.done = make(chan error, 1)
	oc := &w.commits
	oc.mu.Lock()
	if oc.kick == nil {
		oc.kick = make(chan struct{}, 1)
		oc.flushers = make(chan struct{}, commitFlushers)
	}
	oc.pending = append(oc.pending, b)
	oc.n += len(b.results)
	oc.uncommitted += len(b.results) - reserved
	if !oc.running {
		oc.running = true
		go w.commitLoop(context.WithoutCancel(ctx))
	}
	full := oc.n >= commitMax
	oc.mu.Unlock()
	if full {
		select {
		case oc.kick <- struct{}{}:
		default:
		}
	}
	return b.done
}

// commitLoop flushes what waits every commitEvery, or at once when
// commitMax outcomes wait or a flush ended with outcomes waiting; up to
// commitFlushers flushes run at once, so outcomes that arrive during a
// flush's commit do not wait for it to end (with the uncommitted bound,
// a single flusher held the process to about maxUncommitted ÷ 2 outcomes
// per flush time: docs/benchmarks.md, "Journeys (issue 19)"). It ends
// after commitIdle empty intervals.
func (w *SendWorker) commitLoop(ctx context.Context) {
	oc := &w.commits
	t := time.NewTimer(commitEvery)
	defer t.Stop()
	for idle := 0; ; {
		select {
		case <-t.C:
		case <-oc.kick:
			if !t.Stop() {
				<-t.C
			}
		}
		t.Reset(commitEvery)
		oc.flushers <- struct{}{} // a free flusher, before taking what waits
		oc.mu.Lock()
		batch := oc.pending
		oc.pending, oc.n = nil, 0
		if len(batch) == 0 {
			<-oc.flushers
			if idle++; idle >= commitIdle {
				oc.running = false
				oc.mu.Unlock()
				return
			}
			oc.mu.Unlock()
			continue
		}
		idle = 0
		oc.mu.Unlock()
		go w.flushAndRelease(ctx, batch)
	}
}

// flushAndRelease flushes batch, frees its flusher and its room under the
// uncommitted bound, and wakes the loop when outcomes are waiting.
func (w *SendWorker) flushAndRelease(ctx context.Context, batch []*outcomeBatch) {
	oc := &w.commits
	began, n := time.Now(), 0
	w.flush(ctx, batch)
	oc.mu.Lock()
	for _, b := range batch {
		oc.uncommitted -= len(b.results)
		n += len(b.results)
	}
	oc.stats.flushed(n, began)
	if oc.room != nil {
		close(oc.room)
		oc.room = nil
	}
	waiting := len(oc.pending) > 0
	oc.mu.Unlock()
	<-oc.flushers
	if waiting {
		select {
		case oc.kick <- struct{}{}:
		default:
		}
	}
}

// flush records the batches in one transaction; when that fails, each
// batch alone, so that one batch's failure is its job's only.
func (w *SendWorker) flush(ctx context.Context, batch []*outcomeBatch) {
	// The send fold (send_fold.go) is woken after a commit: its log row
	// is there to take.
	defer w.nudgeFold(ctx)
	err := inPipeTx(ctx, w.Pool, func(tx pipeTx) error { return w.recordBatches(ctx, tx, batch) })
	if err == nil || len(batch) == 1 {
		for _, b := range batch {
			b.done <- err
		}
		return
	}
	for _, b := range batch {
		b.done <- inPipeTx(ctx, w.Pool, func(tx pipeTx) error {
			return w.recordBatches(ctx, tx, []*outcomeBatch{b})
		})
	}
}

// recordBatches records outcome batches in a transaction of its own, tx:
// the deliveries in one statement, what the sends settle (entries), the
// suppressions of hard bounces, the follow-up jobs, then one
// send_outcome_log row naming the recipients whose deliveries this
// transaction made sent or bounced, the contacts of those it made sent and
// the step counters' changes of every delivery it made final. No counter
// row is written here: the campaign's step counters (rollups,
// rollup_totals, rollup_hours), its people (campaign_people and the people
// counters) and the contacts' sent counts (contact_stats) are derived from
// the log by the send fold (send_fold.go) in large batches, exactly once.
// When every flush upserted the campaign's counter rows, the flushes of
// all senders queued on those rows' locks (issue 22: the most execution
// time per message of any statement); the contacts' counts, one statement
// of ≈ 25 rows per flush, cost twice as much PostgreSQL CPU per row as
// one of ≈ 800 per fold (docs/benchmarks.md, "the send fold counts the
// contacts' sent messages").
//
// It takes two round trips (three when follow-up jobs are enqueued):
// BEGIN, the deliveries, entries in id order and the suppressions in one
// pgx pipeline, and what needs the deliveries' statement's answer (the
// rows it changed) with COMMIT in another: the log row. On a busy machine
// every round trip waits to be scheduled, and the uncommitted bound makes
// the flush's time the process's send rate.
func (w *SendWorker) recordBatches(ctx context.Context, tx pipeTx, batch []*outcomeBatch) error {
	now := w.Now()
	var all []deliveries.Outcome
	var rounds []int64
	for _, b := range batch {
		all = append(all, b.results...)
		rounds = append(rounds, settledRounds(b.c, b.group, b.results)...)
	}
	var finals []deliveries.Final
	q := &pgx.Batch{}
	tx.queueBegin(q)
	deliveries.QueueRecord(q, all, now, &finals)
	// The entries these sends settled, for every job of the flush at once.
	queueRoundsDone(q, rounds)
	// Suppressions answer whether the contact exists: read before COMMIT
	// is sent, so an unknown one rolls the flush back.
	for _, b := range batch {
		for _, cid := range b.hardBounced {
			if err := contacts.QueueSuppress(q, cid, contacts.StatusBounced); err != nil {
				return err
			}
		}
	}
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("record outcomes: %w", err)
	}
	for _, b := range batch {
		if err := enqueueFollowUps(ctx, tx, b.client, b.c, b.group, b.results, now); err != nil {
			return err
		}
	}
	q = &pgx.Batch{}
	// The log row names the contacts whose deliveries this statement made
	// sent: the send fold counts them (an outcome recorded again, a re-send
	// after a crash, is not named, so it does not count).
	queueOutcomeLog(q, finals, now)
	tx.queueCommit(q)
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("record outcome counts: %w", err)
	}
	return nil
}

// sentContacts are the contacts of the deliveries a write made sent, once
// per delivery.
func sentContacts(finals []deliveries.Final) []int64 {
	var ids []int64
	for _, f := range finals {
		if f.Status == deliveries.Sent {
			ids = append(ids, f.ContactID)
		}
	}
	return ids
}
