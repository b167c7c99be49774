package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
)

// TestEngineClockDatesSendsAndFollowUps: with an injected clock, sends are
// recorded at the clock's time, and a timer rule's job is due "after" from
// that time, not from the machine's: the engine reads one clock.
func TestEngineClockDatesSendsAndFollowUps(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 5, 4, 9, 30, 0, 0, time.UTC)
	b := setupFull(t, nil, engine.WebhookConfig{}, func() time.Time { return at })
	ctx := context.Background()
	c := b.seed(t, 2, 0)
	resend := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "resend", TemplateID: resend})
	c.Rules = []campaigns.Rule{{Name: "no open", On: "no_open", After: "72h",
		Actions: []campaigns.Action{{Type: "send", Step: "resend"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)

	rows, err := b.pool.Query(ctx, `SELECT sent_at FROM deliveries WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var sentAt time.Time
		require.NoError(t, rows.Scan(&sentAt))
		require.True(t, at.Equal(sentAt), "sent at %s, the clock says %s", sentAt, at)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 2, n)

	var due time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE kind = 'rule_timer'`).Scan(&due))
	require.True(t, at.Add(72*time.Hour).Equal(due), "the timer is due at %s", due)
}
