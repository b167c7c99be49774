package engine_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/tracking"
)

// launchWithHoldout seeds n contacts and launches a campaign to them that
// keeps share out, and waits until it has finished sending.
func launchWithHoldout(t *testing.T, b *bundle, n int, share float64) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	c := b.seed(t, n, 0)
	c.Settings.Holdout = share
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 90*time.Second)
	c, err = campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	return c
}

// heldEmails reads the recorded holdout's addresses.
func heldEmails(t *testing.T, b *bundle, campaignID int64) map[string]bool {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT c.email FROM campaign_holdouts h JOIN contacts c ON c.id = h.contact_id
		WHERE h.campaign_id = $1`, campaignID)
	require.NoError(t, err)
	out := map[string]bool{}
	for rows.Next() {
		var e string
		require.NoError(t, rows.Scan(&e))
		out[e] = true
	}
	require.NoError(t, rows.Err())
	return out
}

// TestHoldoutReceivesNothingAndSurvivesRestart: a 10% holdout gets no mail
// at the real SMTP server, is exactly the hash's choice (so within the
// binomial range), and walking the whole segment again — what a launch job
// restarted from its first page after a crash does — neither reassigns
// anyone nor sends anything twice.
func TestHoldoutReceivesNothingAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	const n, share = 1000, 0.1
	c := launchWithHoldout(t, b, n, share)

	held := heldEmails(t, b, c.ID)
	want := 0
	rows, err := b.pool.Query(ctx, `SELECT id FROM contacts`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		if holdout.Held(c.ID, id, share) {
			want++
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, len(held), "the recorded group is exactly the hash's choice")
	sd := math.Sqrt(n * share * (1 - share))
	require.InDelta(t, n*share, float64(len(held)), 4*sd, "holdout size within the binomial range")

	msgs := b.sink.Messages()
	require.Len(t, msgs, n-len(held))
	for _, m := range msgs {
		require.False(t, held[m.To[0]], "holdout member %s received mail", m.To[0])
	}
	var deliveredHeld int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries d JOIN campaign_holdouts h
		ON h.campaign_id = d.campaign_id AND h.contact_id = d.contact_id WHERE d.campaign_id = $1`, c.ID).Scan(&deliveredHeld))
	require.Zero(t, deliveredHeld, "no holdout member has a delivery")

	// A restart from the first page. The launch bookkeeping is reset in SQL:
	// no owner function rewinds a finished walk, which only a crash between
	// a page's commit and the job's completion (at worst) replays.
	_, err = b.pool.Exec(ctx, `UPDATE campaigns SET status = 'running', finished_at = NULL, launch_cursor = 0, launch_done = false WHERE id = $1`, c.ID)
	require.NoError(t, err)
	_, err = b.client.Insert(ctx, engine.LaunchArgs{CampaignID: c.ID}, nil)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 60*time.Second)
	b.waitSettled(t, c.ID, "launch", "send", "send_packed")
	require.Equal(t, held, heldEmails(t, b, c.ID), "the restart reassigned no one")
	require.Equal(t, n-len(held), b.sink.Count(), "the restart sent nothing again")

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, r.Holdout)
	require.EqualValues(t, len(held), r.Holdout.Size)
	require.EqualValues(t, n-len(held), r.Holdout.TreatedSize)
	require.False(t, r.Holdout.EnoughData, "no conversions: no conclusion")
}

