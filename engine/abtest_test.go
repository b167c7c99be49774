package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/internal/smtptest"
)

// abClock is a clock the test moves.
type abClock struct{ ns atomic.Int64 }

func newABClock(at time.Time) *abClock {
	c := &abClock{}
	c.ns.Store(at.UnixNano())
	return c
}
func (c *abClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *abClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// abCampaign seeds n contacts and a campaign whose first step tests A (the
// template as it is) against B (its own subject), on test share.
func (b *bundle) abCampaign(t *testing.T, n int, throttle, share float64, winner string) campaigns.Campaign {
	t.Helper()
	c := b.seed(t, n, throttle)
	c.Steps[0].Variants = []campaigns.Variant{{Key: "A"}, {Key: "B", Subject: "Spring B {{ .Contact.Name }}"}}
	c.ABTest = &campaigns.ABTest{Step: "main", TestShare: share, Metric: campaigns.ABMetricCTR, Duration: "4h", Winner: winner}
	require.NoError(t, b.svc.Update(context.Background(), &c))
	return c
}

// assignments reads every contact's recorded place in campaign id's test:
// its delivery's variant, or "rest" for the remainder without a delivery.
func (b *bundle) assignments(t *testing.T, id int64) map[string]string {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `
		SELECT c.email, coalesce(d.variant, '') || CASE WHEN r.contact_id IS NOT NULL THEN '/rest' ELSE '' END
		FROM contacts c
		LEFT JOIN deliveries d ON d.contact_id = c.id AND d.campaign_id = $1
		LEFT JOIN ab_remainder r ON r.contact_id = c.id AND r.campaign_id = $1
		WHERE d.id IS NOT NULL OR r.contact_id IS NOT NULL`, id)
	require.NoError(t, err)
	out := map[string]string{}
	var email, v string
	_, err = pgx.ForEachRow(rows, []any{&email, &v}, func() error { out[email] = v; return nil })
	require.NoError(t, err)
	return out
}

// waitTestSent waits until campaign id's launch is done and every
// delivery it created (the test group's) has an outcome.
func (b *bundle) waitTestSent(t *testing.T, id int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		var open, all int
		var done bool
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status IN ('queued', 'sending')),
			(SELECT count(*) FROM deliveries WHERE campaign_id = $1),
			(SELECT launch_done FROM campaigns WHERE id = $1)`, id).Scan(&open, &all, &done))
		return done && all > 0 && open == 0
	}, 60*time.Second, 20*time.Millisecond)
}

// decideNow runs the periodic decide job once and waits for it.
func (b *bundle) decideNow(t *testing.T) {
	t.Helper()
	res, err := b.client.Insert(context.Background(), engine.DecideABTestsArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var state string
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT state FROM river_job WHERE id = $1`, res.Job.ID).Scan(&state))
		return state == "completed"
	}, 30*time.Second, 20*time.Millisecond)
}

// subjectsByRecipient lists the subjects each recipient got from sinks.
func subjectsByRecipient(t *testing.T, sinks ...*smtptest.Server) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, s := range sinks {
		for _, m := range s.Messages() {
			p, err := outbox.Parse(m.Data)
			require.NoError(t, err)
			out[m.To[0]] = append(out[m.To[0]], p.Subject)
		}
	}
	return out
}

// TestABTestPicksThePlantedWinnerAndSendsItToTheRest: recipients of B
// click, those of A hardly do; the test waits for its duration on the
// engine's clock, then picks B and sends B, through the send path, to the
// contacts held back.
func TestABTestPicksThePlantedWinnerAndSendsItToTheRest(t *testing.T) {
	t.Parallel()
	clock := newABClock(time.Now().UTC().Truncate(time.Second))
	b := setupFull(t, nil, engine.WebhookConfig{}, clock.Now)
	ctx := context.Background()
	const n = 80
	c := b.abCampaign(t, n, 0, 0.5, campaigns.ABWinnerAuto)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitTestSent(t, c.ID)

	got := b.assignments(t, c.ID)
	require.Len(t, got, n, "everyone is assigned")
	arms := map[string][]string{}
	for email, v := range got {
		arms[v] = append(arms[v], email)
	}
	require.NotEmpty(t, arms["A"])
	require.NotEmpty(t, arms["B"])
	require.NotEmpty(t, arms["/rest"])
	require.Len(t, b.sink.Messages(), len(arms["A"])+len(arms["B"]), "only the test group is sent to")
	for _, email := range arms["/rest"] {
		require.Empty(t, subjectsByRecipient(t, b.sink)[email], "the remainder waits")
	}
	subjects := subjectsByRecipient(t, b.sink)
	for _, email := range arms["B"] {
		require.True(t, strings.HasPrefix(subjects[email][0], "Spring B User "), subjects[email])
	}
	for _, email := range arms["A"] {
		require.True(t, strings.HasPrefix(subjects[email][0], "سلام User "), subjects[email])
	}

	// The planted difference: every B recipient clicks, one A recipient does.
	srv := b.trackingServer(t)
	for _, email := range arms["B"] {
		b.clickOnly(t, srv, email, "Pricing")
	}
	b.clickOnly(t, srv, arms["A"][0], "Pricing")

	// Before the duration has passed, nothing is decided.
	b.decideNow(t)
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.ABStateTesting, r.ABTest.State)
	require.Equal(t, "B", r.ABTest.Leader)
	require.Equal(t, campaigns.StatusRunning, r.Status, "the campaign waits for its remainder")

	clock.Advance(4*time.Hour + time.Minute)
	b.decideNow(t)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 60*time.Second)

	subjects = subjectsByRecipient(t, b.sink)
	for _, email := range arms["/rest"] {
		require.Len(t, subjects[email], 1, email)
		require.True(t, strings.HasPrefix(subjects[email][0], "Spring B User "), "the remainder gets B: %v", subjects[email])
	}
	for email, s := range subjects {
		require.Len(t, s, 1, "%s got %d messages", email, len(s))
	}
	require.Len(t, subjects, n)

	r, err = b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.ABStateRemainderSent, r.ABTest.State)
	require.Equal(t, "B", r.ABTest.Winner)
	require.Equal(t, campaigns.ABWinnerAuto, r.ABTest.ChosenBy)
	require.True(t, strings.HasPrefix(r.ABTest.Reason, "B: click rate 100.0% vs "), r.ABTest.Reason)
	require.Len(t, r.Variants, 2)
	a, bv := r.Variants[0], r.Variants[1]
	require.Equal(t, "A", a.Key)
	require.True(t, bv.Winner)
	require.False(t, a.Winner)
	require.EqualValues(t, len(arms["B"]), bv.Sent, "the report counts the test group, not the remainder")
	require.EqualValues(t, len(arms["A"]), a.Sent)
	require.InDelta(t, 1.0, bv.Value, 1e-9)
	require.Greater(t, bv.PBest, 0.99)
	require.Less(t, bv.Interval[0], bv.PosteriorMean)
	require.Greater(t, bv.Interval[1], bv.PosteriorMean)
	require.Greater(t, bv.Interval[0], a.Interval[1], "the planted gap is far outside the intervals")
	require.EqualValues(t, n, r.Progress.Sent)
}

