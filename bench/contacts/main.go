// Command contacts measures the contacts package at scale: it generates a
// CSV of N contacts with realistic attributes, imports it (COPY + upsert
// batches, as POST /contacts/import's job does), fills in behavioural stats,
// then times segment counts for rules that translate to SQL and for rules
// evaluated in Go, and a full MatchPage walk. It reports rows/s, latencies
// and the process's resident memory along the way.
//
//	go run ./bench/contacts -n 1000000
//
// It uses DATABASE_URL, or starts a throwaway embedded PostgreSQL.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
)

func main() {
	n := flag.Int("n", 1000000, "contacts")
	runs := flag.Int("runs", 5, "timed runs per segment count")
	reuse := flag.Bool("reuse", false, "with DATABASE_URL: skip generating and importing when contacts already has rows (to time counts again)")
	only := flag.String("rules", "", "time only the rules whose index (0-based, comma separated) is listed")
	bulkStats := flag.Bool("bulkstats", false, "fill the stats with one UPDATE of every row (a table twice its live size) instead of in ten shares with VACUUM between")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run (import and counts) to this file")
	flag.Parse()
	ctx := context.Background()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer func() { pprof.StopCPUProfile(); check(f.Close()) }()
	}
	pool, cleanup, err := benchdb.Open(ctx, 8)
	check(err)
	defer cleanup()
	meter := newCPUMeter(ctx, pool)
	var have int64
	if *reuse {
		check(pool.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&have))
	}
	if have == 0 {
		importAndFill(ctx, pool, meter, *n, *bulkStats)
	}
	counts(ctx, pool, meter, *runs, *only)
	benchdb.PrintStatements(ctx, pool, os.Stdout)
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
	fmt.Printf("RSS at the end: %.0f MB; peak RSS (VmHWM): %.0f MB; Go heap in use: %.0f MB\n", benchdb.RSS(), benchdb.PeakRSS(), heapMB())
}

// importAndFill generates a CSV of n contacts, imports it and fills in
// behavioural stats.
func importAndFill(ctx context.Context, pool *pgxpool.Pool, meter cpuMeter, n int, bulkStats bool) {
	dir, err := os.MkdirTemp("", "contacts-bench")
	check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "contacts.csv")
	t0 := time.Now()
	size, bad, dups := writeCSV(path, n)
	fmt.Printf("generated %s: %d rows (%d invalid, %d repeated addresses), %.1f MB in %s\n",
		filepath.Base(path), n, bad, dups, float64(size)/1e6, time.Since(t0).Round(time.Millisecond))
	fmt.Printf("RSS after generating: %.0f MB\n", benchdb.RSS())

	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	t0 = time.Now()
	c0 := meter.sample()
	var lastRSS float64
	res, err := contacts.ImportFile(ctx, pool, path, contacts.ImportOptions{Mode: contacts.ModeUpsert}, func(contacts.Progress) { lastRSS = max(lastRSS, benchdb.RSS()) })
	check(err)
	took := time.Since(t0)
	fmt.Printf("import: %d rows in %s → %.0f rows/s (inserted %d, merged %d, rejected %d); max RSS during import %.0f MB\n",
		res.Total, took.Round(time.Millisecond), float64(res.Total)/took.Seconds(), res.Inserted, res.Merged, res.RejectedCount, lastRSS)
	used := meter.sample().sub(c0)
	fmt.Printf("  %s → %.1f µs of CPU per row; 2 idle cores would give ≈ %.0f rows/s\n", used,
		float64((used.self+used.pg).Microseconds())/float64(res.Total), float64(res.Total)/((used.self+used.pg).Seconds()/2))

	t0 = time.Now()
	fillStats(ctx, pool, bulkStats)
	fmt.Printf("stats filled and analysed in %s\n", time.Since(t0).Round(time.Millisecond))
}

// counts times segment counts and MatchPage walks.
func counts(ctx context.Context, pool *pgxpool.Pool, meter cpuMeter, runs int, only string) {
	fmt.Printf("load average before the counts: %s\n", benchdb.LoadAvg())

	rules := []string{
		`contact.attributes.city == "Tehran" && stats.opens >= 3`,
		`days_since(stats.last_open_at) <= 30 && has_tag("vip")`,
		`contact.email endsWith "@gmail.com" || stats.revenue > 200`,
		`len(contact.tags) >= 2 && contact.attributes.plan in ["pro", "team"]`,
		// Go-evaluated: a closure and arithmetic do not translate.
		`any(contact.tags, {# startsWith "news"}) || stats.opens + stats.clicks > 9`,
		`any(contact.tags, {# startsWith "news"}) || contact.attributes.age + stats.opens > 80`,
		// Go-evaluated with a SQL prefilter (the translatable conjunct).
		`contact.attributes.city == "Tehran" && any(contact.tags, {# startsWith "news"})`,
	}
	for i, rule := range rules {
		if only != "" && !slices.Contains(strings.Split(only, ","), strconv.Itoa(i)) {
			continue
		}
		c, err := segments.CompileSegment(rule)
		check(err)
		var count int64
		times := make([]time.Duration, 0, runs)
		var cpu sample
		for i := range runs + 1 {
			t0 := time.Now()
			c0 := meter.sample()
			count, err = segments.Count(ctx, pool, c)
			check(err)
			if i > 0 { // the first run warms the cache
				times = append(times, time.Since(t0))
				u := meter.sample().sub(c0)
				cpu.self += u.self / time.Duration(runs)
				cpu.pg += u.pg / time.Duration(runs)
			}
		}
		slices.Sort(times)
		path := "Go"
		if c.Translatable() {
			path = "SQL"
		}
		fmt.Printf("count [%s] %s → %d: median %s, min %s, max %s; mean %s\n", path, rule, count,
			times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), cpu)
	}

	if only != "" {
		return
	}
	for _, rule := range []string{rules[0], rules[4]} { // one SQL, one Go
		c, err := segments.CompileSegment(rule)
		check(err)
		t0 := time.Now()
		var after int64
		var ids, suppressed, pages int
		for {
			p, err := segments.MatchPage(ctx, pool, c, after, 5000)
			check(err)
			ids += len(p.IDs)
			suppressed += p.Suppressed
			pages++
			after = p.Last
			if p.Done {
				break
			}
		}
		fmt.Printf("MatchPage walk (pages of 5000) %s: %d sendable, %d suppressed, %d pages in %s\n",
			rule, ids, suppressed, pages, time.Since(t0).Round(time.Millisecond))
	}
}

