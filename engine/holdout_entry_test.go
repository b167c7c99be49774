package engine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/holdout"
)

// TestHoldoutKeepsTriggeredEntriesOut: in an event journey with a 50%
// holdout, the hash's members are recorded when they would enter and get
// no entry, no delivery and no mail; the others enter and are sent to. A
// held member who triggers again stays out.
func TestHoldoutKeepsTriggeredEntriesOut(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	const n = 40
	c := b.seed(t, n, 0)
	c.Settings.Holdout = 0.5
	c = b.launchJourney(t, c, "signup", campaigns.ReentryAlways)

	ids := make([]int64, 0, n)
	rows, err := b.pool.Query(ctx, `SELECT id FROM contacts ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	held := 0
	for _, id := range ids {
		if holdout.Held(c.ID, id, 0.5) {
			held++
		}
	}
	require.NotZero(t, held)
	require.Less(t, held, n)

	require.Equal(t, n-held, b.enter(t, c.ID, ids...), "only the treated enter")
	require.Equal(t, n-held, b.enter(t, c.ID, ids...), "reentry always: the treated again, the held never")
	for _, id := range ids {
		member, err := holdout.IsMember(ctx, b.pool, c.ID, id)
		require.NoError(t, err)
		require.Equal(t, holdout.Held(c.ID, id, 0.5), member, "contact %d", id)
		var entries, deliveries int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM campaign_entries WHERE campaign_id = $1 AND contact_id = $2),
			(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND contact_id = $2)`, c.ID, id).Scan(&entries, &deliveries))
		if member {
			require.Zero(t, entries+deliveries, "held contact %d entered", id)
		} else {
			require.Equal(t, 2, entries)
		}
	}
	b.waitSettled(t, c.ID, "send", "send_packed")
	require.Equal(t, 2*(n-held), b.sink.Count())

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, r.Holdout)
	require.EqualValues(t, held, r.Holdout.Size)
	require.EqualValues(t, n-held, r.Holdout.TreatedSize)
	require.True(t, r.Holdout.WindowOpen, "a journey taking entries has an open window")
}
