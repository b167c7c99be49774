package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/campaigns/analytics"
)

// timeSummaries reads the analytics summary (what GET /analytics/summary
// and the dashboard show, and what bench/scale polls for a recompute's end)
// times times and prints the median wall time and the client backends' CPU
// per read and per contact.
func timeSummaries(ctx context.Context, pool *pgxpool.Pool, times, contacts int) {
	if times <= 0 {
		return
	}
	walls := make([]time.Duration, 0, times)
	before := clientBackends(ctx, pool)
	for range times {
		t0 := time.Now()
		_, err := analytics.GetSummary(ctx, pool, 10)
		check(err)
		walls = append(walls, time.Since(t0))
	}
	cpu := clientBackends(ctx, pool).since(before) / time.Duration(times)
	slices.Sort(walls)
	fmt.Printf("summary read ×%d: median %s (min %s, max %s); client backends' cpu %s per read = %.2f µs per contact; load average %s\n",
		times, walls[len(walls)/2].Round(time.Millisecond), walls[0].Round(time.Millisecond), walls[len(walls)-1].Round(time.Millisecond),
		cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(contacts), benchdb.LoadAvg())
}
