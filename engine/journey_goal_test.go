package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGoalExitStopsTheJourney: a contact who reaches the goal named by a
// goal exit (here: clicked) is taken out before the next step goes; that
// step is skipped and counted, and the entry says why.
func TestGoalExitStopsTheJourney(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	ctx := context.Background()
	var withLink int64
	require.NoError(t, j.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html)
		VALUES ('welcome', 'Welcome', '<p>Hi <a href="https://shop.example/pricing">Pricing</a></p>') RETURNING id`).Scan(&withLink))
	tpl := j.templates(t, "Tips")
	c := welcomeSeries([]int64{withLink, tpl[0], tpl[0]}, "never")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": withLink}, {"key": "tips", "template_id": tpl[0]}}
	c["rules"] = []map[string]any{
		{"name": "tips a day later", "on": "sent", "step": "welcome", "actions": []map[string]any{{"type": "send", "step": "tips", "delay": "24h"}}},
	}
	c["goals"] = []map[string]any{{"name": "clicked", "when": "unique_clicks >= 1"}}
	c["exit"] = []map[string]any{{"goal": "clicked"}}
	id := j.createJourney(t, c)
	srv := j.trackingServer(t)

	j.postEvent(t, "sara@example.com", "signup", 0)
	j.postEvent(t, "ali@example.com", "signup", 0)
	j.waitReceived(t, "sara@example.com", 1)
	j.waitReceived(t, "ali@example.com", 1)
	j.click(t, srv, "sara@example.com", "Pricing")
	j.waitScheduledSend(t, id)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, j.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'tips'`, id).Scan(&n))
		return n == 2
	}, 20*time.Second, 20*time.Millisecond)
	j.fastForward(t, id, 24*time.Hour)
	j.waitReceived(t, "ali@example.com", 2)
	j.waitEntry(t, id, "sara@example.com", "exited")
	j.waitSettled(t, id, "send", "send_packed")
	require.Equal(t, 1, j.received("sara@example.com", ""), "the goal reached, no tips")
	require.Equal(t, "skipped", j.deliveryStatus(t, id, "sara@example.com", "tips"))
	exited := j.entries(t, id, "?status=exited")
	require.Len(t, exited, 1)
	require.Equal(t, "goal: clicked", exited[0].ExitReason)
	require.EqualValues(t, 1, j.report(t, id).Progress.Skipped)
}
