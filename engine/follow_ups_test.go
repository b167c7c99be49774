package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/migrations/pgtest"
)

// TestFollowUpsWaitingCountsScheduledJobs schedules follow-up jobs as the
// engine does (and a send of the older format), next to jobs that must not
// count (another campaign's, the launch's sends, finished and cancelled
// ones), and counts them.
func TestFollowUpsWaitingCountsScheduledJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // insert only
	require.NoError(t, err)
	later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
	insert := func(args river.JobArgs, opts *river.InsertOpts) int64 {
		t.Helper()
		var id int64
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			res, err := client.InsertTx(ctx, tx, args, opts)
			if err == nil {
				id = res.Job.ID
			}
			return err
		}))
		return id
	}
	insert(engine.TimerArgs{CampaignID: 7, Rule: "no open", DeliveryIDs: []int64{1, 2, 3}}, later)
	insert(engine.TimerArgs{CampaignID: 7, Rule: "no open", DeliveryIDs: []int64{4}}, later)
	insert(engine.TimerArgs{CampaignID: 7, Rule: "no click", DeliveryIDs: []int64{5, 6}}, nil) // due: available
	insert(engine.SendArgs{CampaignID: 7, DeliveryIDs: []int64{10, 11}, Rule: "pricing", Step: "offer"}, later)
	insert(engine.SendArgs{CampaignID: 7, DeliveryIDs: []int64{12}, Rule: "pricing", Step: "offer"}, later)
	insert(engine.SendArgs{CampaignID: 7, DeliveryIDs: []int64{13}, Rule: "pricing", Step: "reminder"}, later)
	// One an older process enqueued: kind send, its ids as an array.
	_, err = pool.Exec(ctx, `INSERT INTO river_job (kind, args, queue, state, max_attempts, scheduled_at)
		VALUES ('send', '{"campaign_id": 7, "delivery_ids": [14, 15], "rule": "pricing", "step": "offer"}', 'send', 'scheduled', 10, now() + interval '1 hour')`)
	require.NoError(t, err)
	// Not waiting: the launch's sends, another campaign's follow-ups, and
	// follow-ups that ran or were cancelled.
	insert(engine.SendArgs{CampaignID: 7, DeliveryIDs: []int64{20, 21, 22}}, later)
	insert(engine.TimerArgs{CampaignID: 70, Rule: "no open", DeliveryIDs: []int64{30}}, later)
	insert(engine.SendArgs{CampaignID: 17, DeliveryIDs: []int64{31}, Rule: "pricing", Step: "offer"}, later)
	done := insert(engine.TimerArgs{CampaignID: 7, Rule: "no open", DeliveryIDs: []int64{40, 41}}, later)
	cancelled := insert(engine.SendArgs{CampaignID: 7, DeliveryIDs: []int64{42}, Rule: "pricing", Step: "offer"}, later)
	_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, done)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = now() WHERE id = $1`, cancelled)
	require.NoError(t, err)

	w, err := engine.FollowUpsWaiting(ctx, pool, 7)
	require.NoError(t, err)
	require.Equal(t, campaigns.FollowUps{
		Timers: map[string]int64{"no open": 4, "no click": 2},
		Sends:  map[string]map[string]int64{"pricing": {"offer": 5, "reminder": 1}},
	}, w)

	w, err = engine.FollowUpsWaiting(ctx, pool, 8)
	require.NoError(t, err)
	require.Empty(t, w.Timers)
	require.Empty(t, w.Sends)
}

// TestReportCountsWaitingFollowUps runs a campaign whose timer rule waits
// three days and whose click rule sends an offer an hour later: the report
// counts every recipient waiting for the timer, then the clicker's offer
// waiting out its hour, on the rule's arrow to that step.
func TestReportCountsWaitingFollowUps(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 3, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{
		{Name: "pricing click", On: "click", When: `event.link.url contains "pricing"`,
			Actions: []campaigns.Action{{Type: "send", Step: "offer", Delay: "1h"}}},
		{Name: "no open", On: "no_open", After: "72h", Actions: []campaigns.Action{{Type: "add_tag", Tag: "sleepy"}}},
	}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)

	rules := func() map[string]campaigns.RuleCount {
		r, err := b.svc.Report(ctx, c.ID)
		require.NoError(t, err)
		out := map[string]campaigns.RuleCount{}
		for _, rc := range r.Rules {
			out[rc.Name] = rc
		}
		return out
	}
	require.Eventually(t, func() bool { return rules()["no open"].Waiting == 3 }, 20*time.Second, 20*time.Millisecond,
		"every first message waits for its no-open check")
	require.Empty(t, rules()["pricing click"].Delayed)

	b.click(t, srv, "user1@example.com", "Pricing")
	require.Eventually(t, func() bool { return rules()["pricing click"].Fired == 1 }, 20*time.Second, 20*time.Millisecond)
	got := rules()
	require.Equal(t, map[string]int64{"offer": 1}, got["pricing click"].Delayed, "the offer waits out its hour")
	require.Zero(t, got["pricing click"].Waiting, "an event rule has no timer")
	require.Equal(t, int64(3), got["no open"].Waiting)

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StepDeliveries{Created: 3}, r.StepDeliveries["main"])
	require.Equal(t, campaigns.StepDeliveries{Created: 1, Waiting: 1}, r.StepDeliveries["offer"])
}
