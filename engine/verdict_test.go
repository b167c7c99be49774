package engine_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/tracking"
)

// verdictClock is a clock the test sets.
type verdictClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *verdictClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *verdictClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// verdictCampaign launches, to user0 and user1, a message with three
// tracked links (A, B, C) and a rule that answers any click with an offer
// and a CRM webhook, and waits until it has been sent. It returns the
// campaign and the webhook receiver's hit counter.
func verdictCampaign(t *testing.T, b *bundle) (campaigns.Campaign, *atomic.Int32) {
	t.Helper()
	ctx := context.Background()
	crm, hits := receiver(t, ok)
	c := b.seed(t, 2, 0)
	var links int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('links', 'Links',
		'<p><a href="https://shop.example/a">A</a> <a href="https://shop.example/b">B</a> <a href="https://shop.example/c">C</a></p>') RETURNING id`).Scan(&links))
	c.Steps[0].TemplateID = links
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: b.followUpTemplate(t)})
	c.Settings.Webhook = &campaigns.WebhookSettings{Secret: "whsec_verdict-test"}
	c.Rules = []campaigns.Rule{{Name: "clicked", On: "click", Actions: []campaigns.Action{
		{Type: "send", Step: "offer"}, {Type: "webhook", URL: crm.URL + "/crm"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	return c, hits
}

// ruleJobs returns the scheduled times of the campaign's click rule jobs in
// the given state, in order.
func (b *bundle) ruleJobs(t *testing.T, campaignID int64, state string) []time.Time {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT scheduled_at FROM river_job
		WHERE kind = 'rules' AND (args->>'campaign_id')::bigint = $1 AND state = $2 ORDER BY scheduled_at`, campaignID, state)
	require.NoError(t, err)
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at time.Time
		require.NoError(t, rows.Scan(&at))
		out = append(out, at)
	}
	require.NoError(t, rows.Err())
	return out
}

func (b *bundle) countOf(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

// TestScannerBurstFiresNoFollowUp: a scanner with a browser user agent
// follows three links of one message within a second. Its first two
// clicks look human when stored, so each gets a rule job, scheduled for
// when its verdict is final; the third makes the burst machine traffic and
// reclassifies them. When the jobs run they read that verdict and fire
// nothing: no offer, no CRM webhook, no firing recorded.
func TestScannerBurstFiresNoFollowUp(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	clock := &verdictClock{t: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	srv := b.trackingServerAt(t, clock.Now)
	c, hits := verdictCampaign(t, b)

	t0 := clock.Now()
	for i, link := range []string{"A", "B", "C"} {
		clock.Set(t0.Add(time.Duration(i) * 300 * time.Millisecond))
		b.clickOnly(t, srv, "user0@example.com", link)
	}
	require.Equal(t, 3, b.countOf(t, `SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'click' AND machine AND reason = $2`,
		c.ID, tracking.ReasonBurst), "the whole burst is machine traffic")
	waiting := b.ruleJobs(t, c.ID, "scheduled")
	require.Len(t, waiting, 2, "the first two clicks were stored as human, with a rule job each")
	require.True(t, waiting[0].Equal(t0.Add(tracking.VerdictDelay)), "%v", waiting[0])
	require.True(t, waiting[1].Equal(t0.Add(300*time.Millisecond+tracking.VerdictDelay)), "%v", waiting[1])

	b.passVerdictWindow(t)
	require.Eventually(t, func() bool { return len(b.ruleJobs(t, c.ID, "completed")) == 2 }, 30*time.Second, 20*time.Millisecond)
	require.Zero(t, b.countOf(t, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1`, c.ID), "no rule fired, none failed")
	require.Zero(t, b.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'offer'`, c.ID), "no offer")
	require.Zero(t, b.countOf(t, `SELECT count(*) FROM river_job WHERE kind = 'webhook'`), "no CRM webhook")
	require.Zero(t, hits.Load())
	require.Zero(t, b.received("user0@example.com", "Your offer"))
}

// TestHumanClickFiresOnceAfterVerdictWindow: a person's click waits for its
// verdict (its rule job is scheduled tracking.VerdictDelay after the click
// and nothing has fired), then fires exactly once: one firing, one offer,
// one CRM webhook.
func TestHumanClickFiresOnceAfterVerdictWindow(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	clock := &verdictClock{t: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	srv := b.trackingServerAt(t, clock.Now)
	c, hits := verdictCampaign(t, b)

	t0 := clock.Now()
	b.clickOnly(t, srv, "user1@example.com", "B")
	waiting := b.ruleJobs(t, c.ID, "scheduled")
	require.Len(t, waiting, 1)
	require.True(t, waiting[0].Equal(t0.Add(tracking.VerdictDelay)), "%v", waiting[0])
	require.Zero(t, b.countOf(t, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1`, c.ID), "nothing fires before the verdict")

	b.passVerdictWindow(t)
	require.Eventually(t, func() bool {
		return b.received("user1@example.com", "Your offer") == 1 && hits.Load() == 1
	}, 30*time.Second, 20*time.Millisecond)
	// River marks a job completed shortly after its work commits.
	require.Eventually(t, func() bool { return len(b.ruleJobs(t, c.ID, "completed")) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1 AND status = 'fired'`, c.ID))
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1`, c.ID))
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'offer'`, c.ID))
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM river_job WHERE kind = 'webhook'`))
	require.Zero(t, b.received("user0@example.com", "Your offer"))
}
