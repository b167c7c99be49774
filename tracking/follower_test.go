package tracking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// scannerUA is a link scanner's user agent: its clicks and opens are
// machine traffic from the request on.
const scannerUA = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"

// clickAll requests every URL concurrently (clicks and opens), one in
// five as a link scanner and the others from a browser, and returns how
// many were answered 302 or 200.
func clickAll(t *testing.T, b *bundle, urls []string) int64 {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(urls))
	for i, u := range urls {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set("User-Agent", browserUA)
			if i%5 == 4 {
				req.Header.Set("User-Agent", scannerUA)
			}
			resp, err := b.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_ = resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusFound, http.StatusOK:
				ok.Add(1)
			default:
				errs <- fmt.Errorf("%s: %d", u, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return ok.Load()
}

// requireReportEqualsRawRows checks, once settled, that nothing waits in
// the inbox and that the campaign's counters equal its raw rows: opens and
// clicks (human and machine) equal the stored events, unique counts equal
// the deliveries with a first, per-link unique clicks equal the distinct
// (delivery, link) pairs, contacts' opens and clicks equal their human
// events, the people rows equal their deliveries and the totals and hours
// equal the rollups.
func requireReportEqualsRawRows(t *testing.T, b *bundle, camp int64) {
	t.Helper()
	require.Zero(t, b.count(t, `SELECT count(*) FROM event_inbox`), "events wait to be folded")
	require.Zero(t, b.count(t, `SELECT count(*) FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark)`),
		"followed events wait to be folded")
	for _, machine := range []bool{false, true} {
		require.Equal(t, b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'open' AND machine = $2`, camp, machine),
			b.rollup(t, camp, MetricOpens, machine), "opens, machine %v", machine)
		require.Equal(t, b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'click' AND machine = $2`, camp, machine),
			b.rollup(t, camp, MetricClicks, machine), "clicks, machine %v", machine)
	}
	require.Equal(t, b.count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND first_open_at IS NOT NULL`, camp),
		b.rollup(t, camp, MetricUniqueOpens, false))
	require.Equal(t, b.count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND first_open_at IS NULL AND first_machine_open_at IS NOT NULL`, camp),
		b.rollup(t, camp, MetricUniqueOpens, true))
	require.Equal(t, b.count(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND first_click_at IS NOT NULL`, camp),
		b.rollup(t, camp, MetricUniqueClicks, false))
	require.Equal(t, b.count(t, `SELECT count(*) FROM (SELECT DISTINCT delivery_id, link_idx FROM events
		WHERE campaign_id = $1 AND type = 'click' AND NOT machine) x`, camp), b.rollup(t, camp, MetricLinkUniqueClicks, false))
	// The deliveries' firsts are their earliest events.
	require.Zero(t, b.count(t, `SELECT count(*) FROM deliveries d WHERE d.campaign_id = $1 AND
		(d.first_open_at, d.first_click_at) IS DISTINCT FROM (
			(SELECT min(occurred_at) FROM events e WHERE e.delivery_id = d.id AND e.type = 'open' AND NOT e.machine),
			(SELECT min(occurred_at) FROM events e WHERE e.delivery_id = d.id AND e.type = 'click' AND NOT e.machine))`, camp),
		"firsts differ from the events")
	// Per contact, over all their deliveries (a contact may have several).
	require.Zero(t, b.count(t, `SELECT count(*) FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id
		WHERE c.id IN (SELECT contact_id FROM deliveries WHERE campaign_id = $1)
		AND (coalesce(s.opens, 0), coalesce(s.clicks, 0)) IS DISTINCT FROM (
			(SELECT count(*) FROM events e WHERE e.contact_id = c.id AND e.type = 'open' AND NOT e.machine)::int,
			(SELECT count(*) FROM events e WHERE e.contact_id = c.id AND e.type = 'click' AND NOT e.machine)::int)`, camp),
		"contacts' opens and clicks differ from their events")
	requirePeopleEqualDeliveries(t, b, camp)
}

// The click path commits only the event; the follower folds it later in
// the order the inbox holds, not by an id watermark: an event whose
// transaction took its id first but commits after a later event was
// folded is still folded, and counted once.
func TestFollowerFoldsEventsCommittedOutOfIdOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	d1, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d2, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))

	// A slow transaction takes the lower id and does not commit yet.
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	var late int64
	require.NoError(t, tx.QueryRow(ctx, `INSERT INTO event_inbox (id, delivery_id, type, machine, user_agent, occurred_at)
		VALUES (nextval('events_id_seq'), $1, 'open', false, $2, now()) RETURNING id`, d1, browserUA).Scan(&late))

	// A later open is answered and folded (b.get settles).
	res, _ := b.get(t, b.signer.OpenURL(b.url, d2), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	folded := scalar[int64](t, b, `SELECT id FROM events WHERE delivery_id = $1`, d2)
	require.Greater(t, folded, late, "the folded event has the higher id")
	require.Equal(t, int64(1), b.rollup(t, camp, MetricOpens, false))

	require.NoError(t, tx.Commit(ctx))
	b.settle(t)
	require.Equal(t, late, scalar[int64](t, b, `SELECT id FROM events WHERE delivery_id = $1`, d1), "the late commit is folded")
	require.Equal(t, int64(2), b.rollup(t, camp, MetricOpens, false))
	requireReportEqualsRawRows(t, b, camp)
}

// A fold is one transaction: when it fails after it has written its
// events and their derived state (here its commit is refused, three times,
// as a crash between the statements and the commit would), nothing of it
// stays and the next fold takes the same events: after concurrent clicks
// and opens on shared deliveries (human and machine, with follow-up rules),
// each is counted once, the report equals the raw rows and each human
// click's rule job is enqueued once.
func TestFollowerFoldsExactlyOnceAcrossFailedFolds(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	b := setupPool(t, pool, func(c *Config) { c.River = client })
	camp := b.campaign(t, `[{"name":"x","on":"click","when":"true","actions":[]}]`, `{}`,
		"https://shop.example/a", "https://shop.example/b")
	var failed atomic.Int32
	errCrash := errors.New("test: the fold dies before its commit")
	hook := foldHook(func(ctx context.Context, tx pgx.Tx, n int) error {
		if n == 0 || failed.Load() >= 3 {
			return nil
		}
		// The fold's work is done in its transaction...
		var stored int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp).Scan(&stored); err != nil {
			return err
		}
		if stored == 0 {
			return fmt.Errorf("test: a fold of %d events wrote none", n)
		}
		// ...and is lost.
		failed.Add(1)
		return errCrash
	})
	b.svc.follower.beforeCommit.Store(&hook)

	var urls []string
	for range 10 {
		d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
		for range 3 {
			urls = append(urls, b.signer.ClickURL(b.url, d, 0, ""), b.signer.ClickURL(b.url, d, 1, ""), b.signer.OpenURL(b.url, d))
		}
	}
	answered := clickAll(t, b, urls)
	b.settle(t)
	require.Equal(t, int32(3), failed.Load(), "three folds failed")
	require.Positive(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'rules'`))
	require.Positive(t, b.rollup(t, camp, MetricClicks, true), "machine clicks too")
	require.Equal(t, answered, b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp))
	requireReportEqualsRawRows(t, b, camp)
	require.Equal(t, b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'click' AND NOT machine`, camp),
		b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'rules'`), "one rule job per human click")
	require.Equal(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'rules'`),
		b.count(t, `SELECT count(DISTINCT args->>'event_id') FROM river_job WHERE kind = 'rules'`), "no event's rule job twice")
}

// Two processes' followers race for the same inbox (each wakes on its own
// service's commits and polls for the other's): one folds at a time, and
// every event both services answered is counted once.
func TestTwoFollowersFoldOnce(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	b1 := setupPool(t, pool, func(c *Config) { c.FoldBatch = 7; c.FoldPoll = 5 * time.Millisecond })
	b2 := setupPool(t, pool, func(c *Config) { c.FoldBatch = 7; c.FoldPoll = 5 * time.Millisecond })
	camp := b1.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	var u1, u2 []string
	for i := range 12 {
		d, _ := b1.delivery(t, camp, time.Now().Add(-time.Hour))
		for l := range 2 {
			u1 = append(u1, b1.signer.ClickURL(b1.url, d, l, ""), b1.signer.OpenURL(b1.url, d))
			ua := b2.signer.ClickURL(b2.url, d, (l+i)%2, "")
			u2 = append(u2, ua, b2.signer.OpenURL(b2.url, d))
		}
	}
	var n1, n2 int64
	var wg sync.WaitGroup
	wg.Go(func() { n1 = clickAll(t, b1, u1) })
	wg.Go(func() { n2 = clickAll(t, b2, u2) })
	wg.Wait()
	b1.settle(t)
	b2.settle(t)
	require.Equal(t, n1+n2, b1.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp))
	requireReportEqualsRawRows(t, b1, camp)
	st1, st2 := b1.svc.Stats(), b2.svc.Stats()
	require.Equal(t, n1+n2, st1.Folded+st2.Folded, "each event folded by one follower, once")
}

// Settle returns only once what the service answered is counted, and
// within its deadline: here each open is counted when Settle returns.
func TestSettleWaitsForTheFold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`)
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	for i := range 5 {
		res, _ := b.doNow(t, http.MethodGet, b.signer.OpenURL(b.url, d), browserUA)
		require.Equal(t, http.StatusOK, res.StatusCode)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		require.NoError(t, b.svc.Settle(ctx))
		cancel()
		require.Equal(t, int64(i+1), b.rollup(t, camp, MetricOpens, false))
	}
	requireReportEqualsRawRows(t, b, camp)
}
