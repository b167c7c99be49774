package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestScheduledLaunchedAtIsWhenSendingBegan: a scheduled campaign's
// launched_at (and the 30-day rules window counted from it) is when its
// launch job started sending, not when Launch was pressed. The schedule is
// an hour away; the test makes the launch job due instead of waiting, and
// compares database timestamps only.
func TestScheduledLaunchedAtIsWhenSendingBegan(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 2, 0)
	at := time.Now().Add(time.Hour)
	c.ScheduledAt = &at
	require.NoError(t, b.svc.Update(ctx, &c))
	got, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusScheduled, got.Status)
	require.Nil(t, got.LaunchedAt, "pressing Launch on a scheduled campaign starts nothing")
	require.Nil(t, got.RulesEnd(), "no rules window before sending begins")

	var due time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `UPDATE river_job SET scheduled_at = now()
		WHERE kind = 'launch' AND (args->>'campaign_id')::bigint = $1 RETURNING now()`, c.ID).Scan(&due))
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)

	got, err = campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	require.NotNil(t, got.LaunchedAt)
	require.False(t, got.LaunchedAt.Before(due), "launched_at %v is before the launch job was due (%v)", got.LaunchedAt, due)
	var firstSent time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT min(sent_at) FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&firstSent))
	require.False(t, firstSent.Before(*got.LaunchedAt), "nothing was sent before launched_at")
	require.Equal(t, got.LaunchedAt.Add(campaigns.DefaultRulesWindow), *got.RulesEnd(), "the rules window counts from when sending began")
}
