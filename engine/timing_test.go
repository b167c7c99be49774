package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/timing"
	"github.com/peykar/peykar/engine"
)

// clockAt is a movable clock (journey_api_test.go) reading t.
func clockAt(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) { c.at.Store(&t) }

// timingSetup is an engine reading clk, with one segment (everyone) and
// one template, and contacts made with attrs by email.
func timingSetup(t *testing.T, clk *testClock, people map[string]map[string]any) (*bundle, campaigns.Campaign) {
	t.Helper()
	b := setupFull(t, nil, engine.WebhookConfig{}, clk.Now)
	c := b.seed(t, 0, 0)
	for email, attrs := range people {
		_, err := contacts.Create(context.Background(), b.pool, contacts.ContactInput{Email: email, Attributes: attrs})
		require.NoError(t, err)
	}
	return b, c
}

// wakeSends makes the campaign's waiting send jobs due now, as if their
// snooze had passed (once they have snoozed), and waits until one has run and decided to wait again
// or every send job of the campaign has ended.
func (b *bundle) wakeSends(t *testing.T, campaignID int64) {
	t.Helper()
	// The job that held the deliveries snoozes after it recorded them.
	b.waitSettled(t, campaignID, "send", "send_packed")
	_, err := b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'available', scheduled_at = now(), attempted_at = NULL
		WHERE kind IN ('send', 'send_packed') AND state IN ('scheduled', 'available') AND (args->>'campaign_id')::bigint = $1`, campaignID)
	require.NoError(t, err)
	b.waitSettled(t, campaignID, "send", "send_packed")
}

// heldAs waits until the campaign's delivery to email is back in the queue
// with detail.
func (b *bundle) heldAs(t *testing.T, campaignID int64, email, detail string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var status, last string
		err := b.pool.QueryRow(context.Background(), `SELECT d.status, d.last_error FROM deliveries d JOIN contacts c ON c.id = d.contact_id
			WHERE d.campaign_id = $1 AND c.email = $2`, campaignID, email).Scan(&status, &last)
		return err == nil && status == "queued" && last == detail
	}, 30*time.Second, 20*time.Millisecond, "%s was not held (%s)", email, detail)
}

// sentAt waits until the campaign's delivery to email is sent and returns
// when.
func (b *bundle) sentAt(t *testing.T, campaignID int64, email string) time.Time {
	t.Helper()
	var at *time.Time
	require.Eventually(t, func() bool {
		err := b.pool.QueryRow(context.Background(), `SELECT d.sent_at FROM deliveries d JOIN contacts c ON c.id = d.contact_id
			WHERE d.campaign_id = $1 AND c.email = $2 AND d.status = 'sent'`, campaignID, email).Scan(&at)
		return err == nil && at != nil
	}, 30*time.Second, 20*time.Millisecond, "%s was not sent", email)
	return *at
}

// TestSendTimeLocalNine: with send_time 09:00, a recipient in Asia/Tehran
// (timezone attribute) and one in America/New_York (inferred from the
// country) each get the first step at their own 09:00 after the launch:
// a minute before, neither has mail; at the first's 09:00 only the first
// has; at the second's, the second too. One send job carries both.
func TestSendTimeLocalNine(t *testing.T) {
	t.Parallel()
	clk := clockAt(time.Now())
	b, c := timingSetup(t, clk, map[string]map[string]any{
		"tehran@example.com": {"timezone": "Asia/Tehran"},
		"ny@example.com":     {"country": "US"},
	})
	ctx := context.Background()
	c.Settings.SendTime = &campaigns.SendTime{LocalTime: "09:00", DefaultTimezone: "UTC"}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.heldAs(t, c.ID, "tehran@example.com", "held for its local send time")
	b.heldAs(t, c.ID, "ny@example.com", "held for its local send time")
	require.Zero(t, b.sink.Count())

	got, err := campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	nine, _ := timing.ParseClock("09:00")
	tehran, _ := timing.Load("Asia/Tehran")
	ny, _ := timing.Load("America/New_York")
	due := map[string]time.Time{
		"tehran@example.com": timing.NextAt(*got.LaunchedAt, tehran, nine),
		"ny@example.com":     timing.NextAt(*got.LaunchedAt, ny, nine),
	}
	first, second := "tehran@example.com", "ny@example.com"
	if due[second].Before(due[first]) {
		first, second = second, first
	}
	require.NotEqual(t, due[first], due[second], "Tehran and New York never share 09:00")

	clk.Set(due[first].Add(-time.Minute))
	b.wakeSends(t, c.ID)
	require.Zero(t, b.sink.Count(), "nobody before their 09:00")

	clk.Set(due[first])
	b.wakeSends(t, c.ID)
	require.True(t, due[first].Equal(b.sentAt(t, c.ID, first)))
	b.waitSettled(t, c.ID, "send", "send_packed")
	require.Equal(t, 1, b.received(first, ""))
	require.Zero(t, b.received(second, ""), "the second is still before its 09:00")
	b.heldAs(t, c.ID, second, "held for its local send time")
	local := due[first].In(map[string]*time.Location{"tehran@example.com": tehran, "ny@example.com": ny}[first])
	require.Equal(t, 9, local.Hour())

	clk.Set(due[second])
	b.wakeSends(t, c.ID)
	require.True(t, due[second].Equal(b.sentAt(t, c.ID, second)))
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	require.Equal(t, 1, b.received(second, ""))
	require.Equal(t, 2, b.sink.Count(), "held, never dropped, never twice")
}

// TestQuietHoursHoldAndRelease: a message due at 23:00 in the recipient's
// zone under quiet hours 22:00–08:00 is held; at 07:59 still held; at
// 08:00 it goes.
func TestQuietHoursHoldAndRelease(t *testing.T) {
	t.Parallel()
	tehran, _ := timing.Load("Asia/Tehran")
	clk := clockAt(time.Date(2031, 5, 4, 23, 0, 0, 0, tehran))
	b, c := timingSetup(t, clk, map[string]map[string]any{"late@example.com": {"phone": "+98 912 000 0000"}})
	ctx := context.Background()
	c.Settings.QuietHours = &campaigns.QuietHours{From: "22:00", To: "08:00"}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.heldAs(t, c.ID, "late@example.com", "held by quiet hours")

	clk.Set(time.Date(2031, 5, 5, 7, 59, 0, 0, tehran))
	b.wakeSends(t, c.ID)
	require.Zero(t, b.sink.Count(), "still quiet at 07:59")
	b.heldAs(t, c.ID, "late@example.com", "held by quiet hours")

	morning := time.Date(2031, 5, 5, 8, 0, 0, 0, tehran)
	clk.Set(morning)
	b.wakeSends(t, c.ID)
	require.True(t, morning.Equal(b.sentAt(t, c.ID, "late@example.com")))
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	require.Equal(t, 1, b.sink.Count())
}

// TestFrequencyCapAcrossCampaigns: with a cap of one message per 24 h
// across all campaigns, a second campaign's message to a contact who just
// had the first's is held (another contact gets it at once) and goes when
// the window allows; in skip mode a third campaign skips it and counts it
// as capped.
func TestFrequencyCapAcrossCampaigns(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 5, 4, 12, 0, 0, 0, time.UTC)
	clk := clockAt(at)
	b, base := timingSetup(t, clk, nil)
	ctx := context.Background()
	_, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: "busy@example.com"})
	require.NoError(t, err)
	// The first campaign reaches busy only (its own segment).
	var onlyBusy int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('busy', 'contact.email == "busy@example.com"') RETURNING id`).Scan(&onlyBusy))
	first := base
	first.SegmentID = &onlyBusy
	b.launchTo(t, first, "first")
	require.Equal(t, 1, b.received("busy@example.com", ""))

	_, err = contacts.Create(ctx, b.pool, contacts.ContactInput{Email: "calm@example.com"})
	require.NoError(t, err)
	capped := base
	capped.Settings.FrequencyCap = &campaigns.FrequencyCap{Max: 1, Per: "24h", Scope: campaigns.CapScopeAll}
	second := campaigns.Campaign{Name: "second", SegmentID: base.SegmentID, From: base.From, Steps: base.Steps, Settings: capped.Settings}
	require.NoError(t, b.svc.Create(ctx, &second))
	_, err = b.svc.Launch(ctx, second.ID)
	require.NoError(t, err)
	b.sentAt(t, second.ID, "calm@example.com")
	b.heldAs(t, second.ID, "busy@example.com", "held by the frequency cap")
	require.Equal(t, 1, b.received("busy@example.com", ""), "held, not sent")

	clk.Set(at.Add(24*time.Hour + time.Second))
	b.wakeSends(t, second.ID)
	b.sentAt(t, second.ID, "busy@example.com")
	b.waitStatus(t, second.ID, campaigns.StatusFinished, 30*time.Second)
	require.Equal(t, 2, b.received("busy@example.com", ""), "released when the window allowed")

	skip := capped.Settings
	skip.FrequencyCap = &campaigns.FrequencyCap{Max: 1, Per: "24h", Scope: campaigns.CapScopeAll, Action: campaigns.CapSkip}
	third := campaigns.Campaign{Name: "third", SegmentID: &onlyBusy, From: base.From, Steps: base.Steps, Settings: skip}
	require.NoError(t, b.svc.Create(ctx, &third))
	_, err = b.svc.Launch(ctx, third.ID)
	require.NoError(t, err)
	b.waitStatus(t, third.ID, campaigns.StatusFinished, 30*time.Second)
	require.Equal(t, 2, b.received("busy@example.com", ""), "skipped, not sent")
	p, err := b.eng.Progress(ctx, third.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1), p.Skipped)
	require.Equal(t, int64(1), p.Capped, "counted on the report")
	require.Equal(t, []campaigns.ProgressReason{{Status: "skipped", Reason: "frequency_cap", Count: 1}}, p.Reasons)
}
