package tracking

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

func TestOpenCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`)
	d1, c1 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d2, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	for range 3 {
		res, body := b.get(t, b.signer.OpenURL(b.url, d1), browserUA)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "image/gif", res.Header.Get("Content-Type"))
		require.Contains(t, res.Header.Get("Cache-Control"), "no-store")
		require.True(t, strings.HasPrefix(body, "GIF89a"))
	}
	res, _ := b.get(t, b.signer.OpenURL(b.url, d2), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.Equal(t, int64(4), b.rollup(t, camp, MetricOpens, false))
	require.Equal(t, int64(2), b.rollup(t, camp, MetricUniqueOpens, false))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricUniqueOpens, true))
	require.Equal(t, int64(4), b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'open' AND NOT machine`, camp))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM deliveries WHERE id = $1 AND first_open_at IS NOT NULL`, d1))
	require.Equal(t, int64(3), b.count(t, `SELECT coalesce(sum(opens), 0) FROM contact_stats WHERE contact_id = $1`, c1))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM contact_stats WHERE contact_id = $1 AND last_open_at IS NOT NULL`, c1))
}

func TestOpenMachineThenHuman(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`)
	d, c := b.delivery(t, camp, time.Now().Add(-time.Hour))
	res, _ := b.get(t, b.signer.OpenURL(b.url, d), "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUniqueOpens, true))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricUniqueOpens, false))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM deliveries WHERE id = $1 AND first_open_at IS NULL AND first_machine_open_at IS NOT NULL`, d))
	require.Equal(t, int64(0), b.count(t, `SELECT coalesce(sum(opens), 0) FROM contact_stats WHERE contact_id = $1`, c))

	b.get(t, b.signer.OpenURL(b.url, d), browserUA)
	// The recipient moves from machine-only to human: totals stay one.
	require.Equal(t, int64(0), b.rollup(t, camp, MetricUniqueOpens, true))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUniqueOpens, false))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricOpens, true))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricOpens, false))
	require.Equal(t, "image proxy prefetch: Google image proxy", scalar[string](t, b, `SELECT reason FROM events WHERE delivery_id = $1 AND machine`, d))
}

func scalar[T any](t *testing.T, b *bundle, q string, args ...any) T {
	t.Helper()
	var v T
	require.NoError(t, b.pool.QueryRow(context.Background(), q, args...).Scan(&v))
	return v
}

func TestClickCountsAndRedirect(t *testing.T) {
	t.Parallel()
	clk := newTestClock(time.Now())
	b := setup(t, func(c *Config) { c.Now = clk.Now })
	camp := b.campaign(t, `[]`, `{"utm":{"source":"peykar","medium":"email","campaign":"spring"}}`,
		"https://shop.example/pricing", "https://shop.example/a?utm_source=keep&x=1")
	d1, c1 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d2, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))

	res, _ := b.get(t, b.signer.ClickURL(b.url, d1, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "https://shop.example/pricing?utm_campaign=spring&utm_medium=email&utm_source=peykar", res.Header.Get("Location"))
	clk.Advance(BurstWindow + 100*time.Millisecond) // not a burst
	res, _ = b.get(t, b.signer.ClickURL(b.url, d1, 1, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "https://shop.example/a?utm_campaign=spring&utm_medium=email&utm_source=keep&x=1", res.Header.Get("Location"))
	b.get(t, b.signer.ClickURL(b.url, d1, 0, ""), browserUA)
	b.get(t, b.signer.ClickURL(b.url, d2, 0, ""), browserUA)
	// A personalised link goes where its signed URL says.
	res, _ = b.get(t, b.signer.ClickURL(b.url, d2, 5, "https://shop.example/u/42"), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "https://shop.example/u/42?utm_"))

	require.Equal(t, int64(5), b.rollup(t, camp, MetricClicks, false))
	require.Equal(t, int64(2), b.rollup(t, camp, MetricUniqueClicks, false))
	require.Equal(t, int64(4), b.rollup(t, camp, MetricLinkUniqueClicks, false)) // d1: 0,1; d2: 0,5
	require.Equal(t, int64(3), b.count(t, `SELECT coalesce(sum(count),0) FROM rollups WHERE campaign_id = $1 AND metric = 'clicks' AND link_idx = 0`, camp))
	require.Equal(t, int64(3), b.count(t, `SELECT coalesce(sum(clicks), 0) FROM contact_stats WHERE contact_id = $1`, c1))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricClicks, true))
}

func TestForgedAndTamperedTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/")
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	other := NewSigner(Keys{Current: []byte("an attacker's key, an attacker's key")})
	good := b.signer.ClickURL(b.url, d, 0, "")
	tampered := good[:len(good)-3] + "AAA"
	for _, u := range []string{
		other.ClickURL(b.url, d, 0, ""),
		other.ClickURL(b.url, d, 0, "https://evil.example/"),
		tampered,
		good[:len(good)-5],
		b.url + "/t/c/" + strings.Repeat("A", 5000),
		b.url + "/t/c/%00",
		b.url + "/t/c/" + tokenOf(t, b.signer.OpenURL(b.url, d), "/t/o/"), // an open token is not a click token
	} {
		res, body := b.get(t, u, browserUA)
		require.Equal(t, http.StatusNotFound, res.StatusCode, u)
		require.Empty(t, res.Header.Get("Location"))
		require.NotContains(t, body, "token")
		require.NotContains(t, strings.ToLower(body), "error:")
	}
	for _, u := range []string{other.OpenURL(b.url, d), strings.Replace(b.signer.OpenURL(b.url, d), "/t/o/", "/t/o/x", 1)} {
		res, body := b.get(t, u, browserUA)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		require.Equal(t, string(pixel), body, "a valid GIF all the same")
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		res, _ := b.do(t, m, other.UnsubscribeURL(b.url, d), browserUA)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	}
	res, _ := b.get(t, other.HoneypotURL(b.url, d), browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events`))
}

func TestNoOpenRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/")
	other := b.campaign(t, `[]`, `{}`, "https://evil.example/", "https://evil.example/2")
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	// A link index the campaign does not have (another campaign has it).
	res, _ := b.get(t, b.signer.ClickURL(b.url, d, 1, ""), browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Empty(t, res.Header.Get("Location"))
	// A delivery that does not exist.
	res, _ = b.get(t, b.signer.ClickURL(b.url, 999999, 0, ""), browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	// A target in the query string changes nothing.
	res, _ = b.get(t, b.signer.ClickURL(b.url, d, 0, "")+"?url=https://evil.example/&redirect=https://evil.example/", browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "https://shop.example/", res.Header.Get("Location"))
	// Signed non-http URLs are never produced; a hand-built one with a bad scheme does not verify.
	raw := b.signer.Encode(Token{Kind: KindClickURL, DeliveryID: d, LinkIdx: 0, URL: "javascript:alert(1)"})
	res, _ = b.get(t, b.url+"/t/c/"+raw, browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	raw = b.signer.Encode(Token{Kind: KindClickURL, DeliveryID: d, LinkIdx: 0, URL: "//evil.example/"})
	res, _ = b.get(t, b.url+"/t/c/"+raw, browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events`))
	_ = other
}

func TestUnsubscribeGetVsPost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`)
	d, c := b.delivery(t, camp, time.Now().Add(-time.Hour))
	u := b.signer.UnsubscribeURL(b.url, d)
	res, body := b.get(t, u, browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `<form method="post">`)
	require.Equal(t, "active", scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, c))
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events`))

	for range 2 { // one-click twice: one unsubscribe counted
		res, body = b.do(t, http.MethodPost, u, browserUA)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "unsubscribed")
	}
	require.Equal(t, "unsubscribed", scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, c))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUnsubscribes, false))
	require.Equal(t, int64(2), b.count(t, `SELECT count(*) FROM events WHERE type = 'unsubscribe'`))

	// Never downgrades a bounce.
	d2, c2 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	_, err := b.pool.Exec(context.Background(), `UPDATE contacts SET status = 'bounced' WHERE id = $1`, c2)
	require.NoError(t, err)
	res, _ = b.do(t, http.MethodPost, b.signer.UnsubscribeURL(b.url, d2), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "bounced", scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, c2))
}

