// Command segments measures segment counts with event conditions (issue
// 19): it plants N contacts, about ten transactions each over a year
// (purchases, abandoned carts, page views, sign-ups; generate_series) and
// a finished campaign with opens and clicks, then times segments.Count of
// event rules, each -runs times, and prints the median, the fastest and
// the slowest. With -index it times them again after adding an index on
// transactions with the columns given, to see whether one pays; -compare
// first times them without migration 032's index; -explain prints each
// SQL count's plan.
//
//	go run ./bench/segments -n 100000 -events 1000000 -runs 7 -index "type, occurred_at"
//
// It uses DATABASE_URL, or starts a throwaway embedded PostgreSQL (fsync
// off, as the tests' cluster).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchgen"
	"github.com/peykar/peykar/campaigns/segments"
)

// rules are the timed segments: the examples, sums and counts over
// longer windows, engagement, a rule mixing a contact field with events,
// and one the Go path runs (an attribute of the last event).
var rules = []string{
	`events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0`,
	`events.last("purchase").value > 100`,
	`events.sum("purchase", "value", "30d") >= 200`,
	`events.count("page_view", "30d") >= 2`,
	`contact.attributes.city == "Tehran" && events.count("purchase", "90d") > 0`,
	`opened("Nowruz sale") && !clicked("Nowruz sale")`,
	`events.last("purchase").attributes.sku == "A-7"`,
}

func main() {
	n := flag.Int("n", 100000, "contacts")
	events := flag.Int("events", 1000000, "transactions (contact events)")
	runs := flag.Int("runs", 7, "timed counts per rule")
	index := flag.String("index", "", `then add an index on transactions with these columns (such as "contact_id, type, occurred_at") and time again`)
	explain := flag.Bool("explain", false, "print the plan (EXPLAIN ANALYZE) of each SQL count")
	compare := flag.Bool("compare", false, "first time the rules without migration 032's index on transactions (type, occurred_at), then with it")
	flag.Parse()
	ctx := context.Background()
	pool, cleanup, err := benchdb.Open(ctx, 8)
	check(err)
	defer cleanup()
	check(plant(ctx, pool, *n, *events))
	if *compare {
		_, err := pool.Exec(ctx, `DROP INDEX transactions_type_occurred_idx`)
		check(err)
		fmt.Printf("\nwithout the index on transactions (type, occurred_at), %d runs each (median, fastest, slowest):\n", *runs)
		timeRules(ctx, pool, *runs, *explain)
		_, err = pool.Exec(ctx, `CREATE INDEX transactions_type_occurred_idx ON transactions (type, occurred_at)`)
		check(err)
		_, err = pool.Exec(ctx, `ANALYZE transactions`)
		check(err)
	}
	fmt.Printf("\nsegment counts, %d runs each (median, fastest, slowest):\n", *runs)
	timeRules(ctx, pool, *runs, *explain)
	if *index != "" {
		t0 := time.Now()
		_, err := pool.Exec(ctx, `CREATE INDEX bench_transactions_idx ON transactions (`+*index+`)`)
		check(err)
		_, err = pool.Exec(ctx, `ANALYZE transactions`)
		check(err)
		fmt.Printf("\nwith an index on transactions (%s) (built in %s):\n", *index, time.Since(t0).Round(time.Millisecond))
		timeRules(ctx, pool, *runs, *explain)
	}
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
}

// plant stores n contacts, a finished campaign "Nowruz sale" to the last
// half of them, and m transactions spread over contacts and the past year.
// Values come from a multiplicative hash of the row number, so a run is
// repeatable.
func plant(ctx context.Context, pool *pgxpool.Pool, n, m int) error {
	t0 := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email, attributes)
		SELECT 'user' || g || '@example.com', jsonb_build_object('city', (ARRAY['Tehran','Shiraz','Berlin','Paris','London'])[1 + g % 5])
		FROM generate_series(1, $1::int) g`, n); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	if _, err := benchgen.Campaign(ctx, pool, "Nowruz sale", n/2, n, n-n/2, false); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO transactions (contact_id, type, value, currency, attributes, occurred_at)
		SELECT 1 + h % $1::int,
			(ARRAY['page_view','page_view','page_view','page_view','purchase','purchase','cart_abandoned','cart_abandoned','signup','review'])[1 + (h / 7) % 10],
			((h / 71) % 30000) / 100.0, 'EUR',
			jsonb_build_object('sku', 'A-' || (h / 13) % 50, 'items', 1 + (h / 17) % 4),
			now() - ((h / 101) % (365 * 86400)) * interval '1 second'
		FROM (SELECT (g::bigint * 2654435761) % 4294967291 AS h FROM generate_series(1, $2::int) g) x`, n, m); err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	var size string
	if err := pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('transactions'))`).Scan(&size); err != nil {
		return err
	}
	fmt.Printf("planted %d contacts, %d transactions (%s with indexes), a campaign to %d contacts in %s\n",
		n, m, size, n/2, time.Since(t0).Round(time.Millisecond))
	return nil
}

func timeRules(ctx context.Context, pool *pgxpool.Pool, runs int, explain bool) {
	for _, rule := range rules {
		c, err := segments.CompileSegment(rule)
		check(err)
		check(c.CheckCampaigns(ctx, pool))
		var times []time.Duration
		var count int64
		for range runs {
			t0 := time.Now()
			count, err = segments.Count(ctx, pool, c)
			check(err)
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		path := "SQL"
		if !c.Translatable() {
			path = "Go"
		}
		fmt.Printf("%8s %8s %8s  %3s  %7d  %s\n", ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), path, count, rule)
		if where, args, ok := c.SQL(time.Now(), 0); ok && explain {
			rows, err := pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM contacts c WHERE c.status <> 'erased' AND `+where, args...)
			check(err)
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			check(err)
			for _, line := range plan {
				fmt.Println("        " + line)
			}
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func check(err error) {
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}
