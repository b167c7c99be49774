package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/migrations/pgtest"
)

// partitionFixture is a campaign whose deliveries got events through the
// real writer in several months.
type partitionFixture struct {
	campaign   int64
	deliveries []int64
}

// newService starts a tracking service (the group-commit writer) on pool,
// stopped when the test ends (or earlier by the caller).
func newService(t *testing.T, pool *pgxpool.Pool) *Service {
	t.Helper()
	svc, err := NewService(Config{Pool: pool, Signer: testSigner(), Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil)), BatchWait: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(context.Background()))
	return svc
}

// seedCampaign inserts a campaign with one link and n sent deliveries.
func seedCampaign(t *testing.T, pool *pgxpool.Pool, n int, sentAt time.Time) partitionFixture {
	t.Helper()
	ctx := context.Background()
	var f partitionFixture
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('history', 'running', '{}') RETURNING id`).Scan(&f.campaign))
	_, err := pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url) VALUES ($1, 'main', 0, 'https://shop.example/pricing')`, f.campaign)
	require.NoError(t, err)
	for i := range n {
		var contact, delivery int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ($1) RETURNING id`,
			fmt.Sprintf("h%d-%d@example.com", f.campaign, i)).Scan(&contact))
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) VALUES ($1, 'main', $2, 'sent', $3) RETURNING id`,
			f.campaign, contact, sentAt).Scan(&delivery))
		f.deliveries = append(f.deliveries, delivery)
	}
	return f
}

// recordMonth records, through the writer, an open, a click and (for every
// third delivery) a conversion of each delivery on day 3 of month m.
func recordMonth(t *testing.T, svc *Service, f partitionFixture, m time.Time) {
	t.Helper()
	ctx := context.Background()
	ip := netip.MustParseAddr("192.0.2.7")
	for i, d := range f.deliveries {
		at := m.AddDate(0, 0, 2).Add(time.Duration(i) * time.Minute)
		_, err := svc.Record(ctx, Event{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA, IP: ip, At: at})
		require.NoError(t, err)
		_, err = svc.Record(ctx, Event{Type: TypeClick, DeliveryID: d, LinkIdx: 0, UserAgent: browserUA, IP: ip, At: at.Add(time.Minute)})
		require.NoError(t, err)
		if i%3 == 0 {
			_, err = svc.Record(ctx, Event{Type: TypeConversion, DeliveryID: d, Value: 10, Currency: "EUR", At: at.Add(2 * time.Minute)})
			require.NoError(t, err)
		}
	}
}

// historySnapshot is everything migration 038 and a retention drop must
// leave alone (the report's rows, contacts' stats, the people), and the
// events themselves.
type historySnapshot struct {
	Report   string // the campaign report's reads: rollup totals and hourly timeline, as JSON
	People   string // campaign_people and the deliveries' firsts
	Contacts string // the contacts' stats
	Events   string // count and digest of every event row
	PerDeliv string // the deliveries export's per-delivery summary of events
	Sequence string
}

