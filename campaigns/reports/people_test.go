package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/tracking"
)

// TestCampaignRatesCountPeopleAcrossResends drives a main step and a
// no_open resend through the real engine and tracking writer: the
// campaign's rates and goals count people, so they do not move when the
// resend goes out, while per-step rates stay per step; a person who
// clicks in both steps counts once; and after random traffic on both
// steps every number still equals a direct count over raw rows.
func TestCampaignRatesCountPeopleAcrossResends(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// 10 contacts, one refused by the mail server: 9 delivered people.
	c := b.seed(t, 10, 10,
		campaigns.Goal{Name: "opens", When: "open_rate >= 0.4"},
		campaigns.Goal{Name: "clicks", When: "ctr >= 0.1"},
	)
	c.Rules = []campaigns.Rule{{Name: "no open", On: "no_open", After: "3s",
		Actions: []campaigns.Action{{Type: "send", Step: "offer"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	b.launch(t, c)

	// Four people open the main step, one of them clicks: 4/9 open, 1/9 click.
	main, sentAt := b.stepDeliveries(t, c.ID, "main")
	require.Len(t, main, 9)
	record := func(id int64, ev tracking.Event) {
		t.Helper()
		ev.DeliveryID = id
		if ev.At.IsZero() {
			ev.At = sentAt[id].Add(time.Minute)
		}
		_, err := b.tracking.Record(ctx, ev)
		require.NoError(t, err)
	}
	for _, id := range main[:4] {
		record(id, tracking.Event{Type: tracking.TypeOpen})
	}
	record(main[0], tracking.Event{Type: tracking.TypeClick, LinkIdx: 0})
	before, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)

	// The resend goes to the people who did not open (the timer's verdict,
	// whenever it runs: the campaign's rates must hold either way).
	var resends int64
	require.Eventually(t, func() bool {
		var all, pending int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status IN ('queued', 'sending')),
				count(*) FILTER (WHERE sent_at IS NOT NULL)
			FROM deliveries WHERE campaign_id = $1 AND step = 'offer'`, c.ID).Scan(&all, &pending, &resends))
		return resends > 0 && pending == 0
	}, 60*time.Second, 20*time.Millisecond)
	// The send fold counts the resends: settle it, then read the report.
	// A timer may still send another resend meanwhile: the raw count read
	// before the settling and again after the report tells whether one
	// did (then the look comes again), so the report is compared with the
	// resends it must count.
	sentOffers := func() int64 {
		var n int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries
			WHERE campaign_id = $1 AND step = 'offer' AND sent_at IS NOT NULL`, c.ID).Scan(&n))
		return n
	}
	var after campaigns.Report
	require.Eventually(t, func() bool {
		n := sentOffers()
		b.settleSends(ctx, t)
		r, err := b.svc.Report(ctx, c.ID)
		require.NoError(t, err)
		if sentOffers() != n {
			return false
		}
		after, resends = r, n
		return true
	}, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, 10+resends, after.Metrics.Sent, "the resend's messages count")
	for _, m := range []campaigns.Metrics{before.Metrics, after.Metrics} {
		require.EqualValues(t, 10, m.Recipients)
		require.EqualValues(t, 9, m.RecipientsDelivered)
		require.InDelta(t, 4.0/9, m.OpenRate, 1e-12)
		require.InDelta(t, 1.0/9, m.CTR, 1e-12)
		require.InDelta(t, 1.0/4, m.CTOR, 1e-12)
		require.InDelta(t, 1.0/10, m.BounceRate, 1e-12)
	}
	require.Equal(t, goalStates(before.Goals), goalStates(after.Goals))
	require.Equal(t, []string{"met", "met"}, goalStates(after.Goals))
	// Per step: the resend's own rates over its own messages.
	require.EqualValues(t, resends, after.Steps["offer"].Sent)
	require.Zero(t, after.Steps["offer"].OpenRate)
	require.InDelta(t, 4.0/9, after.Steps["main"].OpenRate, 1e-12)

	// A resend recipient opens it and clicks in both steps: one more
	// person who opened and clicked, not two clicks' worth of people.
	var offerID, mainID int64
	var offerSent time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT o.id, m.id, o.sent_at FROM deliveries o
		JOIN deliveries m ON m.campaign_id = o.campaign_id AND m.contact_id = o.contact_id AND m.step = 'main'
		WHERE o.campaign_id = $1 AND o.step = 'offer' AND o.status = 'sent' AND m.first_open_at IS NULL
		ORDER BY o.id LIMIT 1`, c.ID).Scan(&offerID, &mainID, &offerSent))
	later := offerSent.Add(time.Hour) // long after sending: a human's pace
	record(offerID, tracking.Event{Type: tracking.TypeOpen, At: later})
	record(offerID, tracking.Event{Type: tracking.TypeClick, LinkIdx: 1, At: later.Add(time.Minute)})
	record(mainID, tracking.Event{Type: tracking.TypeClick, LinkIdx: 0, At: later.Add(2 * time.Minute)})
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 5, r.Metrics.UniqueOpens)
	require.EqualValues(t, 2, r.Metrics.UniqueClicks)
	require.EqualValues(t, 3, r.Steps["main"].UniqueClicks+r.Steps["offer"].UniqueClicks, "per step, each delivery counts")
	require.InDelta(t, 5.0/9, r.Metrics.OpenRate, 1e-12)
	require.InDelta(t, 2.0/9, r.Metrics.CTR, 1e-12)

	// Purchases in two currencies: revenue is the reporting currency's
	// (EUR) only; JPY is reported beside it, never added to it.
	buy(t, b, c.ID, mainID, 590, "EUR")
	buy(t, b, c.ID, mainID, 10000, "jpy")
	r, err = b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "EUR", r.Metrics.Currency)
	require.Equal(t, map[string]float64{"EUR": 590, "JPY": 10000}, r.Metrics.RevenueByCurrency)
	require.InDelta(t, 590.0, r.Metrics.Revenue, 1e-9)
	require.InDelta(t, 590.0/9, r.Metrics.RevenuePerRecipient, 1e-9)
	require.EqualValues(t, 1, r.Metrics.Converted)
	require.EqualValues(t, 2, r.Metrics.Conversions)

	// Random traffic on both steps, then every number against raw rows.
	generateEvents(t, b, c)
	r, err = b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	raw := rawMetrics(t, b, c.ID, "")
	requireMetrics(t, raw, r.Metrics, "campaign")
	for _, step := range []string{"main", "offer"} {
		requireMetrics(t, rawMetrics(t, b, c.ID, step), r.Steps[step], step)
	}
}

// buy records a purchase of the contact of delivery deliveryID for
// campaignID through the production conversion recorder.
func buy(t *testing.T, b *bundle, campaignID, deliveryID int64, value float64, currency string) {
	t.Helper()
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	var contactID int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT contact_id FROM deliveries WHERE id = $1`, deliveryID).Scan(&contactID))
	txID := factory.Transaction(t, tx, contactID, factory.Value(value), factory.Currency(currency))
	require.NoError(t, b.tracking.Conversions().RecordConversion(ctx, tx, contactID, txID, &campaignID, value, time.Now().Add(time.Hour)))
	require.NoError(t, tx.Commit(ctx))
}

func goalStates(gs []campaigns.GoalResult) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Status
	}
	return out
}

// stepDeliveries returns the campaign's sent deliveries of one step.
func (b *bundle) stepDeliveries(t *testing.T, campaignID int64, step string) ([]int64, map[int64]time.Time) {
	t.Helper()
	ids, sent := b.deliveries(t, campaignID)
	var out []int64
	for _, id := range ids {
		var s string
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT step FROM deliveries WHERE id = $1`, id).Scan(&s))
		if s == step {
			out = append(out, id)
		}
	}
	return out, sent
}
