package reports_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/tracking"
)

// rawMetrics counts a campaign's metrics (for one step, or all with "")
// straight from deliveries, events and transactions.
func rawMetrics(t *testing.T, b *bundle, campaignID int64, step string) campaigns.Metrics {
	t.Helper()
	ctx := context.Background()
	var m campaigns.Metrics
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), count(*) FILTER (WHERE bounced_at IS NOT NULL)
		FROM deliveries WHERE campaign_id = $1 AND ($2 = '' OR step = $2)`, campaignID, step).Scan(&m.Sent, &m.Bounced))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE type = 'open' AND NOT machine), count(*) FILTER (WHERE type = 'open'),
			count(DISTINCT delivery_id) FILTER (WHERE type = 'open' AND NOT machine), count(DISTINCT delivery_id) FILTER (WHERE type = 'open'),
			count(*) FILTER (WHERE type = 'click' AND NOT machine), count(*) FILTER (WHERE type = 'click'),
			count(DISTINCT delivery_id) FILTER (WHERE type = 'click' AND NOT machine), count(DISTINCT delivery_id) FILTER (WHERE type = 'click'),
			count(DISTINCT delivery_id) FILTER (WHERE type = 'unsubscribe'), count(DISTINCT delivery_id) FILTER (WHERE type = 'complaint'),
			count(*) FILTER (WHERE type = 'conversion'), count(DISTINCT delivery_id) FILTER (WHERE type = 'conversion')
		FROM events WHERE campaign_id = $1 AND ($2 = '' OR step = $2)`, campaignID, step).Scan(
		&m.Opens, &m.TotalOpens, &m.UniqueOpens, &m.TotalUniqueOpens, &m.Clicks, &m.TotalClicks, &m.UniqueClicks, &m.TotalUniqueClicks,
		&m.Unsubscribes, &m.Complaints, &m.Conversions, &m.Converted))
	// Revenue per currency; a purchase without one counts in the reporting
	// currency (EUR, the default), and revenue is that currency's only.
	m.Currency, m.RevenueByCurrency = campaigns.DefaultCurrency, map[string]float64{}
	rows, err := b.pool.Query(ctx, `SELECT coalesce(NULLIF(upper(t.currency), ''), $3), sum(t.value)::float8
		FROM transactions t JOIN deliveries d ON d.id = t.delivery_id
		WHERE d.campaign_id = $1 AND ($2 = '' OR d.step = $2) GROUP BY 1`, campaignID, step, m.Currency)
	require.NoError(t, err)
	for rows.Next() {
		var cur string
		var v float64
		require.NoError(t, rows.Scan(&cur, &v))
		m.RevenueByCurrency[cur] = v
	}
	require.NoError(t, rows.Err())
	m.Revenue = m.RevenueByCurrency[m.Currency]
	m.Recipients, m.RecipientsBounced = m.Sent, m.Bounced
	if step == "" {
		rawPeople(t, b, campaignID, &m)
	}
	m.Delivered, m.RecipientsDelivered = m.Sent-m.Bounced, m.Recipients-m.RecipientsBounced
	return m
}

