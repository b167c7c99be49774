package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
)

// abandonedCart is docs/journeys.md's abandoned-cart journey: a reminder
// an hour after cart_abandoned, unless a purchase comes first.
func abandonedCart(tpl int64) map[string]any {
	return map[string]any{
		"name": "Abandoned cart", "channel": "email", "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"entry":   map[string]any{"type": "event", "event": "cart_abandoned", "when": "event.value >= 10", "delay": "1h"},
		"reentry": "24h",
		"exit":    []map[string]any{{"event": "purchase"}},
		"steps":   []map[string]any{{"key": "reminder", "template_id": tpl}},
	}
}

// TestAbandonedCartRemindsUnlessPurchased: the reminder goes after the
// delay to the contact who did not buy; a purchase before it exits the
// other contact and skips the pending step (counted as skipped); a cart
// below the entry condition enters nobody; cancel exits who is still in.
func TestAbandonedCartRemindsUnlessPurchased(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	id := j.createJourney(t, abandonedCart(j.templates(t, "Your cart")[0]))
	const ali, sara, cheap = "ali@example.com", "sara@example.com", "cheap@example.com"

	j.postEvent(t, ali, "cart_abandoned", 40)
	j.postEvent(t, sara, "cart_abandoned", 25)
	j.postEvent(t, cheap, "cart_abandoned", 5) // entry.when: value >= 10
	j.waitJourneyJobs(t)
	j.postEvent(t, sara, "purchase", 25)
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, sara, "exited")
	j.waitEntry(t, id, ali, "active")
	j.waitEntry(t, id, cheap)
	require.Zero(t, len(j.sink.Messages()), "nothing goes before the delay")

	j.fastForward(t, id, time.Hour)
	j.waitReceived(t, ali, 1)
	j.waitEntry(t, id, ali, "done")
	j.waitSettled(t, id, "send", "send_packed")
	require.Zero(t, j.received(sara, ""), "the purchase exited her before the reminder")
	require.Equal(t, "skipped", j.deliveryStatus(t, id, sara, "reminder"))
	r := j.report(t, id)
	require.EqualValues(t, 2, r.Progress.Total)
	require.EqualValues(t, 1, r.Progress.Sent)
	require.EqualValues(t, 1, r.Progress.Skipped, "the exit's skipped step is counted")
	exited := j.entries(t, id, "?status=exited")
	require.Len(t, exited, 1)
	require.Equal(t, "event: purchase", exited[0].ExitReason)
	require.Equal(t, "reminder", exited[0].Step)

	// A new cart enters again (reentry 24h counts from the last entry);
	// cancel exits it with reason cancelled and skips its reminder.
	j.clock.Advance(24 * time.Hour)
	j.postEvent(t, ali, "cart_abandoned", 60)
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, ali, "active", "done")
	code, out := callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/cancel", nil)
	require.Equal(t, http.StatusOK, code, out)
	j.waitEntry(t, id, ali, "exited", "done")
	cancelled := j.entries(t, id, "?status=exited")
	require.Len(t, cancelled, 2)
	require.Equal(t, "cancelled", cancelled[0].ExitReason, "newest first")
	r = j.report(t, id)
	require.EqualValues(t, 2, r.Progress.Skipped)
	require.Equal(t, campaigns.StatusCancelled, r.Status)
}

// TestEntriesWaitWhilePausedAndEndAtEndsAt: entries made while the
// campaign is paused wait and go on resume; after ends_at nobody enters,
// and the periodic end_journeys job finishes the campaign.
func TestEntriesWaitWhilePausedAndEndAtEndsAt(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	c := abandonedCart(j.templates(t, "Your cart")[0])
	c["entry"] = map[string]any{"type": "event", "event": "cart_abandoned"}
	c["ends_at"] = j.clock.Now().Add(48 * time.Hour)
	id := j.createJourney(t, c)
	snoozed := j.subscribeSnoozes(t)

	code, out := callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/pause", nil)
	require.Equal(t, http.StatusOK, code, out)
	j.postEvent(t, "ali@example.com", "cart_abandoned", 40)
	j.waitEntry(t, id, "ali@example.com", "active")
	snoozed.next(t, "send_packed", id) // the send saw the pause and waits
	require.Zero(t, len(j.sink.Messages()), "held while paused")
	code, out = callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/resume", nil)
	require.Equal(t, http.StatusOK, code, out)
	_, err := j.pool.Exec(context.Background(), `UPDATE river_job SET scheduled_at = now() WHERE kind IN ('send', 'send_packed') AND state IN ('available', 'scheduled')`)
	require.NoError(t, err)
	j.waitReceived(t, "ali@example.com", 1)

	j.clock.Advance(48 * time.Hour) // ends_at
	j.postEvent(t, "sara@example.com", "cart_abandoned", 40)
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, "sara@example.com")
	_, err = j.client.Insert(context.Background(), engine.EndJourneysArgs{}, nil) // the periodic job, now
	require.NoError(t, err)
	j.waitStatus(t, id, campaigns.StatusFinished, 20*time.Second)
	got, err := campaigns.Get(context.Background(), j.pool, id)
	require.NoError(t, err)
	require.True(t, j.clock.Now().Equal(*got.FinishedAt), "finished at the engine's clock")
}
