package engine

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/migrations/pgtest"
	"github.com/peykar/peykar/tracking"
)

// TestFailedGroupFlushRollsBackAndRetriesEachBatch: an outcome flush sends
// its statements in two pipelined round trips with BEGIN and COMMIT among
// them (outcome_tx.go). When one job's batch makes the group's flush fail
// — on the server (a status the table refuses, in the first statement) or
// in reading an answer after the statements ran (an unknown contact to
// suppress) — nothing of the group stays: the per-batch retry then
// records the good batch exactly once (its delivery, its contact's sent
// count, its campaign person, the counters), the bad one not at all, and
// the connections stay usable: a corrected batch records afterwards.
func TestFailedGroupFlushRollsBackAndRetriesEachBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bad  func(b *outcomeBatch)
	}{
		{"server refuses a status", func(b *outcomeBatch) { b.results[0].Status = "bogus" }},
		{"unknown contact to suppress", func(b *outcomeBatch) { b.hardBounced = []int64{-1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFlushFixture(t)
			// A first send to a makes a's campaign person exist, so the
			// group's send to a takes the existing people's path.
			first := f.batch(t, f.a, "one", deliveries.Sent)
			f.w.flush(ctx, []*outcomeBatch{first})
			require.NoError(t, <-first.done)

			good := f.batch(t, f.a, "two", deliveries.Sent)
			bad := f.batch(t, f.b, "two", deliveries.Bounced)
			tc.bad(bad)
			f.w.flush(ctx, []*outcomeBatch{good, bad})
			require.NoError(t, <-good.done)
			require.Error(t, <-bad.done)
			f.requireState(t, map[string]int64{"sent": 2, "send_bounced": 0, "people_sent": 1, "people_bounced": 0}, 2, 0)
			require.Equal(t, "sending", f.status(t, bad.results[0].ID))

			fixed := f.batch(t, f.b, "three", deliveries.Bounced)
			fixed.hardBounced = []int64{f.b}
			f.w.flush(ctx, []*outcomeBatch{fixed})
			require.NoError(t, <-fixed.done)
			f.requireState(t, map[string]int64{"sent": 2, "send_bounced": 1, "people_sent": 2, "people_bounced": 1}, 2, 0)
			var status string
			require.NoError(t, f.pool.QueryRow(ctx, `SELECT status FROM contacts WHERE id = $1`, f.b).Scan(&status))
			require.Equal(t, "bounced", status)
		})
	}
}

type flushFixture struct {
	pool       *pgxpool.Pool
	w          *SendWorker
	c          *campaigns.Campaign
	campaignID int64
	a, b       int64
}

func newFlushFixture(t *testing.T) *flushFixture {
	t.Helper()
	ctx := context.Background()
	f := &flushFixture{pool: pgtest.NewPool(t)}
	f.w = &SendWorker{Pool: f.pool}
	require.NoError(t, f.pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('f', 'running') RETURNING id`).Scan(&f.campaignID))
	f.c = &campaigns.Campaign{ID: f.campaignID}
	for _, x := range []struct {
		email string
		id    *int64
	}{{"a@example.com", &f.a}, {"b@example.com", &f.b}} {
		require.NoError(t, f.pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ($1) RETURNING id`, x.email).Scan(x.id))
	}
	return f
}

// batch is a job's outcome batch: a delivery of step to contact, being
// sent, with outcome status.
func (f *flushFixture) batch(t *testing.T, contact int64, step, status string) *outcomeBatch {
	t.Helper()
	d := deliveries.Delivery{CampaignID: f.campaignID, Step: step, ContactID: contact, Attempts: 1}
	require.NoError(t, f.pool.QueryRow(context.Background(), `INSERT INTO deliveries (campaign_id, step, contact_id, status, attempts)
		VALUES ($1, $2, $3, 'sending', 1) RETURNING id`, f.campaignID, step, contact).Scan(&d.ID))
	b := &outcomeBatch{c: f.c, group: []deliveries.Delivery{d}, results: []deliveries.Outcome{{ID: d.ID, Status: status}}, done: make(chan error, 1)}
	return b
}

func (f *flushFixture) status(t *testing.T, id int64) string {
	t.Helper()
	var s string
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT status FROM deliveries WHERE id = $1`, id).Scan(&s))
	return s
}

// requireState checks, once the send fold has settled, the campaign's
// counters (want, by metric), that they equal the rows they count, and the
// contacts' sent counts (which must equal their sent deliveries).
func (f *flushFixture) requireState(t *testing.T, want map[string]int64, sentA, sentB int64) {
	t.Helper()
	ctx := context.Background()
	settle, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, f.w.SettleSends(settle))
	got := map[string]int64{}
	rows, err := f.pool.Query(ctx, `SELECT metric, sum(count)::bigint FROM rollup_totals WHERE campaign_id = $1 GROUP BY 1`, f.campaignID)
	require.NoError(t, err)
	for rows.Next() {
		var m string
		var n int64
		require.NoError(t, rows.Scan(&m, &n))
		got[m] = n
	}
	require.NoError(t, rows.Err())
	for m, n := range want {
		require.Equal(t, n, got[m], "counter %s", m)
	}
	var raw [4]int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'),
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'bounced'),
		(SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND sent),
		(SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND sent AND NOT delivered)`, f.campaignID).
		Scan(&raw[0], &raw[1], &raw[2], &raw[3]))
	require.Equal(t, [4]int64{got[tracking.MetricSent], got[tracking.MetricSendBounced], got[tracking.MetricPeopleSent], got[tracking.MetricPeopleBounced]}, raw)
	var a, b int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(sent), 0) FROM contact_stats WHERE contact_id = $1),
		(SELECT coalesce(sum(sent), 0) FROM contact_stats WHERE contact_id = $2)`, f.a, f.b).Scan(&a, &b))
	require.Equal(t, [2]int64{sentA, sentB}, [2]int64{a, b})
	var off int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id
		WHERE coalesce(s.sent, 0) <> (SELECT count(*) FROM deliveries d WHERE d.contact_id = c.id AND d.status = 'sent')`).Scan(&off))
	require.Zero(t, off, "contacts whose sent count differs from their sent deliveries")
}