func TestHoneypotMarksBurst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/1", "https://shop.example/2")
	d, c := b.delivery(t, camp, time.Now().Add(-time.Hour))
	res, _ := b.get(t, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUniqueClicks, false))
	res, body := b.get(t, b.signer.HoneypotURL(b.url, d), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Empty(t, body)
	res, _ = b.get(t, b.signer.ClickURL(b.url, d, 1, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)

	// Both clicks, before and after the honeypot, are machine now.
	require.Equal(t, int64(0), b.rollup(t, camp, MetricClicks, false))
	require.Equal(t, int64(2), b.rollup(t, camp, MetricClicks, true))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricUniqueClicks, false))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUniqueClicks, true))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricLinkUniqueClicks, false))
	require.Equal(t, int64(2), b.rollup(t, camp, MetricLinkUniqueClicks, true))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM deliveries WHERE id = $1 AND first_click_at IS NULL AND honeypot_at IS NOT NULL`, d))
	require.Equal(t, int64(2), b.count(t, `SELECT count(*) FROM events WHERE type = 'click' AND machine AND reason = $1`, ReasonHoneypot))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events WHERE type = 'honeypot' AND machine`))
	require.Equal(t, int64(0), b.count(t, `SELECT coalesce(sum(clicks), 0) FROM contact_stats WHERE contact_id = $1`, c))
}

func TestBurstAndTooSoon(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4")
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { b.get(t, b.signer.ClickURL(b.url, d, i, ""), browserUA) })
	}
	wg.Wait()
	// Four links within a second: the scanner's whole burst is machine
	// (the first click may land before the others are seen; the burst
	// rule reclassifies it afterwards).
	require.Equal(t, int64(4), b.rollup(t, camp, MetricClicks, true))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricClicks, false))
	require.Equal(t, int64(0), b.rollup(t, camp, MetricUniqueClicks, false))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricUniqueClicks, true))

	fresh, _ := b.delivery(t, camp, time.Now())
	res, _ := b.get(t, b.signer.OpenURL(b.url, fresh), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, ReasonTooSoon, scalar[string](t, b, `SELECT reason FROM events WHERE delivery_id = $1`, fresh))
}

func TestRuleJobsEnqueued(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	b := setupPool(t, pool, func(c *Config) { c.River = client })
	camp := b.campaign(t, `[{"name":"x","on":"click","when":"true","actions":[]}]`, `{}`, "https://a.example/")
	d, contact := b.delivery(t, camp, time.Now().Add(-time.Hour))
	res, _ := b.get(t, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	b.get(t, b.signer.OpenURL(b.url, d), browserUA)        // no rule on open
	b.get(t, b.signer.ClickURL(b.url, d, 0, ""), "curl/8") // machine: no job
	var args RuleEventArgs
	var raw []byte
	var queue string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT args, queue FROM river_job WHERE kind = 'rules'`).Scan(&raw, &queue))
	require.NoError(t, json.Unmarshal(raw, &args))
	require.Equal(t, "rules", queue)
	require.Equal(t, d, args.DeliveryID)
	require.Equal(t, camp, args.CampaignID)
	require.Equal(t, contact, args.ContactID)
	require.Equal(t, TypeClick, args.Type)
	require.Equal(t, 0, *args.LinkIdx)
	require.Equal(t, "https://a.example/", args.URL)
	require.Equal(t, scalar[int64](t, b, `SELECT id FROM events WHERE type = 'click' AND NOT machine`), args.EventID)
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM river_job`))
}

// Events have no foreign key to deliveries (migration 014): a validly
// signed token for a delivery that does not exist records nothing, and
// deleting deliveries, directly or by cascade, still deletes their events.
func TestEventsFollowTheirDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://example.com/a")
	d1, c1 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d2, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d3, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	for _, d := range []int64{d1, d2, d3} {
		res, _ := b.get(t, b.signer.OpenURL(b.url, d), browserUA)
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	res, _ := b.get(t, b.signer.OpenURL(b.url, d3+1000), browserUA)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, int64(3), b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp))
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'f'`))

	_, err := b.pool.Exec(ctx, `DELETE FROM deliveries WHERE id = $1`, d2)
	require.NoError(t, err)
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1`, d2))
	_, err = b.pool.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, c1)
	require.NoError(t, err)
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1`, d1))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1`, d3))
	_, err = b.pool.Exec(ctx, `DELETE FROM campaigns WHERE id = $1`, camp)
	require.NoError(t, err)
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp))
}