// rawPeople replaces m's recipient and unique counts with people counted
// straight from deliveries and events: a person is a contact, whatever
// the number of steps they were sent.
func rawPeople(t *testing.T, b *bundle, campaignID int64, m *campaigns.Metrics) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sent), count(*) FILTER (WHERE sent AND NOT delivered) FROM (
			SELECT bool_or(sent_at IS NOT NULL) AS sent, bool_or(sent_at IS NOT NULL AND bounced_at IS NULL) AS delivered
			FROM deliveries WHERE campaign_id = $1 GROUP BY contact_id) p`, campaignID).Scan(&m.Recipients, &m.RecipientsBounced))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT
			count(DISTINCT contact_id) FILTER (WHERE type = 'open' AND NOT machine), count(DISTINCT contact_id) FILTER (WHERE type = 'open'),
			count(DISTINCT contact_id) FILTER (WHERE type = 'click' AND NOT machine), count(DISTINCT contact_id) FILTER (WHERE type = 'click'),
			count(DISTINCT contact_id) FILTER (WHERE type = 'unsubscribe'), count(DISTINCT contact_id) FILTER (WHERE type = 'complaint'),
			count(DISTINCT contact_id) FILTER (WHERE type = 'conversion')
		FROM events WHERE campaign_id = $1`, campaignID).Scan(
		&m.UniqueOpens, &m.TotalUniqueOpens, &m.UniqueClicks, &m.TotalUniqueClicks, &m.Unsubscribes, &m.Complaints, &m.Converted))
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// requireMetrics checks got's counters against raw and its rates against
// the definitions in docs/metrics.md (for the campaign, raw's unique
// counts and recipients are people; for a step, its deliveries).
func requireMetrics(t *testing.T, raw, got campaigns.Metrics, where string) {
	t.Helper()
	require.Equal(t, raw.Sent, got.Sent, where+" sent")
	require.Equal(t, raw.Bounced, got.Bounced, where+" bounced")
	require.Equal(t, raw.Sent-raw.Bounced, got.Delivered, where+" delivered")
	require.Equal(t, raw.Opens, got.Opens, where+" opens")
	require.Equal(t, raw.TotalOpens, got.TotalOpens, where+" total_opens")
	require.Equal(t, raw.UniqueOpens, got.UniqueOpens, where+" unique_opens")
	require.Equal(t, raw.TotalUniqueOpens, got.TotalUniqueOpens, where+" total_unique_opens")
	require.Equal(t, raw.Clicks, got.Clicks, where+" clicks")
	require.Equal(t, raw.TotalClicks, got.TotalClicks, where+" total_clicks")
	require.Equal(t, raw.UniqueClicks, got.UniqueClicks, where+" unique_clicks")
	require.Equal(t, raw.TotalUniqueClicks, got.TotalUniqueClicks, where+" total_unique_clicks")
	require.Equal(t, raw.Unsubscribes, got.Unsubscribes, where+" unsubscribes")
	require.Equal(t, raw.Complaints, got.Complaints, where+" complaints")
	require.Equal(t, raw.Conversions, got.Conversions, where+" conversions")
	require.Equal(t, raw.Converted, got.Converted, where+" converted")
	require.InDelta(t, raw.Revenue, got.Revenue, 1e-6, where+" revenue")
	require.Equal(t, raw.Currency, got.Currency, where+" currency")
	require.Len(t, got.RevenueByCurrency, len(raw.RevenueByCurrency), where+" revenue_by_currency")
	for cur, v := range raw.RevenueByCurrency {
		require.InDelta(t, v, got.RevenueByCurrency[cur], 1e-6, where+" revenue_by_currency "+cur)
	}
	require.Equal(t, raw.Recipients, got.Recipients, where+" recipients")
	require.Equal(t, raw.RecipientsBounced, got.RecipientsBounced, where+" recipients_bounced")
	d := raw.Recipients - raw.RecipientsBounced
	require.Equal(t, d, got.RecipientsDelivered, where+" recipients_delivered")
	require.InDelta(t, ratio(raw.UniqueOpens, d), got.OpenRate, 1e-12, where+" open_rate")
	require.InDelta(t, ratio(raw.UniqueClicks, d), got.CTR, 1e-12, where+" ctr")
	require.InDelta(t, ratio(raw.UniqueClicks, raw.UniqueOpens), got.CTOR, 1e-12, where+" ctor")
	require.InDelta(t, ratio(raw.TotalUniqueOpens, d), got.TotalOpenRate, 1e-12, where+" total_open_rate")
	require.InDelta(t, ratio(raw.Unsubscribes, d), got.UnsubscribeRate, 1e-12, where+" unsubscribe_rate")
	require.InDelta(t, ratio(raw.TotalUniqueClicks, d), got.TotalCTR, 1e-12, where+" total_ctr")
	require.InDelta(t, ratio(raw.RecipientsBounced, raw.Recipients), got.BounceRate, 1e-12, where+" bounce_rate")
	require.InDelta(t, ratio(raw.Converted, d), got.ConversionRate, 1e-12, where+" conversion_rate")
	if d > 0 {
		require.InDelta(t, raw.Revenue/float64(d), got.RevenuePerRecipient, 1e-9, where+" revenue_per_recipient")
	} else {
		require.Zero(t, got.RevenuePerRecipient)
	}
}

