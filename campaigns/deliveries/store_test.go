package deliveries_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a running campaign and n contacts (the rows deliveries
// reference; their owners' stores are not what is under test here).
func fixture(t *testing.T, n int) (*pgxpool.Pool, int64, []int64) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var campaignID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('c', 'running') RETURNING id`).Scan(&campaignID))
	rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'r' || i || '@example.com' FROM generate_series(1, $1) i RETURNING id`, n)
	require.NoError(t, err)
	contactIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return pool, campaignID, contactIDs
}

// TestLifecycle walks deliveries through create (idempotent), claim (only
// once, a stale claim of the same job reclaimed), record and skip, and
// checks what each write returns for the caller to count.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 3)

	ids, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)
	require.Len(t, ids, 3)
	again, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)
	require.Empty(t, again, "a re-run page creates nothing")

	claimed, err := deliveries.Claim(ctx, pool, 7, ids[:2], time.Hour)
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	require.Equal(t, 1, claimed[0].Attempts)
	require.False(t, claimed[0].Exited)
	other, err := deliveries.Claim(ctx, pool, 8, ids[:2], 0)
	require.NoError(t, err)
	require.Empty(t, other, "another job cannot take a claimed row")
	fresh, err := deliveries.Claim(ctx, pool, 7, ids[:2], time.Hour)
	require.NoError(t, err)
	require.Empty(t, fresh, "a fresh claim is not reclaimed")
	n, err := deliveries.StillClaimed(ctx, pool, 7, ids)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	finals, err := deliveries.Record(ctx, pool, []deliveries.Outcome{
		{ID: ids[0], Status: deliveries.Sent, Detail: "250 ok"},
		{ID: ids[1], Status: deliveries.Held, Detail: "held"},
	}, at)
	require.NoError(t, err)
	require.Len(t, finals, 2)
	var sentAt *time.Time
	var attempts int
	require.NoError(t, pool.QueryRow(ctx, `SELECT sent_at FROM deliveries WHERE id = $1`, ids[0]).Scan(&sentAt))
	require.True(t, at.Equal(*sentAt))
	require.NoError(t, pool.QueryRow(ctx, `SELECT attempts FROM deliveries WHERE id = $1 AND status = 'queued'`, ids[1]).Scan(&attempts))
	require.Equal(t, 0, attempts, "held does not use an attempt")

	skipped, err := deliveries.SkipQueued(ctx, pool, cid, nil, "campaign cancelled")
	require.NoError(t, err)
	require.Len(t, skipped, 2, "the held and the never claimed")
	for _, f := range skipped {
		require.Equal(t, deliveries.Skipped, f.Status)
		require.Equal(t, cid, f.CampaignID)
	}
}

