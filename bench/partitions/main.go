// Command partitions measures the cost of events' monthly partitions
// (migration 038): migrating an existing unpartitioned events table of
// -events rows spread over -months months, then letting one month go by
// retention (a DROP TABLE of its partition) against deleting the next
// month's rows one by one. It reports wall time and CPU time (this process
// and PostgreSQL's), which depends less on a shared machine's load.
//
//	go run ./bench/partitions -events 1000000 -months 12
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/tracking"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	events := flag.Int("events", 1_000_000, "events in the table before migration 038")
	months := flag.Int("months", 12, "months the events are spread over (ending this month)")
	flag.Parse()
	ctx := context.Background()
	c, err := benchdb.OpenCluster(ctx, 4)
	if err != nil {
		return err
	}
	defer c.Close()
	pool := c.Pool
	fmt.Printf("machine: load average %s\n", benchdb.LoadAvg())

	// The schema as migration 037 left it, with events in it.
	if _, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		return err
	}
	if err := migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 37); err != nil {
		return err
	}
	this := tracking.MonthStart(time.Now())
	first := this.AddDate(0, -*months+1, 0)
	span := this.AddDate(0, 1, 0).Sub(first).Seconds()
	start := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, machine, user_agent, ip, occurred_at)
		SELECT g / 3, g % 50, 'main', g / 3, (ARRAY['open', 'click', 'open', 'click', 'conversion'])[g % 5 + 1],
			CASE WHEN g % 5 IN (1, 3) THEN g % 4 END, g % 7 = 0,
			'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
			'192.0.2.1'::inet + (g % 250), $2::timestamptz + (g::float8 / $1 * $3) * interval '1 second'
		FROM generate_series(1, $1) g`, *events, first, span); err != nil {
		return fmt.Errorf("fill events: %w", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		return err
	}
	var size int64
	if err := pool.QueryRow(ctx, "SELECT pg_total_relation_size('events')").Scan(&size); err != nil {
		return err
	}
	fmt.Printf("events at 037: %d rows over %d months, %.0f MB with indexes (filled in %s)\n",
		*events, *months, float64(size)/1e6, time.Since(start).Round(time.Millisecond))

	cpu0, t0 := benchdb.SampleCPU(c.DataDir), time.Now()
	if err := migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	wall, cpu := time.Since(t0), benchdb.SampleCPU(c.DataDir).Sub(cpu0)
	perM := float64(time.Second) * 1e6 / float64(*events)
	fmt.Printf("migration 038: %s wall, PostgreSQL CPU %s; per million rows %s wall, %s CPU\n",
		wall.Round(time.Millisecond), cpu.DB.Round(time.Millisecond),
		time.Duration(float64(wall)*perM/float64(time.Second)).Round(time.Millisecond),
		time.Duration(float64(cpu.DB)*perM/float64(time.Second)).Round(time.Millisecond))

	// Retention: the oldest month goes as a table.
	var inFirst int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE occurred_at < $1", first.AddDate(0, 1, 0)).Scan(&inFirst); err != nil {
		return err
	}
	keep := 365 * 24 * time.Hour
	cpu0, t0 = benchdb.SampleCPU(c.DataDir), time.Now()
	d, err := tracking.DropExpiredPartitions(ctx, pool, first.AddDate(0, 1, 0).Add(keep), keep)
	if err != nil {
		return err
	}
	wall, cpu = time.Since(t0), benchdb.SampleCPU(c.DataDir).Sub(cpu0)
	fmt.Printf("retention drop of %v (%d events): %s wall, PostgreSQL CPU %s\n", d.Partitions, inFirst,
		wall.Round(time.Microsecond), cpu.DB.Round(time.Microsecond))

	// The same amount of history deleted row by row, for comparison.
	second := first.AddDate(0, 1, 0)
	cpu0, t0 = benchdb.SampleCPU(c.DataDir), time.Now()
	tag, err := pool.Exec(ctx, "DELETE FROM events WHERE occurred_at >= $1 AND occurred_at < $2", second, second.AddDate(0, 1, 0))
	if err != nil {
		return err
	}
	wall, cpu = time.Since(t0), benchdb.SampleCPU(c.DataDir).Sub(cpu0)
	fmt.Printf("DELETE of the next month's %d events instead: %s wall, PostgreSQL CPU %s (and a vacuum to follow)\n",
		tag.RowsAffected(), wall.Round(time.Millisecond), cpu.DB.Round(time.Millisecond))
	fmt.Printf("load average after: %s\n", benchdb.LoadAvg())
	return nil
}
