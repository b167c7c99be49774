package main

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestContactPageShowsEachChannel: the profile shows the contact's state
// on email and on every channel campaigns send on — a kind no suppression
// names yet included — so an SMS opt-out and an email unsubscribe read
// apart, as the engine applies them.
func TestContactPageShowsEachChannel(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	segID, tplID := webhookFixtures(t, m)
	other := factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("Sara"))
	for _, kind := range []string{"sms", "whatsapp"} {
		def := webhookCampaign(segID, tplID, "https://hooks.example/"+kind, "https://hooks.example/rule")
		def["name"] = kind
		def["settings"] = map[string]any{"webhook": map[string]any{"url": "https://hooks.example/" + kind, "kind": kind}}
		code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, def)
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body := do(t, m, http.MethodPost, "/api/v1/suppressions", marketer,
		map[string]string{"value": "sara@example.com", "channel": "sms", "reason": "STOP"})
	require.Equal(t, http.StatusCreated, code, body)

	code, body = do(t, m, http.MethodGet, "/admin/contacts/"+strconv.FormatInt(other.ID, 10), marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `data-channel="email" data-sendable="true"`)
	require.Contains(t, body, `data-channel="sms" data-sendable="false"`)
	require.Contains(t, body, `data-channel="whatsapp" data-sendable="true"`, "a channel in use with no suppression is shown too")
	require.Contains(t, body, "STOP")

	req, err := http.NewRequest(http.MethodGet, m.URL()+"/admin/contacts/"+strconv.FormatInt(other.ID, 10), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+marketer)
	req.AddCookie(&http.Cookie{Name: "peykar_lang", Value: "fa"})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), "کانال‌ها")
	require.Contains(t, string(b), "ارسال مجاز است")
}
