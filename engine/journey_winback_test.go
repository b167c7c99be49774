package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/engine"
)

// winBack is the win-back journey of docs/journeys.md, as written there
// (segment 1 and templates 1, 2 replaced by the test's).
const winBack = `{
  "name": "Win-back",
  "channel": "email",
  "from": {"name": "Shop", "email": "news@shop.example"},
  "segment_id": 1,
  "entry": {"type": "segment_entry"},
  "reentry": "2160h",
  "exit": [{"segment_exit": true}],
  "steps": [
    {"key": "miss_you", "template_id": 1},
    {"key": "last_chance", "template_id": 2}
  ],
  "rules": [
    {"name": "last chance a week later", "on": "sent", "step": "miss_you",
     "actions": [{"type": "send", "step": "last_chance", "delay": "168h"}]}
  ]
}`

// TestWinBackJourneyEntersLapsedOpenersAndExitsWhenTheyReturn: with the
// segment days_since(stats.last_open_at) > 60, a contact whose last open
// turns 61 days old (the engine's clock moved) enters through the periodic
// check and gets the first mail; one who opened recently does not; when the
// lapsed contact opens again, the per-contact check takes them out
// (segment_exit) and the last-chance mail waiting out its week is skipped.
func TestWinBackJourneyEntersLapsedOpenersAndExitsWhenTheyReturn(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	ctx := context.Background()
	var segID int64
	require.NoError(t, j.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('lapsed openers', 'days_since(stats.last_open_at) > 60') RETURNING id`).Scan(&segID))
	tpl := j.templates(t, "We miss you", "Last chance")
	var c map[string]any
	require.NoError(t, json.Unmarshal([]byte(winBack), &c))
	c["segment_id"] = segID
	steps := c["steps"].([]any)
	steps[0].(map[string]any)["template_id"], steps[1].(map[string]any)["template_id"] = tpl[0], tpl[1]

	var lapsed, recent int64
	for _, p := range []struct {
		email string
		id    *int64
	}{{"lapsed@example.com", &lapsed}, {"recent@example.com", &recent}} {
		ct, err := contacts.Create(ctx, j.pool, contacts.ContactInput{Email: p.email})
		require.NoError(t, err)
		*p.id = ct.ID
	}
	opened := func(id int64) {
		t.Helper()
		// Tracking's writer sets last_open_at on an open; the test sets it
		// at the engine's clock, which tracking does not read.
		_, err := j.pool.Exec(ctx, `INSERT INTO contact_stats (contact_id, last_open_at) VALUES ($1, $2)
			ON CONFLICT (contact_id) DO UPDATE SET last_open_at = EXCLUDED.last_open_at`, id, j.clock.Now())
		require.NoError(t, err)
	}
	opened(lapsed)
	opened(recent)
	id := j.createJourney(t, c)
	require.NoError(t, j.eng.SyncSegmentEntries(ctx), "baseline: both opened today")

	j.clock.Advance(61 * 24 * 3600e9)
	opened(recent)
	require.NoError(t, j.eng.SyncSegmentEntries(ctx))
	j.waitReceived(t, "lapsed@example.com", 1)
	require.Equal(t, 1, j.received("lapsed@example.com", "We miss you"))
	require.Zero(t, j.received("recent@example.com", ""))
	j.waitScheduledSend(t, id)

	opened(lapsed)
	require.NoError(t, j.eng.CheckContact(ctx, lapsed))
	entries := j.entries(t, id, "")
	require.Len(t, entries, 1)
	require.Equal(t, "exited", entries[0].Status)
	require.Equal(t, engine.ExitSegment, entries[0].ExitReason)
	var skipped int
	require.NoError(t, j.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'last_chance' AND status = 'skipped'`, id).Scan(&skipped))
	require.Equal(t, 1, skipped, "the last-chance mail is skipped")
}
