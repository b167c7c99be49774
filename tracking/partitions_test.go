package tracking

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// currentMonths leaves a test database with exactly this month and the
// PartitionAhead after it, whenever its template was migrated (a template
// on a TEST_DATABASE_URL server may be months old).
func currentMonths(t *testing.T, pool Beginner) {
	t.Helper()
	ctx := context.Background()
	_, err := EnsurePartitions(ctx, pool, time.Now(), PartitionAhead)
	require.NoError(t, err)
	_, err = DropExpiredPartitions(ctx, pool, MonthStart(time.Now()), time.Nanosecond)
	require.NoError(t, err)
}

// TestEnsurePartitionsMovesStrayRowsAndRunsOnce: a row dated past the
// months made lands in the default partition; the job, later, makes its
// month and moves it there; a second run and four concurrent runs make
// each month once.
func TestEnsurePartitionsMovesStrayRowsAndRunsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	currentMonths(t, pool)
	this := MonthStart(time.Now())
	f := seedCampaign(t, pool, 1, this)
	stray := this.AddDate(0, 5, 3)
	var id int64
	var part string
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, occurred_at)
		SELECT id, campaign_id, step, contact_id, 'conversion', $2 FROM deliveries WHERE id = $1
		RETURNING id, tableoid::regclass::text`, f.deliveries[0], stray).Scan(&id, &part))
	require.Equal(t, DefaultPartition, part, "no month five ahead yet")
	st, err := ReadPartitionStats(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, PartitionStats{Months: 4, Oldest: this, Newest: this.AddDate(0, 4, 0), DefaultRows: 1}, st)

	later := this.AddDate(0, 2, 0)
	created, err := EnsurePartitions(ctx, pool, later, PartitionAhead)
	require.NoError(t, err)
	require.Equal(t, []string{PartitionName(this.AddDate(0, 4, 0)), PartitionName(stray)}, created)
	require.NoError(t, pool.QueryRow(ctx, `SELECT tableoid::regclass::text FROM events WHERE id = $1`, id).Scan(&part))
	require.Equal(t, PartitionName(stray), part, "the stray row moved into its month")
	st, err = ReadPartitionStats(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, PartitionStats{Months: 6, Oldest: this, Newest: this.AddDate(0, 6, 0)}, st)

	created, err = EnsurePartitions(ctx, pool, later, PartitionAhead)
	require.NoError(t, err)
	require.Empty(t, created, "idempotent")

	// Four processes at once: each month is made by exactly one of them.
	var mu sync.Mutex
	var all []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c, err := EnsurePartitions(ctx, pool, this.AddDate(0, 6, 0), PartitionAhead)
			mu.Lock()
			defer mu.Unlock()
			require.NoError(t, err)
			all = append(all, c...)
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []string{PartitionName(this.AddDate(0, 6, 0)), PartitionName(this.AddDate(0, 7, 0)),
		PartitionName(this.AddDate(0, 8, 0)), PartitionName(this.AddDate(0, 9, 0))}, all)
}

// TestRetentionDropsAMonthAndKeepsTheReport: with a one-year retention, a
// month of events 13 months old (100,000 rows, and the writer's events of
// a campaign) is dropped as a table; the campaign's report, its people and
// the contacts' stats are exactly as before; the recent month is kept; a
// stray old row in the default partition is deleted. The drop's time is
// logged, not asserted.
func TestRetentionDropsAMonthAndKeepsTheReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	this := MonthStart(time.Now())
	old := this.AddDate(0, -13, 0)
	created, err := EnsurePartitions(ctx, pool, old, 0)
	require.NoError(t, err)
	require.Equal(t, []string{PartitionName(old)}, created)

	f := seedCampaign(t, pool, 9, old.AddDate(0, 0, -1))
	svc := newService(t, pool)
	recordMonth(t, svc, f, old)
	recordMonth(t, svc, f, this)
	require.NoError(t, svc.Close(ctx))
	_, err = pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, machine, occurred_at)
		SELECT d.id, d.campaign_id, d.step, d.contact_id, 'open', true, $2::timestamptz + g * interval '20 seconds'
		FROM deliveries d, generate_series(1, 100000 / 9 + 1) g WHERE d.campaign_id = $1`, f.campaign, old)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, occurred_at)
		SELECT id, campaign_id, step, contact_id, 'open', $2 FROM deliveries WHERE id = $1`, f.deliveries[0], old.AddDate(0, -1, 0))
	require.NoError(t, err)
	var inOld, inDefault int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE tableoid::regclass::text = $1),
		count(*) FILTER (WHERE tableoid::regclass::text = $2) FROM events`, PartitionName(old), DefaultPartition).Scan(&inOld, &inDefault))
	require.GreaterOrEqual(t, inOld, int64(100000))
	require.Equal(t, int64(1), inDefault)
	_, err = pool.Exec(ctx, `ANALYZE events`)
	require.NoError(t, err)
	before := snapshot(t, pool, f.campaign)

	now := this.AddDate(0, 0, 10)
	start := time.Now()
	d, err := DropExpiredPartitions(ctx, pool, now, 365*24*time.Hour)
	took := time.Since(start)
	require.NoError(t, err)
	t.Logf("retention drop of %d events (one month) took %s", inOld, took)
	require.Equal(t, Dropped{Partitions: []string{PartitionName(old)}, DefaultRows: 1}, d)

	after := snapshot(t, pool, f.campaign)
	require.Equal(t, before.Report, after.Report, "the report reads the rollups: unchanged")
	require.Equal(t, before.People, after.People, "the people and the deliveries' firsts: unchanged")
	require.Equal(t, before.Contacts, after.Contacts, "the contacts' stats: unchanged")
	require.NotEqual(t, before.Events, after.Events)
	var left, leftOld int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE occurred_at < $1) FROM events`, this).Scan(&left, &leftOld))
	require.Equal(t, int64(9+9+3), left, "this month's events are kept")
	require.Zero(t, leftOld)

	d, err = DropExpiredPartitions(ctx, pool, now, 365*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, Dropped{}, d, "nothing more to drop")
	d, err = DropExpiredPartitions(ctx, pool, now.AddDate(5, 0, 0), 0)
	require.NoError(t, err)
	require.Equal(t, Dropped{}, d, "no retention: everything is kept")
}

// TestClickInANewMonthSeesTheOldMonthsClick: the writer's read of a
// delivery's earlier clicks is bounded by its first click (so older months
// are pruned), and still finds a click months before: a second click of
// the same link counts as a click, not as another clicker of the link.
func TestClickInANewMonthSeesTheOldMonthsClick(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	this := MonthStart(time.Now())
	old := this.AddDate(0, -3, 0)
	_, err := EnsurePartitions(ctx, pool, old, 0)
	require.NoError(t, err)
	f := seedCampaign(t, pool, 1, old.AddDate(0, 0, -1))
	svc := newService(t, pool)
	defer func() { require.NoError(t, svc.Close(ctx)) }()
	for _, at := range []time.Time{old.Add(time.Hour), time.Now()} {
		_, err := svc.Record(ctx, Event{Type: TypeClick, DeliveryID: f.deliveries[0], LinkIdx: 0, UserAgent: browserUA, At: at})
		require.NoError(t, err)
	}
	sum := func(metric string) int64 { return humanTotal(t, pool, f.campaign, metric) }
	require.Equal(t, int64(2), sum(MetricClicks))
	require.Equal(t, int64(1), sum(MetricLinkUniqueClicks), "one clicker of the link, whichever month")
	require.Equal(t, int64(1), sum(MetricUniqueClicks))
}

// humanTotal is the campaign's people-made count of metric in rollup_totals.
func humanTotal(t *testing.T, pool *pgxpool.Pool, campaign int64, metric string) (n int64) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT coalesce(sum(count), 0) FROM rollup_totals
		WHERE campaign_id = $1 AND metric = $2 AND NOT machine`, campaign, metric).Scan(&n))
	return n
}