// generateEvents records random opens, clicks (human and machine),
// unsubscribes, complaints, bounces, a honeypot hit and conversions through
// the tracking writer and the conversion recorder, as production does.
func generateEvents(t *testing.T, b *bundle, c campaigns.Campaign) {
	t.Helper()
	ctx := context.Background()
	ids, sentAt := b.deliveries(t, c.ID)
	require.NotEmpty(t, ids)
	var wg sync.WaitGroup
	errc := make(chan error, len(ids))
	for n, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			at := sentAt[id].Add(time.Minute)
			next := func() time.Time { at = at.Add(time.Duration(1+rng.IntN(20)) * time.Minute); return at }
			rec := func(ev tracking.Event) {
				ev.DeliveryID = id
				if ev.At.IsZero() {
					ev.At = next()
				}
				if _, err := b.tracking.Record(ctx, ev); err != nil {
					errc <- err
				}
			}
			for range rng.IntN(4) {
				rec(tracking.Event{Type: tracking.TypeOpen})
			}
			for range rng.IntN(3) {
				rec(tracking.Event{Type: tracking.TypeOpen, Machine: true, Reason: "image proxy"})
			}
			for range rng.IntN(4) {
				rec(tracking.Event{Type: tracking.TypeClick, LinkIdx: rng.IntN(3), Machine: rng.IntN(3) == 0})
			}
			switch n % 9 {
			case 1:
				rec(tracking.Event{Type: tracking.TypeUnsubscribe})
				rec(tracking.Event{Type: tracking.TypeUnsubscribe}) // twice: counted once
			case 2:
				rec(tracking.Event{Type: tracking.TypeComplaint, Reason: "abuse"})
			case 3:
				rec(tracking.Event{Type: tracking.TypeBounce, Hard: true, Reason: "5.1.1"})
			case 4:
				rec(tracking.Event{Type: tracking.TypeBounce, Reason: "4.2.2 mailbox full"})
			case 5:
				// A scanner: the honeypot link, with clicks around it.
				rec(tracking.Event{Type: tracking.TypeClick, LinkIdx: 0})
				hp := at.Add(3 * time.Second)
				rec(tracking.Event{Type: tracking.TypeHoneypot, At: hp})
				rec(tracking.Event{Type: tracking.TypeClick, LinkIdx: 1, At: hp.Add(2 * time.Second)})
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	// Conversions, attributed to the campaign by the production recorder
	// inside the transaction that stores the purchase.
	conv := b.tracking.Conversions()
	rows, err := b.pool.Query(ctx, `SELECT contact_id FROM deliveries WHERE campaign_id = $1 AND status = 'sent' ORDER BY id`, c.ID)
	require.NoError(t, err)
	var contactIDs []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		contactIDs = append(contactIDs, id)
	}
	require.NoError(t, rows.Err())
	for i, contactID := range contactIDs {
		if i%4 != 0 {
			continue
		}
		for k := range 1 + i%3 {
			value := 10.25 + float64(i) + float64(k)*0.5
			tx, err := b.pool.Begin(ctx)
			require.NoError(t, err)
			txID := factory.Transaction(t, tx, contactID, factory.Value(value), factory.Currency("EUR"))
			campaignID := c.ID
			require.NoError(t, conv.RecordConversion(ctx, tx, contactID, txID, &campaignID, value, time.Now().Add(time.Hour)))
			require.NoError(t, tx.Commit(ctx))
		}
	}
}

func TestReportEqualsRawCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 60, 7,
		campaigns.Goal{Name: "engagement", When: "unique_opens >= 1 && total_clicks >= 1"},
		campaigns.Goal{Name: "big", When: "conversions >= 1000 && ctr >= 0.01"},
	)
	b.launch(t, c)
	generateEvents(t, b, c)

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	raw := rawMetrics(t, b, c.ID, "")
	require.Positive(t, raw.Opens)
	require.Positive(t, raw.TotalOpens-raw.Opens, "the data has machine opens")
	require.Positive(t, raw.TotalClicks-raw.Clicks, "the data has machine clicks")
	require.Positive(t, raw.Bounced)
	require.Positive(t, raw.Converted)
	requireMetrics(t, raw, r.Metrics, "campaign")
	require.Len(t, r.Steps, 2)
	for _, step := range []string{"main", "offer"} {
		requireMetrics(t, rawMetrics(t, b, c.ID, step), r.Steps[step], step)
	}
	require.Zero(t, r.Steps["offer"].Sent)

	// Per-link clicks.
	require.Len(t, r.Links, 6, "three links on each of two steps")
	for _, l := range r.Links {
		var clicks, total, uniq, totalUniq int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT machine), count(*),
				count(DISTINCT delivery_id) FILTER (WHERE NOT machine), count(DISTINCT delivery_id)
			FROM events WHERE campaign_id = $1 AND step = $2 AND type = 'click' AND link_idx = $3`, c.ID, l.Step, l.Idx).
			Scan(&clicks, &total, &uniq, &totalUniq))
		require.Equal(t, clicks, l.Clicks, "link %s/%d", l.Step, l.Idx)
		require.Equal(t, total, l.TotalClicks)
		require.Equal(t, uniq, l.UniqueClicks)
		require.Equal(t, totalUniq, l.TotalUniqueClicks)
		require.InDelta(t, ratio(clicks, total), l.HumanShare, 1e-12)
		require.NotEmpty(t, l.URL)
	}
	require.Equal(t, "https://shop.example/pricing", r.Links[0].URL)

	// The timeline adds up, minute by minute.
	var sends, opens, clicks, conversions int64
	perMinute := map[time.Time]int64{}
	for _, p := range r.Timeline {
		sends += p.Sends
		opens += p.Opens
		clicks += p.Clicks
		conversions += p.Conversions
		perMinute[p.At] = p.Opens
	}
	require.Equal(t, raw.Sent, sends)
	require.Equal(t, raw.Opens, opens)
	require.Equal(t, raw.Clicks, clicks)
	require.Equal(t, raw.Conversions, conversions)
	rows, err := b.pool.Query(ctx, `SELECT date_trunc('minute', occurred_at), count(*) FROM events
		WHERE campaign_id = $1 AND type = 'open' AND NOT machine GROUP BY 1`, c.ID)
	require.NoError(t, err)
	for rows.Next() {
		var at time.Time
		var n int64
		require.NoError(t, rows.Scan(&at, &n))
		require.Equal(t, n, perMinute[at.UTC()], "opens at %s", at)
	}
	require.NoError(t, rows.Err())

	// A fresh campaign's timeline is per minute; asked for, per hour.
	require.Equal(t, campaigns.ResolutionMinute, r.TimelineResolution)
	requireTimeline(t, b, c.ID, r.Timeline, "minute", "0 seconds", time.Time{}, time.Time{})
	h, err := b.svc.ReportWith(ctx, c.ID, campaigns.ReportOptions{Resolution: campaigns.ResolutionHour})
	require.NoError(t, err)
	require.Equal(t, campaigns.ResolutionHour, h.TimelineResolution)
	requireTimeline(t, b, c.ID, h.Timeline, "hour", "0 seconds", time.Time{}, time.Time{})
	requireMetrics(t, raw, h.Metrics, "hourly")

	// Goals.
	require.Len(t, r.Goals, 2)
	require.True(t, r.Goals[0].Met)
	require.Equal(t, 1.0, r.Goals[0].Progress)
	require.False(t, r.Goals[1].Met)
	want := math.Min(float64(raw.Conversions)/1000, math.Min(1, ratio(raw.UniqueClicks, raw.RecipientsDelivered)/0.01))
	require.InDelta(t, want, r.Goals[1].Progress, 1e-12)
	require.NotNil(t, r.Rules)

	// Progress agrees with the deliveries table.
	var total int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&total))
	require.Equal(t, total, r.Progress.Total)
	require.Zero(t, r.Progress.Remaining)

	// The HTTP answer is the same report.
	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report")
	require.Equal(t, http.StatusOK, code, body)
	var got campaigns.Report
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	requireMetrics(t, raw, got.Metrics, "http")
	require.Contains(t, body, `"steps":{"main":{`)
	require.Contains(t, body, `"human_share"`)
}

func TestReportZeroDenominators(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Never launched: nothing sent.
	c := b.seed(t, 3, 1000, campaigns.Goal{Name: "g", When: "ctr >= 0.05"})
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	requireMetrics(t, campaigns.Metrics{Currency: campaigns.DefaultCurrency}, r.Metrics, "draft")
	require.Equal(t, 0.0, r.Goals[0].Progress)
	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "NaN")
	require.Contains(t, body, `"timeline":[]`)
	require.Contains(t, body, `"links":[`)

	// Everything refused: sent but nothing delivered.
	b2 := setup(t)
	c2 := b2.seed(t, 4, 1)
	b2.launch(t, c2)
	r, err = b2.svc.Report(ctx, c2.ID)
	require.NoError(t, err)
	require.EqualValues(t, 4, r.Metrics.Sent)
	require.EqualValues(t, 0, r.Metrics.Delivered)
	require.Equal(t, 1.0, r.Metrics.BounceRate)
	requireMetrics(t, rawMetrics(t, b2, c2.ID, ""), r.Metrics, "all bounced")
}

func TestBadGoalAnswers422WithPosition(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req, err := http.NewRequest(http.MethodPost, b.url+"/campaigns", strings.NewReader(
		`{"name":"x","goals":[{"name":"ok","when":"ctr >= 0.05"},{"name":"bad","when":"ctr >= 0.05 && convrsions > 1"}]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	var out struct {
		Error struct {
			Code     string `json:"code"`
			Field    string `json:"field"`
			Message  string `json:"message"`
			Position int    `json:"position"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, "invalid", out.Error.Code)
	require.Equal(t, "goals[1].when", out.Error.Field)
	require.Equal(t, 16, out.Error.Position)
	require.Contains(t, out.Error.Message, "convrsions")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
