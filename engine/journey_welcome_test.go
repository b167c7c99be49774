package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// welcomeSeries is docs/journeys.md's welcome series: three steps over
// delays, entered on signup.
func welcomeSeries(tpl []int64, reentry string) map[string]any {
	return map[string]any{
		"name": "Welcome series", "channel": "email", "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"entry":   map[string]any{"type": "event", "event": "signup"},
		"reentry": reentry,
		"steps": []map[string]any{
			{"key": "welcome", "template_id": tpl[0]}, {"key": "tips", "template_id": tpl[1]}, {"key": "offer", "template_id": tpl[2]},
		},
		"rules": []map[string]any{
			{"name": "tips a day later", "on": "sent", "step": "welcome", "actions": []map[string]any{{"type": "send", "step": "tips", "delay": "24h"}}},
			{"name": "offer three days later", "on": "sent", "step": "tips", "actions": []map[string]any{{"type": "send", "step": "offer", "delay": "72h"}}},
		},
	}
}

// waitScheduledSend waits until the campaign has a send waiting for its
// time (a rule's delayed step, an entry's delay).
func (j *journeyBundle) waitScheduledSend(t *testing.T, campaignID int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, j.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind IN ('send', 'send_packed')
			AND state = 'scheduled' AND (args->>'campaign_id')::bigint = $1`, campaignID).Scan(&n))
		return n > 0
	}, 20*time.Second, 20*time.Millisecond, "campaign %d never scheduled a send", campaignID)
}

// TestWelcomeSeriesStartsOnSignupOnce: a signup posted through the API for
// a new address starts the series within seconds; a second signup starts
// nothing (reentry never); the next steps follow their delays on the
// engine's clock, in the entry's round, and the entry ends done at the
// last step.
func TestWelcomeSeriesStartsOnSignupOnce(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	id := j.createJourney(t, welcomeSeries(j.templates(t, "Welcome", "Tips", "Offer"), "never"))
	const sara = "sara@example.com"

	j.postEvent(t, sara, "signup", 0) // a new contact: RecordEvent creates it
	j.waitReceived(t, sara, 1)
	require.Equal(t, 1, j.received(sara, "Welcome"))
	j.postEvent(t, sara, "signup", 0)
	j.waitJourneyJobs(t)
	entries := j.entries(t, id, "")
	require.Len(t, entries, 1, "a second signup does not start the series again")
	require.Equal(t, "active", entries[0].Status)
	require.True(t, j.clock.Now().Equal(entries[0].EnteredAt), "entered at the engine's clock")

	j.waitScheduledSend(t, id)
	j.fastForward(t, id, 24*time.Hour)
	j.waitReceived(t, sara, 2)
	require.Equal(t, 1, j.received(sara, "Tips"))
	j.waitScheduledSend(t, id)
	j.fastForward(t, id, 72*time.Hour)
	j.waitReceived(t, sara, 3)
	require.Equal(t, 1, j.received(sara, "Offer"))
	j.waitEntry(t, id, sara, "done")
	entries = j.entries(t, id, "?status=done")
	require.Len(t, entries, 1)
	require.Equal(t, "offer", entries[0].Step)

	var rounds []int64
	rows, err := j.pool.Query(context.Background(), `SELECT DISTINCT round FROM deliveries WHERE campaign_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var r int64
		require.NoError(t, rows.Scan(&r))
		rounds = append(rounds, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int64{entries[0].ID}, rounds, "every step went in the entry's round")
	r := j.report(t, id)
	require.Equal(t, campaigns.StatusRunning, r.Status, "an always-on campaign keeps running")
	require.EqualValues(t, 3, r.Metrics.Sent)
	require.EqualValues(t, 1, r.Metrics.Recipients)
}

// TestReentryAlwaysStartsASecondRound: with reentry always each signup is
// a new round; both rounds are delivered and the report counts one person.
func TestReentryAlwaysStartsASecondRound(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	tpl := j.templates(t, "Welcome", "Tips", "Offer")
	c := welcomeSeries(tpl, "always")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": tpl[0]}}
	c["rules"] = []map[string]any{}
	id := j.createJourney(t, c)
	const sara = "sara@example.com"

	j.postEvent(t, sara, "signup", 0)
	j.waitReceived(t, sara, 1)
	j.postEvent(t, sara, "signup", 0)
	j.waitReceived(t, sara, 2)
	j.waitEntry(t, id, sara, "done", "done")
	r := j.report(t, id)
	require.EqualValues(t, 2, r.Metrics.Sent, "both rounds delivered")
	require.EqualValues(t, 1, r.Metrics.Recipients, "the report counts people")
	require.EqualValues(t, 2, r.Progress.Total)
}

// TestRuleExitEndsTheEntryOnly: a rule's exit action in a triggered
// campaign exits the contact's entry (its pending step skipped) without
// barring later entries, as reentry allows.
func TestRuleExitEndsTheEntryOnly(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	tpl := j.templates(t, "Welcome", "Tips")
	c := welcomeSeries([]int64{tpl[0], tpl[1], tpl[1]}, "always")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": tpl[0]}, {"key": "tips", "template_id": tpl[1]}}
	c["rules"] = []map[string]any{
		{"name": "tips a day later", "on": "sent", "step": "welcome", "actions": []map[string]any{{"type": "send", "step": "tips", "delay": "24h"}}},
		{"name": "stop", "on": "sent", "step": "welcome", "actions": []map[string]any{{"type": "exit"}}},
	}
	id := j.createJourney(t, c)
	const sara = "sara@example.com"
	j.postEvent(t, sara, "signup", 0)
	j.waitEntry(t, id, sara, "exited")
	exited := j.entries(t, id, "?status=exited")
	require.Equal(t, "rule: stop", exited[0].ExitReason)
	require.Equal(t, "skipped", j.deliveryStatus(t, id, sara, "tips"))

	j.postEvent(t, sara, "signup", 0)
	j.waitReceived(t, sara, 2)
	require.Equal(t, 2, j.received(sara, "Welcome"), "the next entry is not barred")
	j.waitEntry(t, id, sara, "exited", "exited")
}
