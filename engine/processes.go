package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Heartbeat timing. A process writes its heartbeat every HeartbeatEvery;
// one silent for ProcessDeadAfter (five missed beats) is dead: its running
// jobs are made available again and the deliveries they had claimed may be
// reclaimed at once. River's RescueStuckJobsAfter stays as the backstop for
// a process that is alive but stuck.
const (
	HeartbeatEvery   = 2 * time.Second
	ProcessDeadAfter = 10 * time.Second
)

// NewProcessID returns an id for this process: host, pid and a random
// suffix, unique across restarts. It is the River client's ID, so
// river_job.attempted_by names the process that ran each attempt.
func NewProcessID() string {
	host, _ := os.Hostname()
	if len(host) > 60 { // River takes ids of up to 100 characters
		host = host[:60]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// SessionName is the application_name of process id's database sessions
// (at most 63 bytes, PostgreSQL's limit, keeping the id's unique end: its
// pid and random suffix). RescueDeadProcesses ends the sessions of a
// process it declares dead by this name.
func SessionName(id string) string {
	const prefix, limit = "peykar ", 63
	if len(prefix)+len(id) > limit {
		id = id[len(id)-(limit-len(prefix)):]
	}
	return prefix + id
}

// Process is this process's entry in the processes table: it registers,
// heartbeats and, on every beat, rescues the running jobs of processes
// that died. Every process (web and worker) runs one, so a dead worker is
// noticed as long as any process lives; row locks make each job rescued
// once whichever process sweeps.
//
// It also fences this process's own jobs (fence.go): as River middleware
// it runs every job under the process's lease, which the heartbeat
// renews; a process that was declared dead while frozen or starved finds
// its heartbeat refused, cancels the jobs it was running and refuses
// their sends, because other processes own them now.
type Process struct {
	Pool *pgxpool.Pool
	// ID is the River client's ID (river.Config.ID).
	ID string
	// Mode is PEYKAR_MODE: all, web or worker.
	Mode   string
	Logger *slog.Logger
	// Now is the clock the lease is measured on (default time.Now, whose
	// monotonic reading ignores wall-clock steps; tests inject one).
	Now func() time.Time

	lease lease
	// conn is the heartbeat's own connection: a pool busy with job work
	// must not make the heartbeat late.
	conn *pgx.Conn
	// lastBeat is when the previous heartbeat was sent, to log late ones.
	lastBeat time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start registers the process and starts its heartbeat and its sweep of
// dead processes. Call it before the River client starts, so no job is
// attempted under an unknown id.
func (p *Process) Start(ctx context.Context) error {
	p.lease.init()
	sent := p.now()
	if err := p.register(ctx); err != nil {
		return err
	}
	p.lease.renew(0, sent.Add(ProcessLease))
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run(context.WithoutCancel(ctx))
	return nil
}

func (p *Process) register(ctx context.Context) error {
	host, _ := os.Hostname()
	if _, err := p.Pool.Exec(ctx, queries.Get("process_register"), p.ID, p.Mode, host, os.Getpid()); err != nil {
		return fmt.Errorf("register process: %w", err)
	}
	return nil
}

// run beats every HeartbeatEvery on its own goroutine and connection; the
// sweep runs on another goroutine, so a slow sweep never delays a beat.
func (p *Process) run(ctx context.Context) {
	defer close(p.done)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		p.sweepLoop(ctx)
	}()
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			<-swept
			if p.conn != nil {
				_ = p.conn.Close(ctx)
			}
			return
		case <-t.C:
		}
		p.beat(ctx)
	}
}

// beat writes the heartbeat. Renewed, the lease holds ProcessLease from
// when the beat was sent; failed, the lease lapses by itself and sends
// wait; refused (a sweep declared this process dead), the epoch's jobs
// are fenced and the process registers again as a new incarnation.
func (p *Process) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, HeartbeatEvery)
	defer cancel()
	p.lease.mu.Lock()
	epoch := p.lease.epoch
	p.lease.mu.Unlock()
	sent := p.now()
	if !p.lastBeat.IsZero() && sent.Sub(p.lastBeat) > 2*HeartbeatEvery {
		p.Logger.WarnContext(ctx, "heartbeat late", slog.Duration("since_previous", sent.Sub(p.lastBeat)),
			slog.Duration("dead_after", ProcessDeadAfter))
	}
	p.lastBeat = sent
	alive, err := p.heartbeat(ctx)
	if err != nil {
		p.Logger.WarnContext(ctx, "process heartbeat failed", slog.Any("error", err))
		p.lease.renew(epoch, time.Time{}) // wakes the waiting jobs: the lease lapses on its own
		return
	}
	if alive {
		p.lease.renew(epoch, sent.Add(ProcessLease))
		return
	}
	p.lease.fence(epoch)
	p.Logger.ErrorContext(ctx, "this process was declared dead (no heartbeat for the dead-worker threshold) and its jobs were taken over: the jobs it was running are cancelled here and send nothing more; it goes on as a new incarnation",
		slog.String("process", p.ID), slog.Duration("dead_after", ProcessDeadAfter))
	sent = p.now()
	if err := p.register(ctx); err != nil {
		p.Logger.WarnContext(ctx, "process registration failed", slog.Any("error", err))
		return
	}
	p.lease.renew(epoch+1, sent.Add(ProcessLease))
}

