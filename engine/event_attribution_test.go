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

// TestPostEventAnswersClickAttributedCampaign: a purchase posted without a
// campaign_id, by a contact who clicked a campaign's link, is attributed to
// that campaign by the click, and POST /events answers that campaign and
// delivery (it used to answer "campaign_id": null).
func TestPostEventAnswersClickAttributedCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 2, 0)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	b.click(t, srv, "user1@example.com", "Pricing")

	// The tracking server's clock runs an hour ahead: the purchase comes
	// after the click.
	post := func(email string) map[string]any {
		body, _ := json.Marshal(map[string]any{"email": email, "type": "purchase", "value": 20, "currency": "EUR",
			"occurred_at": time.Now().Add(2 * time.Hour)})
		resp, err := http.Post(srv.URL+"/api/v1/events", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	out := post("user1@example.com")
	require.Equal(t, float64(c.ID), out["campaign_id"], "attributed by the click: %v", out)
	var delivery int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT d.id FROM deliveries d JOIN contacts k ON k.id = d.contact_id
		WHERE d.campaign_id = $1 AND k.email = 'user1@example.com'`, c.ID).Scan(&delivery))
	require.Equal(t, float64(delivery), out["delivery_id"])
	var stored *int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT campaign_id FROM transactions WHERE id = $1`, int64(out["id"].(float64))).Scan(&stored))
	require.NotNil(t, stored)
	require.Equal(t, c.ID, *stored, "the answer is what was stored")

	// No click, no attribution: null, as stored.
	out = post("user0@example.com")
	require.Nil(t, out["campaign_id"], "%v", out)
	require.Nil(t, out["delivery_id"])
}
