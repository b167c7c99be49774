package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestRuleWebhookSecretShownOnceForEmailCampaign: an email campaign whose
// rule posts to a webhook gets a signing secret, shown once in the answer
// of the save that generated it (create, or the update that added the
// first webhook action), never again.
func TestRuleWebhookSecretShownOnceForEmailCampaign(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]string{"name": "all", "rule": "true"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", marketer, map[string]string{"name": "t", "subject": "Hi", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)
	hook := []map[string]any{{"name": "crm", "on": "click", "actions": []map[string]any{{"type": "webhook", "url": "https://crm.example/hook"}}}}
	def := func(rules any) map[string]any {
		return map[string]any{"name": "mail", "segment_id": 1, "channel": "email", "from": map[string]any{"email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": 1}}, "rules": rules}
	}
	secretIn := func(body string) string {
		var a struct {
			ID       int64 `json:"id"`
			Settings struct {
				Webhook map[string]any `json:"webhook"`
			} `json:"settings"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &a))
		s, _ := a.Settings.Webhook["secret"].(string)
		return s
	}

	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, def(hook))
	require.Equal(t, http.StatusCreated, code, body)
	require.True(t, strings.HasPrefix(secretIn(body), "whsec_"), "created with a webhook rule: the secret is shown once: %s", body)
	code, body = do(t, m, http.MethodPut, "/api/v1/campaigns/1", marketer, def(hook))
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, secretIn(body), "kept, not shown again")

	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, def([]any{}))
	require.Equal(t, http.StatusCreated, code, body)
	require.Empty(t, secretIn(body), "no webhook, no secret")
	var plain struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &plain))
	path := "/api/v1/campaigns/" + strconv.FormatInt(plain.ID, 10)
	code, body = do(t, m, http.MethodPut, path, marketer, def(hook))
	require.Equal(t, http.StatusOK, code, body)
	generated := secretIn(body)
	require.True(t, strings.HasPrefix(generated, "whsec_"), "the update that added the webhook shows it: %s", body)
	code, body = do(t, m, http.MethodGet, path, marketer, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, generated)
	require.Contains(t, body, `"secret_set":true`)
}
