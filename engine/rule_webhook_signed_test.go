package engine_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
)

// signedPost waits for one post on got and checks that it is signed with
// the secret stored for campaign id now.
func signedPost(t *testing.T, b *bundle, id int64, got <-chan *http.Request, bodies <-chan string) {
	t.Helper()
	var r *http.Request
	select {
	case r = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the rule's webhook never arrived")
	}
	body := <-bodies
	var secret string
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT coalesce(settings->'webhook'->>'secret', '') FROM campaigns WHERE id = $1`, id).Scan(&secret))
	require.True(t, strings.HasPrefix(secret, "whsec_"), "a secret was generated and stored: %q", secret)
	sig := r.Header.Get("X-Peykar-Signature")
	require.NotEmpty(t, sig, "the rule's post is signed")
	require.Equal(t, "sha256="+engine.Sign(secret, r.Header.Get("X-Peykar-Timestamp"), []byte(body)), sig)
}

func hookReceiver(t *testing.T) (string, <-chan *http.Request, <-chan string) {
	t.Helper()
	got := make(chan *http.Request, 4)
	bodies := make(chan string, 4)
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(body)
	})
	return srv.URL, got, bodies
}

// TestRuleWebhookOnEmailCampaignIsSigned: an email campaign has no webhook
// channel secret; a rule's webhook action gets one generated when the
// campaign is saved, and its posts are signed with it (they used to go
// out unsigned).
func TestRuleWebhookOnEmailCampaignIsSigned(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	url, got, bodies := hookReceiver(t)
	c := b.seed(t, 1, 0)
	require.Nil(t, c.Settings.Webhook)
	c.Rules = []campaigns.Rule{{Name: "crm", On: "sent", Actions: []campaigns.Action{{Type: "webhook", URL: url + "/crm"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	require.NotNil(t, c.Settings.Webhook, "saved with a signing secret")
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	signedPost(t, b, c.ID, got, bodies)
}

// TestRuleWebhookLegacyCampaignGetsSecretOnFirstNeed: a campaign stored
// before rule webhooks were signed (no secret at all) has one generated,
// and stored, by the first post it sends.
func TestRuleWebhookLegacyCampaignGetsSecretOnFirstNeed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	url, got, bodies := hookReceiver(t)
	c := b.seed(t, 1, 0)
	c.Rules = []campaigns.Rule{{Name: "crm", On: "sent", Actions: []campaigns.Action{{Type: "webhook", URL: url + "/crm"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.pool.Exec(ctx, `UPDATE campaigns SET settings = settings - 'webhook' WHERE id = $1`, c.ID)
	require.NoError(t, err)
	_, err = b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	signedPost(t, b, c.ID, got, bodies)

	first, err := campaigns.EnsureWebhookSecret(ctx, b.pool, c.ID)
	require.NoError(t, err)
	again, err := campaigns.EnsureWebhookSecret(ctx, b.pool, c.ID)
	require.NoError(t, err)
	require.Equal(t, first, again, "generated once, then kept")
	_, err = campaigns.EnsureWebhookSecret(ctx, b.pool, 999999)
	require.Error(t, err)
}
