package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// A delayed follow-up already scheduled when the contact exits is skipped
// (and counted), not sent.
func TestExitSkipsScheduledFollowUp(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 2, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{
		{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer", Delay: "4s"}}},
		{Name: "bought", On: "conversion", Actions: []campaigns.Action{{Type: "exit"}}},
	}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)

	b.click(t, srv, "user0@example.com", "Pricing")
	b.click(t, srv, "user1@example.com", "Pricing")
	require.Eventually(t, func() bool {
		return b.deliveryStatus(t, c.ID, "user0@example.com", "offer") == "queued" && b.deliveryStatus(t, c.ID, "user1@example.com", "offer") == "queued"
	}, 20*time.Second, 20*time.Millisecond)
	body, _ := json.Marshal(map[string]any{"email": "user0@example.com", "type": "purchase", "value": 10, "currency": "EUR", "campaign_id": c.ID})
	resp, err := http.Post(srv.URL+"/api/v1/events", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := mustContactID(t, b, "user0@example.com")
	require.Eventually(t, func() bool {
		var exited bool
		_ = b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_exits WHERE campaign_id = $1 AND contact_id = $2)`, c.ID, id).Scan(&exited)
		return exited
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, "queued", b.deliveryStatus(t, c.ID, "user0@example.com", "offer"), "the exit came before the delay was over")

	require.Eventually(t, func() bool { return b.received("user1@example.com", "Your offer") == 1 }, 30*time.Second, 20*time.Millisecond)
	// The sink has the message before its outcome commits: wait for that.
	require.Eventually(t, func() bool { return b.deliveryStatus(t, c.ID, "user1@example.com", "offer") == "sent" }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return b.deliveryStatus(t, c.ID, "user0@example.com", "offer") == "skipped" }, 20*time.Second, 20*time.Millisecond)
	require.Zero(t, b.received("user0@example.com", "Your offer"), "an exited contact's scheduled follow-up is not sent")
	b.requireCountersMatch(t, c.ID)
	p, err := b.svc.Runtime.Progress(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, p.Skipped)
}