var (
	cities    = []string{"Tehran", "Shiraz", "Isfahan", "Tabriz", "Mashhad", "Berlin", "Hamburg", "Paris", "Lyon", "London"}
	plans     = []string{"free", "free", "free", "pro", "team"}
	domains   = []string{"gmail.com", "yahoo.com", "outlook.com", "shop.example", "mail.example.org", "fastmail.com"}
	tagPool   = []string{"vip", "newsletter", "promo", "beta", "churn-risk", "wholesale"}
	consents  = []string{"signup form", "checkout", "import", ""}
	firstName = []string{"Sara", "Ali", "Maryam", "Reza", "Anna", "Jonas", "Léa", "Tom", "Narges", "Omid"}
)

// writeCSV writes n data rows: about 0.2% with an invalid address and 0.3%
// repeating an earlier address.
func writeCSV(path string, n int) (size int64, bad, dups int) {
	f, err := os.Create(path)
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(w, "email,name,tags,consent_source,city,plan,age,signup_channel")
	for i := range n {
		email := fmt.Sprintf("user%d@%s", i, domains[r.IntN(len(domains))])
		switch x := r.IntN(1000); {
		case x < 2:
			email = fmt.Sprintf("user%d@localhost", i)
			bad++
		case x < 5 && i > 0:
			j := r.IntN(i)
			email = fmt.Sprintf("USER%d@%s", j, domains[0])
			dups++ // may or may not repeat, depending on j's domain; counted as intended
		}
		var tags []string
		for _, t := range tagPool {
			if r.IntN(4) == 0 {
				tags = append(tags, t)
			}
		}
		fmt.Fprintf(w, "%s,%s %c.,%s,%s,%s,%s,%d,%s\n", email, firstName[r.IntN(len(firstName))], 'A'+rune(r.IntN(26)),
			strings.Join(tags, ";"), consents[r.IntN(len(consents))], cities[r.IntN(len(cities))], plans[r.IntN(len(plans))],
			18+r.IntN(60), []string{"web", "app", "store"}[r.IntN(3)])
	}
	check(w.Flush())
	st, err := f.Stat()
	check(err)
	check(f.Close())
	return st.Size(), bad, dups
}

// fillStats gives contacts plausible behavioural stats and a few
// suppressions, then analyses the table. The stats arrive as tracking
// writes them in a live system: a share of the contacts at a time with
// (auto)vacuum in between, not one UPDATE rewriting every row at once,
// which would leave the table twice its live size for good (the state of
// the measurements up to 760b53b) and make every scan pay for it. With
// -bulkstats it is that one UPDATE.
func fillStats(ctx context.Context, pool *pgxpool.Pool, bulk bool) {
	// x is read twice, so PostgreSQL materialises it: both tables get the
	// same draws. The counters written per message and per event go to
	// contact_stats (migration 048).
	const set = `WITH x AS (SELECT id AS cid, s, o, LEAST(o, (random() * 3)::int) AS cl, (random() < 0.1)::int AS cv
			FROM (SELECT id, s, LEAST(s, (random() * 8)::int) AS o FROM (SELECT id, (random() * 20)::int AS s FROM contacts
				WHERE id % $1 = $2) a) b),
		st AS (INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
			SELECT cid, s, o, cl, CASE WHEN o > 0 THEN now() - random() * interval '120 days' END,
				CASE WHEN cl > 0 THEN now() - random() * interval '120 days' END FROM x
			ON CONFLICT (contact_id) DO UPDATE SET sent = EXCLUDED.sent, opens = EXCLUDED.opens, clicks = EXCLUDED.clicks,
				last_open_at = EXCLUDED.last_open_at, last_click_at = EXCLUDED.last_click_at)
		UPDATE contacts SET
		conversions = cv, revenue = CASE WHEN cv > 0 THEN round((random() * 300)::numeric, 2) ELSE 0 END,
		last_purchase_at = CASE WHEN cv > 0 THEN now() - random() * interval '365 days' END,
		status = CASE WHEN random() < 0.02 THEN 'unsubscribed' WHEN random() < 0.01 THEN 'bounced' ELSE 'active' END
		FROM x WHERE id = x.cid`
	parts := 10
	if bulk {
		parts = 1
	}
	for i := range parts {
		_, err := pool.Exec(ctx, set, parts, i)
		check(err)
		if parts > 1 {
			_, err = pool.Exec(ctx, `VACUUM contacts, contact_stats`)
			check(err)
		}
	}
	_, err := pool.Exec(ctx, `INSERT INTO suppressions (kind, value, reason) VALUES ('domain', 'mail.example.org', 'bench')`)
	check(err)
	_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts, contact_stats`)
	check(err)
	var size string
	check(pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_relation_size('contacts'))`).Scan(&size))
	fmt.Printf("contacts table: %s\n", size)
}

func heapMB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
