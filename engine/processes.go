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

// Process is this process's entry in the processes table: it registers,
// heartbeats and, on every beat, rescues the running jobs of processes
// that died. Every process (web and worker) runs one, so a dead worker is
// noticed as long as any process lives; row locks make each job rescued
// once whichever process sweeps.
type Process struct {
	Pool *pgxpool.Pool
	// ID is the River client's ID (river.Config.ID).
	ID string
	// Mode is PEYKAR_MODE: all, web or worker.
	Mode   string
	Logger *slog.Logger

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start registers the process and starts its heartbeat. Call it before the
// River client starts, so no job is attempted under an unknown id.
func (p *Process) Start(ctx context.Context) error {
	host, _ := os.Hostname()
	if _, err := p.Pool.Exec(ctx, queries.Get("process_register"), p.ID, p.Mode, host, os.Getpid()); err != nil {
		return fmt.Errorf("register process: %w", err)
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.run(context.WithoutCancel(ctx))
	return nil
}

func (p *Process) run(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		p.beat(ctx)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

// beat writes the heartbeat and sweeps; a failure is logged and the next
// beat tries again.
func (p *Process) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, HeartbeatEvery)
	defer cancel()
	tag, err := p.Pool.Exec(ctx, queries.Get("process_heartbeat"), p.ID)
	if err == nil && tag.RowsAffected() == 0 {
		host, _ := os.Hostname()
		_, err = p.Pool.Exec(ctx, queries.Get("process_register"), p.ID, p.Mode, host, os.Getpid())
	}
	if err != nil {
		p.Logger.WarnContext(ctx, "process heartbeat failed", slog.Any("error", err))
		return
	}
	n, err := RescueDeadProcesses(ctx, p.Pool, ProcessDeadAfter)
	if err != nil {
		p.Logger.WarnContext(ctx, "rescue of dead processes' jobs failed", slog.Any("error", err))
		return
	}
	if n > 0 {
		p.Logger.WarnContext(ctx, "rescued the running jobs of dead processes", slog.Int("jobs", n))
	}
}

// Stop ends the heartbeat and marks the process stopped. Call it after the
// River client has stopped: its jobs have finished or gone back to the
// queue.
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

// RescueDeadProcesses makes the running jobs of processes that stopped or
// have not heartbeaten for deadAfter available again at once (discarded
// when they have used their last attempt, as River's rescuer does), and
// forgets processes gone for a day. It returns how many jobs it rescued.
//
// The jobs are changed with River's own driver statement (JobRescueMany,
// what River's rescuer runs) rather than with SQL of ours, on rows this
// transaction has locked while they were still running: a job that
// finished meanwhile is not touched. River's Client.JobRetry cannot do
// it: it leaves running jobs alone.
func RescueDeadProcesses(ctx context.Context, pool *pgxpool.Pool, deadAfter time.Duration) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, queries.Get("orphaned_jobs"), deadAfter.String())
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
				Error: fmt.Sprintf("process %s stopped heartbeating: job rescued", proc)})
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
	return n, nil
}

// earlierAttemptsEnded reports whether every earlier attempt of a job has
// ended for sure, so that the deliveries they claimed may be reclaimed at
// once: each ran in another process that has since stopped or died (no
// heartbeat for ProcessDeadAfter). attemptedBy is the job's AttemptedBy,
// the current attempt's process last. An attempt by this same process, or
// by a process the table does not know, is not known to have ended.
func earlierAttemptsEnded(ctx context.Context, db DBTX, attemptedBy []string) (bool, error) {
	if len(attemptedBy) < 2 {
		return false, nil
	}
	self := attemptedBy[len(attemptedBy)-1]
	prev := slices.Clone(attemptedBy[:len(attemptedBy)-1])
	slices.Sort(prev)
	prev = slices.Compact(prev)
	if slices.Contains(prev, self) {
		return false, nil
	}
	var n int
	if err := db.QueryRow(ctx, queries.Get("processes_ended"), prev, ProcessDeadAfter.String()).Scan(&n); err != nil {
		return false, fmt.Errorf("check earlier attempts: %w", err)
	}
	return n == len(prev), nil
}

// staleAfter is how old a claim of an earlier attempt of the job must be
// before this attempt takes it over: at once when every earlier attempt's
// process has ended (earlierAttemptsEnded), else reclaimAfter.
func (w *SendWorker) staleAfter(ctx context.Context, attemptedBy []string) time.Duration {
	ended, err := earlierAttemptsEnded(ctx, w.Pool, attemptedBy)
	if err != nil {
		w.Logger.WarnContext(ctx, "cannot tell whether earlier attempts ended", slog.Any("error", err))
	}
	if ended {
		return 0
	}
	return w.reclaimAfter()
}
