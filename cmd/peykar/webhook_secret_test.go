package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestWebhookSecretIsWriteOnly: a webhook campaign created without a secret
// gets one, shown in the create answer only; reads say secret_set; a blank
// secret on update keeps it, a new one replaces it, also from the form.
func TestWebhookSecretIsWriteOnly(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]string{"name": "all", "rule": "true"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", marketer, map[string]string{"name": "t", "subject": "Hi", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)
	def := func(secret string) map[string]any {
		hook := map[string]any{"url": "https://hooks.example/peykar"}
		if secret != "" {
			hook["secret"] = secret
		}
		return map[string]any{"name": "hook", "segment_id": 1, "channel": "webhook",
			"steps": []map[string]any{{"key": "main", "template_id": 1}}, "settings": map[string]any{"webhook": hook}}
	}
	type answer struct {
		ID       int64 `json:"id"`
		Settings struct {
			Webhook map[string]any `json:"webhook"`
		} `json:"settings"`
	}
	stored := func(id int64) string {
		var s string
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(settings->'webhook'->>'secret', '') FROM campaigns WHERE id = $1`, id).Scan(&s))
		return s
	}

	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, def(""))
	require.Equal(t, http.StatusCreated, code, body)
	var created answer
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	generated, _ := created.Settings.Webhook["secret"].(string)
	require.True(t, strings.HasPrefix(generated, "whsec_"), "the generated secret is shown once: %s", body)
	require.Equal(t, generated, stored(created.ID))
	id := strconv.FormatInt(created.ID, 10)

	for _, token := range []string{manager, marketer} {
		code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NotContains(t, body, generated)
		require.NotContains(t, body, `"secret":`)
		require.Contains(t, body, `"secret_set":true`)
		code, body = do(t, m, http.MethodGet, "/api/v1/campaigns", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NotContains(t, body, generated)
	}

	// A blank secret keeps the stored one; a new one replaces it.
	code, body = do(t, m, http.MethodPut, "/api/v1/campaigns/"+id, marketer, def(""))
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, generated)
	require.Equal(t, generated, stored(created.ID))
	code, body = do(t, m, http.MethodPut, "/api/v1/campaigns/"+id, marketer, def("receiver-knows-this"))
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, "receiver-knows-this")
	require.Equal(t, "receiver-knows-this", stored(created.ID))

	// A caller's own secret is not echoed on create.
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, def("my own secret"))
	require.Equal(t, http.StatusCreated, code, body)
	require.NotContains(t, body, "my own secret")

	// The form sets the secret too (write-only: the page never shows it).
	code, body = postForm(t, m, marketer, "/admin/campaigns/new", url.Values{"name": {"form hook"}, "channel": {"webhook"}, "segment_id": {"1"},
		"steps[0].key": {"main"}, "steps[0].template_id": {"1"},
		"settings.webhook.url": {"https://hooks.example/form"}, "settings.webhook.secret": {"typed in the form"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	var formID int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = 'form hook'`).Scan(&formID))
	require.Equal(t, "typed in the form", stored(formID))
	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+strconv.FormatInt(formID, 10)+"/edit", marketer, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `name="settings.webhook.secret"`)
	require.NotContains(t, body, "typed in the form")
}