// TestABTestRestartMidTestReassignsNoOne stops the engine while the test
// group is being sent (cancelling the jobs in flight) and starts a new
// one on the same database: every contact keeps its variant or its place
// in the remainder, and no one gets a second message.
func TestABTestRestartMidTestReassignsNoOne(t *testing.T) {
	t.Parallel()
	clock := newABClock(time.Now().UTC().Truncate(time.Second))
	b := setupFull(t, nil, engine.WebhookConfig{}, clock.Now)
	ctx := context.Background()
	const n = 120
	c := b.abCampaign(t, n, 20, 0.5, campaigns.ABWinnerAuto)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(b.sink.Messages()) >= 10 }, 60*time.Second, 10*time.Millisecond)

	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, b.client.StopAndCancel(stopCtx))
	before := b.assignments(t, c.ID)
	require.Len(t, before, n, "the launch recorded everyone's place")
	sentBefore := len(b.sink.Messages())
	require.Less(t, sentBefore, n/2, "stopped mid-test")

	// A new process on the same database. The cancelled jobs retry after
	// their backoff and reclaim their claims once stale (minutes, on the
	// database's clock): age both, as if that time had passed.
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE state IN ('retryable', 'scheduled') AND kind IN ('send', 'send_packed')`)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE deliveries SET sending_at = sending_at - interval '1 hour' WHERE campaign_id = $1 AND status = 'sending'`, c.ID)
	require.NoError(t, err)
	b2 := setupFull(t, b.pool, engine.WebhookConfig{}, clock.Now)
	b2.waitTestSent(t, c.ID)
	require.Equal(t, before, b2.assignments(t, c.ID), "no one is reassigned")

	// Picked early (auto mode allows it), through the service.
	st, err := b2.svc.PickWinner(ctx, c.ID, "A")
	require.NoError(t, err)
	require.Equal(t, "A", st.Winner)
	require.Equal(t, campaigns.ABWinnerManual, st.ChosenBy)
	b2.waitStatus(t, c.ID, campaigns.StatusFinished, 60*time.Second)

	after := b2.assignments(t, c.ID)
	for email, v := range before {
		if v == "/rest" {
			require.Equal(t, "A/rest", after[email], "%s: the remainder gets the winner", email)
			continue
		}
		require.Equal(t, v, after[email], email)
	}
	subjects := subjectsByRecipient(t, b.sink, b2.sink)
	require.Len(t, subjects, n)
	firstRun := subjectsByRecipient(t, b.sink)
	dups := 0
	for email, s := range subjects {
		if len(s) > 1 {
			// The send path's one allowance (docs/sending.md): a message
			// in flight when the process died — accepted by the server,
			// not yet recorded — goes again. Only such, at most a chunk.
			require.Len(t, s, 2, "%s got %v", email, s)
			require.NotEmpty(t, firstRun[email], "%s: only a message in flight at the stop may go twice", email)
			require.Equal(t, s[0], s[1], "%s: the same variant both times", email)
			dups++
		}
		want := "سلام User "
		if before[email] == "B" {
			want = "Spring B User "
		}
		require.True(t, strings.HasPrefix(s[0], want), fmt.Sprintf("%s (%s) got %q", email, before[email], s[0]))
	}
	t.Logf("%d messages before the stop, %d in flight sent again", sentBefore, dups)
	require.LessOrEqual(t, dups, 20, "at most one throttled chunk (a second's worth) was in flight")
	// The winner is fixed: a second pick is refused.
	_, err = b2.svc.PickWinner(ctx, c.ID, "B")
	require.Error(t, err)
}