func snapshot(t *testing.T, pool *pgxpool.Pool, campaign int64) historySnapshot {
	t.Helper()
	ctx := context.Background()
	var totals []Total
	var timeline []TimelineRow
	b := &pgx.Batch{}
	QueueTotals(b, campaign, func(r Total) { totals = append(totals, r) })
	QueueTimeline(b, campaign, nil, nil, false, func(r TimelineRow) { timeline = append(timeline, r) }, func() {})
	require.NoError(t, pool.SendBatch(ctx, b).Close())
	sort.Slice(totals, func(i, j int) bool { return fmt.Sprint(totals[i]) < fmt.Sprint(totals[j]) })
	rep, err := json.Marshal(map[string]any{"totals": totals, "timeline": timeline})
	require.NoError(t, err)
	var s historySnapshot
	s.Report = string(rep)
	one := func(q string, args ...any) string {
		var v string
		require.NoError(t, pool.QueryRow(ctx, q, args...).Scan(&v))
		return v
	}
	s.People = one(`SELECT coalesce(string_agg(p::text, ';' ORDER BY contact_id), '') || '|' ||
		(SELECT string_agg(concat_ws(',', id, first_open_at, first_click_at, converted_at), ';' ORDER BY id) FROM deliveries WHERE campaign_id = $1)
		FROM campaign_people p WHERE campaign_id = $1`, campaign)
	// The engagement counters moved from contacts to contact_stats
	// (migration 048): the snapshot reads wherever this version keeps them.
	contactStats := `SELECT string_agg(concat_ws(',', id, opens, clicks, last_open_at, last_click_at), ';' ORDER BY id) FROM contacts`
	if one(`SELECT (to_regclass('contact_stats') IS NOT NULL)::text`) == "true" {
		contactStats = `SELECT string_agg(concat_ws(',', c.id, coalesce(s.opens, 0), coalesce(s.clicks, 0), s.last_open_at, s.last_click_at), ';' ORDER BY c.id)
			FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id`
	}
	s.Contacts = one(contactStats)
	// The columns events had at 037 (migration 053 adds followed and url).
	s.Events = one(`SELECT count(*) || ':' || coalesce(md5(string_agg((e.id, e.delivery_id, e.campaign_id, e.step, e.contact_id, e.type,
		e.link_idx, e.value, e.machine, e.reason, e.user_agent, e.ip, e.occurred_at)::text, ';' ORDER BY id)), '') FROM events e`)
	s.PerDeliv = one(`SELECT coalesce(string_agg(x::text, ';' ORDER BY delivery_id), '') FROM (SELECT delivery_id,
		count(*) FILTER (WHERE type = 'open' AND NOT machine) AS opens, count(*) FILTER (WHERE type = 'click') AS clicks,
		count(*) FILTER (WHERE type = 'conversion') AS conversions, coalesce(sum(value) FILTER (WHERE type = 'conversion'), 0) AS revenue
		FROM events WHERE campaign_id = $1 GROUP BY delivery_id) x`, campaign)
	s.Sequence = one(`SELECT last_value || ',' || is_called FROM events_id_seq`)
	return s
}

// indexDefs are events' indexes other than the key, by name, with the
// table's name and ONLY taken out (a partitioned table's definitions say
// ON ONLY).
func indexDefs(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexname, regexp_replace(indexdef, ' ON (ONLY )?\S+ ', ' ON events ')
		FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'`)
	require.NoError(t, err)
	out := map[string]string{}
	for rows.Next() {
		var n, d string
		require.NoError(t, rows.Scan(&n, &d))
		out[n] = d
	}
	require.NoError(t, rows.Err())
	return out
}