// heartbeat stamps the process's row on the heartbeat's own connection
// and reports whether the row was still alive.
func (p *Process) heartbeat(ctx context.Context) (bool, error) {
	if p.conn == nil || p.conn.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, p.Pool.Config().ConnConfig.Copy())
		if err != nil {
			return false, fmt.Errorf("connect for the heartbeat: %w", err)
		}
		p.conn = c
	}
	tag, err := p.conn.Exec(ctx, queries.Get("process_heartbeat"), p.ID)
	if err != nil {
		_ = p.conn.Close(ctx)
		p.conn = nil
		return false, fmt.Errorf("heartbeat: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// sweepLoop rescues the running jobs of dead processes every
// HeartbeatEvery until the process stops.
func (p *Process) sweepLoop(ctx context.Context) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		p.sweep(ctx)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

// sweep rescues once; a failure is logged and the next sweep tries again.
func (p *Process) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ProcessDeadAfter)
	defer cancel()
	n, err := RescueDeadProcesses(ctx, p.Pool, ProcessDeadAfter)
	if n > 0 {
		p.Logger.WarnContext(ctx, "rescued the running jobs of dead processes", slog.Int("jobs", n))
	}
	if err != nil {
		p.Logger.WarnContext(ctx, "rescue of dead processes' jobs failed", slog.Any("error", err))
	}
}

// Stop ends the heartbeat and the sweep and marks the process stopped.
// Call it after the River client has stopped: its jobs have finished or
// gone back to the queue.
func (p *Process) Stop(ctx context.Context) error {
	p.once.Do(func() {
		if p.stop != nil {
			close(p.stop)
			<-p.done
		}
	})
	if _, err := p.Pool.Exec(ctx, queries.Get("process_stop"), p.ID); err != nil {
		return fmt.Errorf("mark process stopped: %w", err)
	}
	return nil
}

// rescueError is the error a sweep records on each job it rescues, naming
// the process declared dead (rescuedBy reads it back).
const rescueError = "process %s stopped heartbeating: job rescued"