// TestHoldoutLiftCoversPlantedEffect plants conversions through the events
// API's real path (contacts.RecordEvent): 20% of the treated people and
// 10% of the holdout buy within the conversion window. The report's lift
// is the planted groups' lift and its 95% interval covers it; purchases
// before launch, other event types and another currency do not count.
func TestHoldoutLiftCoversPlantedEffect(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	const n, share = 2000, 0.1
	c := launchWithHoldout(t, b, n, share)
	launched := *c.LaunchedAt

	var treated, held []int64
	rows, err := b.pool.Query(ctx, `SELECT c.id, h.contact_id IS NOT NULL FROM contacts c
		LEFT JOIN campaign_holdouts h ON h.campaign_id = $1 AND h.contact_id = c.id ORDER BY c.id`, c.ID)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var isHeld bool
		require.NoError(t, rows.Scan(&id, &isHeld))
		if isHeld {
			held = append(held, id)
		} else {
			treated = append(treated, id)
		}
	}
	require.NoError(t, rows.Err())
	kT, kH := len(treated)/5, len(held)/10 // 20% and 10%, planted exactly
	cv := tracking.NewConversions(b.client)
	conv := contacts.ConversionFunc(func(ctx context.Context, tx pgx.Tx, t contacts.Transaction) error {
		return cv.RecordConversion(ctx, tx, t.ContactID, t.ID, t.CampaignID, t.Value, t.OccurredAt)
	})
	post := func(id int64, typ string, value float64, cur string, at time.Time) {
		_, _, err := contacts.RecordEvent(ctx, b.pool, conv, contacts.EventInput{ContactID: id, Type: typ, Value: value, Currency: cur, OccurredAt: &at})
		require.NoError(t, err)
	}
	in := launched.Add(time.Hour)
	for i, id := range treated[:kT] {
		post(id, "purchase", 30, "EUR", in)
		if i%10 == 0 {
			post(id, "purchase", 30, "EUR", in.Add(time.Minute)) // a second purchase: one more event, the same person
		}
	}
	for _, id := range held[:kH] {
		post(id, "conversion", 10, "", in)
	}
	post(held[kH], "purchase", 99, "EUR", launched.Add(-time.Hour))                                      // before launch
	post(held[kH+1], "signup", 99, "EUR", in)                                                            // not a conversion
	post(held[0], "purchase", 5000, "JPY", in)                                                           // converted already; another currency
	post(held[kH+2], "purchase", 99, "EUR", launched.Add(campaigns.DefaultRulesWindow+time.Hour*24*365)) // after the window

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	h := r.Holdout
	require.NotNil(t, h)
	require.EqualValues(t, len(held), h.Size)
	require.EqualValues(t, len(treated), h.TreatedSize)
	require.EqualValues(t, kH, h.Conversions)
	require.EqualValues(t, kT, h.TreatedConversions)
	require.EqualValues(t, kT+(kT+9)/10, h.TreatedConversionEvents)
	require.EqualValues(t, kH+1, h.ConversionEvents, "the JPY purchase is an event, not revenue")
	require.InDelta(t, float64(kH*10), h.Revenue, 1e-6)
	require.InDelta(t, float64(30*(kT+(kT+9)/10)), h.TreatedRevenue, 1e-6)
	require.Equal(t, "EUR", h.Currency)

	rateT, rateH := float64(kT)/float64(len(treated)), float64(kH)/float64(len(held))
	trueLift := rateT/rateH - 1
	require.NotNil(t, h.Lift)
	require.InDelta(t, trueLift, *h.Lift, 1e-9)
	require.Len(t, h.LiftInterval, 2)
	require.LessOrEqual(t, h.LiftInterval[0], trueLift, "the interval covers the planted lift")
	require.GreaterOrEqual(t, h.LiftInterval[1], trueLift, "the interval covers the planted lift")
	require.Greater(t, h.LiftInterval[0], 0.0, "a doubling on ~200 held people is a clear effect")
	require.InDelta(t, rateT-rateH, h.Difference, 1e-12)
	require.LessOrEqual(t, h.DifferenceInterval[0], rateT-rateH)
	require.GreaterOrEqual(t, h.DifferenceInterval[1], rateT-rateH)
	require.InDelta(t, (rateT-rateH)*float64(len(treated)), h.IncrementalConversions, 1e-6)
	require.True(t, h.EnoughData)
	require.True(t, h.Significant)
	require.Equal(t, launched.Add(7*24*time.Hour), h.WindowEndsAt)
	require.Equal(t, fmt.Sprint(holdout.Method), h.Method)
}
