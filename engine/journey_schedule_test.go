package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestScheduledJourneyAndSegmentFilter: a triggered campaign scheduled for
// later takes no entries until it starts; with a segment, only contacts
// matching it at the event enter.
func TestScheduledJourneyAndSegmentFilter(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	ctx := context.Background()
	var seg int64
	require.NoError(t, j.pool.QueryRow(ctx, `INSERT INTO segments (name, rule)
		VALUES ('vip', 'has_tag("vip")') RETURNING id`).Scan(&seg))
	c := welcomeSeries(j.templates(t, "Welcome", "Tips", "Offer"), "never")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": c["steps"].([]map[string]any)[0]["template_id"]}}
	c["rules"] = []map[string]any{}
	c["segment_id"] = seg
	c["scheduled_at"] = j.clock.Now().Add(time.Hour)
	code, out := callJSON(t, "POST", j.srv.URL+"/api/v1/campaigns", c)
	require.Equal(t, 201, code, out)
	id := int64(out["id"].(float64))
	code, out = callJSON(t, "POST", j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/launch", nil)
	require.Equal(t, 200, code, out)
	require.Equal(t, campaigns.StatusScheduled, out["status"])

	code, out = callJSON(t, "POST", j.srv.URL+"/api/v1/contacts", map[string]any{"email": "vip@example.com", "tags": []string{"vip"}})
	require.Equal(t, 201, code, out)
	j.postEvent(t, "vip@example.com", "signup", 0)
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, "vip@example.com") // not started yet: nobody enters

	_, err := j.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE kind = 'launch' AND state = 'scheduled'`)
	require.NoError(t, err)
	j.waitStatus(t, id, campaigns.StatusRunning, 20*time.Second)
	j.postEvent(t, "vip@example.com", "signup", 0)
	j.postEvent(t, "plain@example.com", "signup", 0)
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, "vip@example.com", "done")
	j.waitEntry(t, id, "plain@example.com") // not in the segment
	j.waitReceived(t, "vip@example.com", 1)
	require.Zero(t, j.received("plain@example.com", ""))
}
