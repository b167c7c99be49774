package tracking

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// engagementFromEvents is every contact's stats as the raw events say
// (human opens and clicks, their latest times), and as contacts holds them,
// for the contacts of campaign.
func engagementFromEvents(t *testing.T, b *bundle, campaign int64) (fromEvents, stored string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(string_agg(concat_ws(',', c.id, x.opens, x.clicks, x.lo, x.lc), ';' ORDER BY c.id), '')
		FROM contacts c JOIN (SELECT contact_id,
			count(*) FILTER (WHERE type = 'open' AND NOT machine) AS opens, count(*) FILTER (WHERE type = 'click' AND NOT machine) AS clicks,
			max(occurred_at) FILTER (WHERE type = 'open' AND NOT machine) AS lo, max(occurred_at) FILTER (WHERE type = 'click' AND NOT machine) AS lc
			FROM events WHERE campaign_id = $1 GROUP BY contact_id) x ON x.contact_id = c.id`, campaign).Scan(&fromEvents))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(string_agg(concat_ws(',', c.id, c.opens, c.clicks, c.last_open_at, c.last_click_at), ';' ORDER BY c.id), '')
		FROM contacts c WHERE c.id IN (SELECT contact_id FROM deliveries WHERE campaign_id = $1)`, campaign).Scan(&stored))
	return fromEvents, stored
}

// recordEngagement records, for each of n new deliveries of campaign, two
// human opens and a human click, and returns how many events it recorded.
func recordEngagement(t *testing.T, b *bundle, campaign int64, n int) int {
	t.Helper()
	ctx := context.Background()
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Millisecond)
	for i := range n {
		d, _ := b.delivery(t, campaign, time.Now().Add(-time.Hour))
		at := base.Add(time.Duration(i) * time.Second)
		for j, ev := range []Event{
			{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA, At: at},
			{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA, At: at.Add(time.Minute)},
			{Type: TypeClick, DeliveryID: d, LinkIdx: 0, UserAgent: browserUA, At: at.Add(2 * time.Minute)},
		} {
			_, err := b.svc.Record(ctx, ev)
			require.NoError(t, err, "delivery %d event %d", d, j)
		}
	}
	return 3 * n
}

// TestEngagementCrashBetweenCommitAndFold: events are durable and answered
// while the follower is not running; a follower that dies in the middle of
// its fold (its connection closed after taking the batches and updating
// the contacts, before COMMIT) changes nothing; the next one folds every
// delta once, and folding again adds nothing.
func TestEngagementCrashBetweenCommitAndFold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	require.NoError(t, b.svc.follower.stop(ctx)) // this process's follower is down
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	recordEngagement(t, b, camp, 6)

	want, got := engagementFromEvents(t, b, camp)
	require.NotEqual(t, want, got, "the events are stored, the contacts not yet updated")
	queued := b.count(t, `SELECT count(*) FROM engagement_queue`)
	require.Positive(t, queued)

	// A fold that dies before its commit.
	conn, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	n, e, err := takeEngagement(ctx, tx, engagementTake)
	require.NoError(t, err)
	require.Equal(t, int(queued), n)
	batch := &pgx.Batch{}
	contacts.QueueEngagement(batch, e)
	require.NoError(t, tx.SendBatch(ctx, batch).Close())
	require.NoError(t, conn.Hijack().Close(ctx)) // the process is gone: PostgreSQL aborts its transaction

	_, got2 := engagementFromEvents(t, b, camp)
	require.Equal(t, got, got2, "the dead fold changed no contact")
	require.Equal(t, queued, b.count(t, `SELECT count(*) FROM engagement_queue`), "and took no batch")

	// The restarted process's follower folds everything, once.
	f := newEngagementFollower(b.pool, b.svc.logger, time.Minute)
	require.NoError(t, f.drain(ctx))
	want, got = engagementFromEvents(t, b, camp)
	require.Equal(t, want, got)
	require.Zero(t, b.count(t, `SELECT count(*) FROM engagement_queue`))
	require.NoError(t, f.drain(ctx))
	_, got = engagementFromEvents(t, b, camp)
	require.Equal(t, want, got, "folding again adds nothing")
}

// TestEngagementConcurrentFollowers: four followers (as in four processes)
// fold while the writer records; every contact ends equal to its raw
// events: no delta lost, none applied twice.
func TestEngagementConcurrentFollowers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	require.NoError(t, b.svc.follower.stop(ctx))
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")

	writing := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			f := newEngagementFollower(b.pool, b.svc.logger, time.Minute)
			for {
				select {
				case <-writing:
					errs <- f.drain(ctx)
					return
				default:
				}
				if err := f.drain(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Several writers' batches at once, so followers take them in parallel.
	var rec sync.WaitGroup
	for range 3 {
		rec.Go(func() { recordEngagement(t, b, camp, 8) })
	}
	rec.Wait()
	close(writing)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, b.svc.SettleEngagement(ctx))
	want, got := engagementFromEvents(t, b, camp)
	require.Equal(t, want, got)
	require.Zero(t, b.count(t, `SELECT count(*) FROM engagement_queue`))
}

// TestEngagementFollowsWithoutSettle: with the service's own follower
// running, contacts catch up with the events by themselves (a bounded
// wait on the database, not a sleep).
func TestEngagementFollowsWithoutSettle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	recordEngagement(t, b, camp, 3)
	require.Eventually(t, func() bool {
		want, got := engagementFromEvents(t, b, camp)
		return want == got
	}, 30*time.Second, 10*time.Millisecond)
}
