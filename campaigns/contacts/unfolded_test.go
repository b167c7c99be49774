package contacts

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// A click answered but not folded yet (followed, above tracking_watermark:
// migration 053, docs/metrics.md "How a report is read") is in no read of
// a contact's events — the timeline, the contact page's history, the
// export — until the fold that counts it commits; then it is in all three.
func TestContactReadsLeaveUnfoldedEventsOut(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id, campaign, base := timelineFixture(t, a)
	var d int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT id FROM deliveries WHERE contact_id = $1 AND step = 'main'`, id).Scan(&d))
	var unfolded int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, machine, user_agent, occurred_at, followed)
		VALUES (nextval('events_id_seq'), $1, $2, 'main', $3, 'click', 0, false, 'Mozilla/5.0', $4::timestamptz + interval '3 hours', true)
		RETURNING id`, d, campaign, id, base).Scan(&unfolded))
	var watermark int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT id FROM tracking_watermark`).Scan(&watermark))
	require.Less(t, watermark, unfolded, "no follower runs here: the click stays unfolded")

	reads := func() (timeline, history, export int) {
		items, _, err := Timeline(a.ctx, a.pool, id, TimelineQuery{Kinds: []string{TimelineTracking}})
		require.NoError(t, err)
		h, err := RecentHistory(a.ctx, a.pool, id, 50)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, Export(a.ctx, a.pool, id, &buf))
		var doc struct{ Events []map[string]any }
		require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
		return len(items), len(h.Events), len(doc.Events)
	}
	tl, hist, exp := reads()
	require.Equal(t, []int{2, 2, 2}, []int{tl, hist, exp}, "the open and the click folded before; not the waiting click")

	// The fold that counts it moves the watermark in its transaction.
	_, err := a.pool.Exec(a.ctx, `UPDATE tracking_watermark SET id = $1`, unfolded)
	require.NoError(t, err)
	tl, hist, exp = reads()
	require.Equal(t, []int{3, 3, 3}, []int{tl, hist, exp}, "folded: in every read")
}
