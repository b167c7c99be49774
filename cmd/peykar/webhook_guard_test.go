package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestWebhookTargetsRefusedThroughAPI: internal webhook targets answer 422
// naming the field, and the server stays up.
func TestWebhookTargetsRefusedThroughAPI(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	segID, tplID := webhookFixtures(t, m)
	for _, tc := range []struct{ url, field, why string }{
		{"http://169.254.169.254/latest/meta-data/", "settings.webhook.url", "169.254.169.254 is a link-local address"},
		{"http://localhost:5432/", "settings.webhook.url", `"localhost" names a loopback address`},
		{"http://[::1]/", "settings.webhook.url", "::1 is a loopback address"},
		{"http://admin:pw@hooks.example/", "settings.webhook.url", "user:pass@"},
	} {
		code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, webhookCampaign(segID, tplID, tc.url, "https://hooks.example/rule"))
		requireFieldError(t, code, body, tc.field, tc.why)
		code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, webhookCampaign(segID, tplID, "https://hooks.example/sms", tc.url))
		requireFieldError(t, code, body, "rules[0].actions[0].url", tc.why)
	}
	code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, webhookCampaign(segID, tplID, "http://2130706433/", "https://hooks.example/rule"))
	requireFieldError(t, code, body, "settings.webhook.url", `"2130706433" is 127.0.0.1, a loopback address`)
	require.Contains(t, body, "PEYKAR_WEBHOOK_ALLOW_NETWORKS", "the message says how an operator allows a network")
	code, body = get(t, m.URL()+"/healthz")
	require.Equal(t, http.StatusOK, code, body)
}

// TestWebhookAllowNetworksReachesReceiver: with loopback allowed by
// PEYKAR_WEBHOOK_ALLOW_NETWORKS, a loopback URL is accepted on save and
// the engine posts to it; other private networks stay refused.
func TestWebhookAllowNetworksReachesReceiver(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
	marketer := testToken(t, m, auth.RoleMarketer)
	segID, tplID := webhookFixtures(t, m)
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(hook.Close)

	code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, webhookCampaign(segID, tplID, "http://10.0.0.7/sms", hook.URL+"/rule"))
	requireFieldError(t, code, body, "settings.webhook.url", "10.0.0.7 is a private address")
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, webhookCampaign(segID, tplID, hook.URL+"/sms", hook.URL+"/rule"))
	require.Equal(t, http.StatusCreated, code, body)
	id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(body)[1]
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", marketer, nil)
	require.Less(t, code, 300, body)
	require.Eventually(t, func() bool { return hits.Load() >= 2 }, time.Minute, 20*time.Millisecond,
		"the channel's post and the sent rule's webhook reach the allowed receiver")
}

func TestWebhookAllowNetworksValidated(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "intranet.example", "127.0.0.0/8,,bogus"} {
		_, _, err := LoadConfig(nil, func(k string) string {
			return map[string]string{"PEYKAR_WEBHOOK_ALLOW_NETWORKS": bad}[k]
		}, io.Discard)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, bad)
		require.Equal(t, "PEYKAR_WEBHOOK_ALLOW_NETWORKS", ce.Var)
	}
	cfg, _, err := LoadConfig([]string{"--webhook-allow-networks", "10.0.0.0/8, fd00::/8, 192.168.1.7"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.webhooks.Allow, 3)
	cfg, _, err = LoadConfig(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	require.Empty(t, cfg.webhooks.Allow, "by default webhooks reach the public internet only")
}

func webhookFixtures(t *testing.T, m *Main) (segID, tplID int64) {
	t.Helper()
	factory.Contact(t, m.pool, factory.Email("w@example.com"), factory.Name("W"))
	segID = factory.Segment(t, m.pool, factory.SegmentName("all")).ID
	tplID = factory.Template(t, m.pool, factory.TemplateName("sms"), factory.Text("Hi")).ID
	return segID, tplID
}

// webhookCampaign is a webhook-channel campaign posting to channelURL, with
// a rule that calls ruleURL when a message is sent.
func webhookCampaign(segID, tplID int64, channelURL, ruleURL string) map[string]any {
	return map[string]any{"name": "hook", "segment_id": segID, "channel": "webhook",
		"steps":    []map[string]any{{"key": "main", "template_id": tplID}},
		"rules":    []map[string]any{{"name": "sent", "on": "sent", "actions": []map[string]any{{"type": "webhook", "url": ruleURL}}}},
		"settings": map[string]any{"webhook": map[string]any{"url": channelURL}}}
}

func requireFieldError(t *testing.T, code int, body, field, why string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	require.Equal(t, "invalid", e.Error.Code, body)
	require.Equal(t, field, e.Error.Field, body)
	require.True(t, strings.Contains(e.Error.Message, why), "%q does not say %q", e.Error.Message, why)
}
