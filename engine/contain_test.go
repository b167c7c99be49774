package engine_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/migrations/pgtest"
)

type panicArgs struct{ N int }

func (panicArgs) Kind() string { return "test_panic" }

type panicWorker struct {
	river.WorkerDefaults[panicArgs]
	calls chan int
}

func (w *panicWorker) Work(_ context.Context, job *river.Job[panicArgs]) error {
	w.calls <- job.Attempt
	if job.Args.N > 0 {
		var m map[string]int
		m["boom"] = job.Args.N //nolint:staticcheck // SA5000 is the point: a nil map write, a real runtime panic
	}
	return nil
}

// A job that panics is cancelled after its first attempt with the panic as
// its error; the client (and so the process) keeps working other jobs.
func TestContainPanicsCancelsWithoutRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	w := &panicWorker{calls: make(chan int, 10)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, nil))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		Logger:            logger,
		Middleware:        []rivertype.Middleware{&engine.ContainPanics{Logger: logger}},
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	events, cancel := client.Subscribe(river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobCompleted)
	defer cancel()
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})

	bad, err := client.Insert(ctx, panicArgs{N: 1}, &river.InsertOpts{MaxAttempts: 5})
	require.NoError(t, err)
	ev := waitEvent(t, events, bad.Job.ID)
	require.Equal(t, river.EventKindJobCancelled, ev.Kind)
	require.Equal(t, 1, ev.Job.Attempt)
	require.NotEmpty(t, ev.Job.Errors)
	require.Contains(t, ev.Job.Errors[len(ev.Job.Errors)-1].Error, "test_panic job panicked: assignment to entry in nil map")

	good, err := client.Insert(ctx, panicArgs{N: 0}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, waitEvent(t, events, good.Job.ID).Kind)
	require.Len(t, w.calls, 2) // the panicking job ran once, the good one once
}

func waitEvent(t *testing.T, events <-chan *river.Event, id int64) *river.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.ID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event for job %d", id)
		}
	}
}
