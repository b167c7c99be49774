package benchserve

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Settle waits until a freshly started server's start-up jobs have
// finished (the analytics recompute runs on start, once the process is
// River's leader), so they do not share the machine with the timed work.
// A benchmark is a program, not a test: it polls with a deadline.
func Settle(ctx context.Context, pool *pgxpool.Pool) error {
	t0 := time.Now()
	deadline := t0.Add(10 * time.Minute)
	for {
		var pending, recomputed int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('available', 'running', 'retryable') AND scheduled_at <= now()),
				count(*) FILTER (WHERE kind = 'analytics_recompute' AND state = 'completed')
			FROM river_job`).Scan(&pending, &recomputed); err != nil {
			return fmt.Errorf("pending jobs: %w", err)
		}
		if pending == 0 && recomputed > 0 {
			fmt.Printf("server's start-up jobs finished %s after it was ready\n", time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still pending after 10 minutes", pending)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