// TestQueueSetTracked: the tracking writer's statement stores statuses and
// firsts, and an empty set queues nothing.
func TestQueueSetTracked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 1)
	ids, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)

	b := &pgx.Batch{}
	deliveries.QueueSetTracked(b, deliveries.Tracked{})
	require.Zero(t, b.Len())
	open := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	none := []*time.Time{nil}
	deliveries.QueueSetTracked(b, deliveries.Tracked{IDs: ids, Status: []string{deliveries.Sent},
		FirstOpen: []*time.Time{&open}, FirstMachineOpen: none, FirstClick: none, FirstMachineClick: none,
		Honeypot: none, Unsubscribed: none, Bounced: none, Complained: none, Converted: none})
	require.Equal(t, 1, b.Len())
	require.NoError(t, pool.SendBatch(ctx, b).Close())
	var got time.Time
	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, first_open_at FROM deliveries WHERE id = $1`, ids[0]).Scan(&status, &got))
	require.Equal(t, deliveries.Sent, status)
	require.True(t, open.Equal(got))
}

// TestReads: a delivery as the rules worker loads it, the frequency cap's
// recent sends, the grouped failure reasons, and a timer's due deliveries
// (sent, and never opened).
func TestReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 3)
	ids, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)
	_, err = deliveries.Claim(ctx, pool, 1, ids, time.Hour)
	require.NoError(t, err)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	_, err = deliveries.Record(ctx, pool, []deliveries.Outcome{
		{ID: ids[0], Status: deliveries.Sent}, {ID: ids[1], Status: deliveries.Sent},
		{ID: ids[2], Status: deliveries.Failed, Detail: "550 no"},
	}, at)
	require.NoError(t, err)

	d, err := deliveries.Get(ctx, pool, ids[0])
	require.NoError(t, err)
	require.Equal(t, contacts[0], d.ContactID)
	require.True(t, at.Equal(d.SentAt))

	recent, err := deliveries.SentSince(ctx, pool, contacts[0], cid, at.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, recent, 1)
	recent, err = deliveries.SentSince(ctx, pool, contacts[0], cid, at)
	require.NoError(t, err)
	require.Empty(t, recent, "the window excludes its start")

	reasons, err := deliveries.FailureReasons(ctx, pool, cid, 100)
	require.NoError(t, err)
	require.Equal(t, []deliveries.Reason{{Status: deliveries.Failed, Reason: "550 no", Count: 1}}, reasons)

	b := &pgx.Batch{}
	none := []*time.Time{nil}
	deliveries.QueueSetTracked(b, deliveries.Tracked{IDs: ids[:1], Status: []string{deliveries.Sent},
		FirstOpen: []*time.Time{&at}, FirstMachineOpen: none, FirstClick: none, FirstMachineClick: none,
		Honeypot: none, Unsubscribed: none, Bounced: none, Complained: none, Converted: none})
	require.NoError(t, pool.SendBatch(ctx, b).Close())
	due, ok, err := deliveries.SentWithout(ctx, pool, deliveries.NoOpen, ids)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []int64{ids[1]}, due, "opened and failed deliveries are not due")
	_, ok, err = deliveries.SentWithout(ctx, pool, "sent", ids)
	require.NoError(t, err)
	require.False(t, ok)
}

// TestCreateRound gives one contact the same step twice in two rounds (two
// transactional messages), and a repeat of a round finds its row.
func TestCreateOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 1)
	a, created, err := deliveries.CreateOne(ctx, pool, cid, "message", contacts[0], 7)
	require.NoError(t, err)
	require.True(t, created)
	b, created, err := deliveries.CreateOne(ctx, pool, cid, "message", contacts[0], 8)
	require.NoError(t, err)
	require.True(t, created)
	require.NotEqual(t, a, b)
	again, created, err := deliveries.CreateOne(ctx, pool, cid, "message", contacts[0], 7)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, a, again)
	st, err := deliveries.GetState(ctx, pool, a)
	require.NoError(t, err)
	require.Equal(t, deliveries.Queued, st.Status)
	require.Nil(t, st.SentAt)
}

// TestReleaseRequeuesOnlyTheAttemptsOwnClaims: a failed attempt's claims
// go back to queued, so the same job claims them again at once; a row sent
// meanwhile, a row another job holds and a row claimed since by a later
// attempt (more attempts) are left alone.
func TestReleaseRequeuesOnlyTheAttemptsOwnClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 4)
	ids, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)

	claimed, err := deliveries.Claim(ctx, pool, 7, ids[:3], time.Hour)
	require.NoError(t, err)
	require.Len(t, claimed, 3)
	_, err = deliveries.Claim(ctx, pool, 8, ids[3:], time.Hour)
	require.NoError(t, err)
	_, err = deliveries.Record(ctx, pool, []deliveries.Outcome{{ID: ids[0], Status: deliveries.Sent, Detail: "250 ok"}}, time.Now())
	require.NoError(t, err)
	// A later attempt of job 7 took ids[2] over (its claim was stale).
	_, err = pool.Exec(ctx, `UPDATE deliveries SET attempts = attempts + 1 WHERE id = $1`, ids[2])
	require.NoError(t, err)

	other := deliveries.Delivery{ID: ids[3], Attempts: 1}
	n, err := deliveries.Release(ctx, pool, 7, append(claimed, other))
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "only ids[1]: still sending, job 7's, this attempt's claim")
	rows, err := pool.Query(ctx, `SELECT d.status FROM unnest($1::bigint[]) WITH ORDINALITY u(id, n)
		JOIN deliveries d USING (id) ORDER BY u.n`, ids)
	require.NoError(t, err)
	status, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"sent", "queued", "sending", "sending"}, status)

	again, err := deliveries.Claim(ctx, pool, 7, ids[1:2], time.Hour)
	require.NoError(t, err)
	require.Len(t, again, 1, "the retry claims the released row at once")
	require.Equal(t, 2, again[0].Attempts)
}
