package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/peykar/peykar/campaigns/deliveries"
)

// ProcessLease is how long after it sent its last successful heartbeat a
// process may still hand work to SMTP or claim deliveries. It is shorter
// than ProcessDeadAfter, and measured from the moment the heartbeat was
// sent (before the database stamped it), so a process stops sending
// before any other process can declare it dead and take its jobs over:
// a process that froze (SIGSTOP, a stalled machine) and comes back finds
// its lease lapsed and waits for its next heartbeat, which tells it
// whether it is still alive or was fenced.
const ProcessLease = ProcessDeadAfter - HeartbeatEvery

// ErrFenced is returned to a job of a process that was declared dead while
// it ran (its heartbeat stopped for ProcessDeadAfter and another process
// rescued its jobs): another attempt owns the job's work now, so this one
// must not send anything more. It is a plain error, not river.JobCancel:
// the job may be running in another process, and a cancelled send job's
// deliveries are handed to a fresh job by the sweep.
var ErrFenced = errors.New("this process was presumed dead and its jobs were taken over")

// lease is a process's right to send: its epoch (incarnation) and until
// when its last heartbeat holds. A heartbeat refused because the process
// was declared dead fences the epoch: every job started under it is
// cancelled and refused, and the process goes on under a new epoch.
type lease struct {
	mu    sync.Mutex
	epoch int64
	until time.Time
	// changed is closed and replaced at each heartbeat outcome, to wake
	// the jobs waiting for one.
	changed chan struct{}
	// jobs cancel the contexts of the jobs running under the epoch, by a
	// key of their own: fence calls them all.
	jobs map[uint64]context.CancelCauseFunc
	next uint64
}

// leaseKey carries a job's lease in its context.
type leaseKey struct{}

// held is what a job's context carries: its process and the epoch it
// started under.
type held struct {
	p     *Process
	epoch int64
}

func (l *lease) init() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
		l.jobs = map[uint64]context.CancelCauseFunc{}
	}
}

// renew extends epoch's lease to until; a heartbeat of an epoch fenced
// meanwhile changes nothing.
func (l *lease) renew(epoch int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch == l.epoch && until.After(l.until) {
		l.until = until
	}
	l.wake()
}

// fence ends epoch: its jobs' contexts are cancelled and the next epoch
// starts without a lease (the next heartbeat gives it one).
func (l *lease) fence(epoch int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch != l.epoch {
		return
	}
	for _, cancel := range l.jobs {
		cancel(ErrFenced)
	}
	clear(l.jobs)
	l.epoch++
	l.until = time.Time{}
	l.wake()
}

// wake tells the waiting jobs that a heartbeat ended; l.mu is held.
func (l *lease) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Work implements rivertype.WorkerMiddleware: every job runs under the
// process's current epoch, its context cancelled when the epoch is
// fenced, and checkLease refuses its sends and claims from then on.
func (p *Process) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	p.lease.init()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l := &p.lease
	l.mu.Lock()
	h := held{p: p, epoch: l.epoch}
	key := l.next
	l.next++
	l.jobs[key] = cancel
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.jobs, key)
		l.mu.Unlock()
	}()
	return doInner(context.WithValue(ctx, leaseKey{}, h))
}

// IsMiddleware implements rivertype.Middleware.
func (p *Process) IsMiddleware() bool { return true }

var _ rivertype.WorkerMiddleware = (*Process)(nil)

// checkLease returns nil when the job whose context ctx is may send: its
// process's epoch is the one it started under and the lease holds. When
// the lease has lapsed (the heartbeat is late: the process was frozen or
// starved) it waits for the next heartbeat's outcome: renewed, the job
// goes on; fenced, ErrFenced. A context without a lease (a test's worker
// run without a Process) may always send.
func checkLease(ctx context.Context) error {
	h, ok := ctx.Value(leaseKey{}).(held)
	if !ok {
		return nil
	}
	l := &h.p.lease
	for {
		l.mu.Lock()
		epoch, until, changed := l.epoch, l.until, l.changed
		l.mu.Unlock()
		if epoch != h.epoch {
			return ErrFenced
		}
		if h.p.now().Before(until) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), ErrFenced) {
				return ErrFenced
			}
			return fmt.Errorf("wait for the process's heartbeat: %w", ctx.Err())
		}
	}
}

// now is the clock the lease is measured on.
func (p *Process) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// reclaim is how old a claim of an earlier attempt of a send job must be
// before this attempt takes it over, chunk by chunk.
type reclaim struct {
	after time.Duration
	// ended: every earlier attempt's process has ended (or was fenced),
	// so the rows claimed before this attempt began are free at once.
	ended bool
	// age is how long ago this attempt began (database clock), measured
	// at since (this process's clock, read before the query: age() errs
	// towards older, which spares more rows, never fewer).
	age   time.Duration
	since time.Time
}

// at returns the stale interval for a claim made now: rows claimed
// before this attempt began when the earlier attempts ended, and never
// rows claimed since (a later attempt of the same job, started because a
// fenced process's end made River retry the job while this one runs, owns
// those); otherwise the ReclaimAfter backstop.
func (r reclaim) at() time.Duration {
	if !r.ended {
		return r.after
	}
	return min(r.after, r.age+time.Since(r.since))
}

// reclaimFor works out the job's reclaim rule at the start of an attempt.
func (w *SendWorker) reclaimFor(ctx context.Context, job *rivertype.JobRow) reclaim {
	r := reclaim{after: w.reclaimAfter(), since: time.Now()}
	ended, age, err := earlierAttemptsEnded(ctx, w.Pool, job.AttemptedBy, job.AttemptedAt, rescuedBy(job.Errors))
	if err != nil {
		w.Logger.WarnContext(ctx, "cannot tell whether earlier attempts ended", slog.Any("error", err))
	}
	r.ended, r.age = ended && job.AttemptedAt != nil, age
	return r
}

// trustedOutcomes returns what a slice's SMTP exchange may record. When
// the job's lease held throughout (checkLease after the exchange: the
// process was not declared dead meanwhile), every outcome. When the
// process was fenced while the slice was out — frozen mid-exchange, its
// connections then broken or timed out by the server — only the messages
// the server accepted: a failure seen by a process presumed dead says
// nothing about the recipient (a "501 bad command" on a stale pipelined
// connection is not a bounce), and its deliveries stay claimed for the
// attempt that took the job over.
func trustedOutcomes(ctx context.Context, out []deliveries.Outcome, hardBounced []int64) ([]deliveries.Outcome, []int64) {
	if !errors.Is(checkLease(ctx), ErrFenced) {
		return out, hardBounced
	}
	kept := out[:0]
	for _, r := range out {
		if r.Status == deliveries.Sent {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// release gives back a reservation of n messages that no outcome batch
// took over.
func (w *SendWorker) release(n int) {
	oc := &w.commits
	oc.mu.Lock()
	oc.uncommitted -= n
	if oc.room != nil {
		close(oc.room)
		oc.room = nil
	}
	oc.mu.Unlock()
}