// TestMigration038PartitionsExistingEvents builds a database as a binary at
// migration 037 left it, records events through the writer in five months
// (and one row from 2001),
// migrates, and checks every row, the id sequence, every index, the grant,
// the report and the contacts' stats are as they were, each row is in its
// month, and new events go into theirs.
func TestMigration038PartitionsExistingEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewDSN(t)
	old, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	_, err = old.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	require.NoError(t, migrations.MigrateTo(ctx, old, slog.New(slog.DiscardHandler), 37))
	var kind string
	require.NoError(t, old.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE relname = 'events'`).Scan(&kind))
	require.Equal(t, "r", kind, "at 037 events is a plain table")

	this := MonthStart(time.Now())
	f := seedCampaign(t, old, 9, this.AddDate(0, -5, 0))
	// Today's writer adds engagement to contact_stats (migration 048); a
	// binary at 037 added it to contacts' columns. The table stands in
	// while the events are recorded, then its counts go where 037 kept
	// them, so the stats check below also covers 048's backfill.
	_, err = old.Exec(ctx, `CREATE TABLE contact_stats (contact_id bigint PRIMARY KEY, sent integer NOT NULL DEFAULT 0,
		opens integer NOT NULL DEFAULT 0, clicks integer NOT NULL DEFAULT 0, last_open_at timestamptz, last_click_at timestamptz)`)
	require.NoError(t, err)
	// Today's writer leaves out of the click history the followed events
	// above the watermark (migration 053): stand-ins while it records.
	_, err = old.Exec(ctx, `ALTER TABLE events ADD COLUMN followed boolean NOT NULL DEFAULT false;
		CREATE TABLE tracking_watermark (one boolean PRIMARY KEY DEFAULT true, id bigint NOT NULL);
		INSERT INTO tracking_watermark (id) VALUES (0)`)
	require.NoError(t, err)
	svc := newService(t, old)
	for back := 4; back >= 0; back-- {
		recordMonth(t, svc, f, this.AddDate(0, -back, 0))
	}
	require.NoError(t, svc.Close(ctx))
	_, err = old.Exec(ctx, `ALTER TABLE events DROP COLUMN followed; DROP TABLE tracking_watermark`)
	require.NoError(t, err)
	_, err = old.Exec(ctx, `UPDATE contacts c SET sent = s.sent, opens = s.opens, clicks = s.clicks,
		last_open_at = s.last_open_at, last_click_at = s.last_click_at FROM contact_stats s WHERE s.contact_id = c.id;
		DROP TABLE contact_stats`)
	require.NoError(t, err)
	_, err = old.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, occurred_at)
		SELECT id, campaign_id, step, contact_id, 'open', '2001-02-03 04:05:06+00' FROM deliveries WHERE id = $1`, f.deliveries[0])
	require.NoError(t, err)
	_, err = old.Exec(ctx, `GRANT SELECT ON events TO PUBLIC`)
	require.NoError(t, err)
	before, beforeIdx := snapshot(t, old, f.campaign), indexDefs(t, old)
	require.Contains(t, before.Events, fmt.Sprintf("%d:", 5*(9+9+3)+1))
	old.Close()

	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	start := time.Now()
	require.NoError(t, migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)))
	t.Logf("migration 038 of %s events took %s", before.Events[:3], time.Since(start))

	require.NoError(t, pool.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE relname = 'events'`).Scan(&kind))
	require.Equal(t, "p", kind, "events is partitioned")
	require.Equal(t, before, snapshot(t, pool, f.campaign), "every row, the sequence, the report and the stats are unchanged")
	require.Equal(t, beforeIdx, indexDefs(t, pool), "every index is there")
	var grants, owned int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.role_table_grants
		WHERE table_name = 'events' AND grantee = 'PUBLIC' AND privilege_type = 'SELECT'`).Scan(&grants))
	require.Equal(t, 1, grants, "the grant is kept")
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
		WHERE s.relname = 'events_id_seq' AND d.refobjid = 'events'::regclass AND d.deptype = 'a'`).Scan(&owned))
	require.Equal(t, 1, owned, "the sequence belongs to the new events.id")

	// Each row sits in its month, the 2001 row too (in a month of its own,
	// not in ten years of empty ones).
	rows, err := pool.Query(ctx, `SELECT tableoid::regclass::text, occurred_at FROM events`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var part string
		var at time.Time
		require.NoError(t, rows.Scan(&part, &at))
		require.Equal(t, PartitionName(at), part, "event at %s", at)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5*(9+9+3)+1, n)
	var months int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass`).Scan(&months))
	require.Equal(t, 1+1+5+3, months, "the default, 2001, five months with events and three ahead")

	// The months ahead are made: the job finds nothing to do.
	created, err := EnsurePartitions(ctx, pool, time.Now(), PartitionAhead)
	require.NoError(t, err)
	require.Empty(t, created, "038 made this month and three ahead")

	// New events go into this month's partition, with ids after the old ones.
	svc = newService(t, pool)
	out, err := svc.Record(ctx, Event{Type: TypeOpen, DeliveryID: f.deliveries[1], UserAgent: browserUA, At: time.Now()})
	require.NoError(t, err)
	var part string
	var maxOld int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT tableoid::regclass::text FROM events WHERE id = $1`, out.EventID).Scan(&part))
	require.Equal(t, PartitionName(time.Now()), part)
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(id) FROM events WHERE id <> $1`, out.EventID).Scan(&maxOld))
	require.Greater(t, out.EventID, maxOld)
	require.NoError(t, svc.Close(ctx))

	// And back down: one table again, every row and index kept.
	pool.Reset()
	require.NoError(t, migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 37))
	require.NoError(t, pool.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE relname = 'events'`).Scan(&kind))
	require.Equal(t, "r", kind)
	require.Equal(t, beforeIdx, indexDefs(t, pool))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n))
	require.Equal(t, 5*(9+9+3)+2, n)
}