// rescuedBy returns the processes that a sweep declared dead while they
// ran the job, from the errors it recorded on it.
func rescuedBy(errs []rivertype.AttemptError) []string {
	prefix, suffix, _ := strings.Cut(rescueError, "%s")
	var ids []string
	for _, e := range errs {
		if rest, ok := strings.CutPrefix(e.Error, prefix); ok {
			if id, ok := strings.CutSuffix(rest, suffix); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// RescueDeadProcesses makes the running jobs of processes that stopped or
// have not heartbeaten for deadAfter available again at once (discarded
// when they have used their last attempt, as River's rescuer does), and
// forgets processes gone for a day. It returns how many jobs it rescued.
// Then it ends the database sessions of the processes it declared dead
// (by SessionName): a process frozen or cut off from the network inside a
// transaction would otherwise keep that transaction's row locks (the
// campaign's rollup rows, the deliveries it was recording) until the
// operating system gives up on its connection, hours later, and every
// other process's commits on those rows would wait as long. What that
// transaction had not committed is rolled back: its messages count as not
// sent and go again, within the crash window.
//
// The jobs are changed with River's own driver statement (JobRescueMany,
// what River's rescuer runs) rather than with SQL of ours, on rows this
// transaction has locked while they were still running: a job that
// finished meanwhile is not touched. River's Client.JobRetry cannot do
// it: it leaves running jobs alone.
func RescueDeadProcesses(ctx context.Context, pool *pgxpool.Pool, deadAfter time.Duration) (int, error) {
	n := 0
	var dead []string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Declared dead first, under their row locks: a late heartbeat
		// either wins (the process is left alone) or is refused, and a
		// refused process fences its jobs (fence.go).
		rows, err := tx.Query(ctx, queries.Get("process_declare_dead"), deadAfter.String())
		if err != nil {
			return err
		}
		if dead, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, queries.Get("orphaned_jobs"), deadAfter.String())
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		// The statement changes only rows still running and attempted
		// before the horizon: these rows are locked and their process is
		// dead, so any horizon after now covers them.
		params := &riverdriver.JobRescueManyParams{StuckHorizon: now.Add(time.Hour)}
		for rows.Next() {
			var id int64
			var attempt, maxAttempts int
			var proc string
			if err := rows.Scan(&id, &attempt, &maxAttempts, &proc); err != nil {
				rows.Close()
				return err
			}
			e, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: attempt,
				Error: fmt.Sprintf(rescueError, proc)})
			if err != nil {
				rows.Close()
				return err
			}
			params.ID = append(params.ID, id)
			params.Error = append(params.Error, e)
			params.ScheduledAt = append(params.ScheduledAt, now)
			if attempt >= maxAttempts {
				params.FinalizedAt = append(params.FinalizedAt, &now)
				params.State = append(params.State, string(rivertype.JobStateDiscarded))
			} else {
				params.FinalizedAt = append(params.FinalizedAt, nil)
				params.State = append(params.State, string(rivertype.JobStateAvailable))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, queries.Get("process_prune")); err != nil {
			return err
		}
		if n = len(params.ID); n == 0 {
			return nil
		}
		_, err = riverpgxv5.New(nil).UnwrapExecutor(tx).JobRescueMany(ctx, params)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rescue dead processes' jobs: %w", err)
	}
	if len(dead) == 0 {
		return n, nil
	}
	names := make([]string, len(dead))
	for i, id := range dead {
		names[i] = SessionName(id)
	}
	if _, err := pool.Exec(ctx, queries.Get("process_sessions_end"), names); err != nil {
		return n, fmt.Errorf("end the sessions of dead processes %v: %w", dead, err)
	}
	return n, nil
}

// earlierAttemptsEnded reports whether every earlier attempt of a job has
// ended for sure, so that the deliveries they claimed may be reclaimed at
// once: each ran in another process that has since stopped or was
// declared dead by a sweep (which fences it: fence.go). attemptedBy is the
// job's AttemptedBy, the current attempt's process last. An attempt by
// this same process, or by a process the table does not know, is not
// known to have ended. age is how long ago attemptedAt was on the
// database's clock (0 when attemptedAt is nil). fenced are processes known
// to have been declared dead while they ran the job (rescuedBy).
func earlierAttemptsEnded(ctx context.Context, db DBTX, attemptedBy []string, attemptedAt *time.Time, fenced []string) (ended bool, age time.Duration, err error) {
	if len(attemptedBy) < 2 {
		return false, 0, nil
	}
	self := attemptedBy[len(attemptedBy)-1]
	prev := slices.Clone(attemptedBy[:len(attemptedBy)-1])
	slices.Sort(prev)
	prev = slices.Compact(prev)
	// A process whose attempt a sweep rescued was declared dead then: every
	// job it had started was fenced, even if it came back since under the
	// same id (a new incarnation, possibly this very process).
	prev = slices.DeleteFunc(prev, func(id string) bool { return slices.Contains(fenced, id) })
	if slices.Contains(prev, self) {
		return false, 0, nil
	}
	var n int
	var ago *time.Duration
	if err := db.QueryRow(ctx, queries.Get("processes_ended"), prev, attemptedAt).Scan(&n, &ago); err != nil {
		return false, 0, fmt.Errorf("check earlier attempts: %w", err)
	}
	if ago != nil {
		age = max(*ago, 0)
	}
	return n == len(prev), age, nil
}

// staleAfter is how old a claim of an earlier attempt of the job must be
// before this attempt takes it over: at once when every earlier attempt's
// process has ended (earlierAttemptsEnded), else reclaimAfter. A send job
// uses reclaimFor instead, which also spares the claims of a later
// attempt running alongside.
func (w *SendWorker) staleAfter(ctx context.Context, attemptedBy []string) time.Duration {
	ended, _, err := earlierAttemptsEnded(ctx, w.Pool, attemptedBy, nil, nil)
	if err != nil {
		w.Logger.WarnContext(ctx, "cannot tell whether earlier attempts ended", slog.Any("error", err))
	}
	if ended {
		return 0
	}
	return w.reclaimAfter()
}
