package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestTestSendUsesPeykarFrom sends a template test and reads the caught
// message's sender and subject (one "[test] " prefix).
func TestTestSendUsesPeykarFrom(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_FROM", "Shop <news@shop.example>")
	token := testToken(t, m, auth.RoleMarketer)
	code, body := do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]string{"name": "t", "subject": "Hello", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)
	var tpl struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates/"+strconv.FormatInt(tpl.ID, 10)+"/test", token, map[string]string{"to": "me@example.com"})
	require.Equal(t, http.StatusOK, code, body)
	code, body = do(t, m, http.MethodGet, "/api/v1/outbox", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var box struct {
		Items []struct {
			From    string `json:"from"`
			Subject string `json:"subject"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &box), body)
	require.Len(t, box.Items, 1, body)
	require.Equal(t, "news@shop.example", box.Items[0].From, body)
	require.Equal(t, "[test] Hello", box.Items[0].Subject, "one [test] prefix, not two")
}

func TestPeykarFromDefaultAndValidation(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (Config, error) {
		cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		return cfg, err
	}
	cfg, err := load(map[string]string{"PEYKAR_BASE_URL": "https://Mail.Shop.example:8443/peykar"})
	require.NoError(t, err)
	require.Equal(t, "peykar@mail.shop.example", cfg.From)
	cfg, err = load(nil) // http://127.0.0.1:8080
	require.NoError(t, err)
	require.Equal(t, "peykar@localhost", cfg.From)
	cfg, err = load(map[string]string{"PEYKAR_FROM": "ops@shop.example"})
	require.NoError(t, err)
	require.Equal(t, "ops@shop.example", cfg.From)
	for _, bad := range []string{"not an address", "shop.example", "a@b, c@d"} {
		_, err := load(map[string]string{"PEYKAR_FROM": bad})
		require.ErrorContains(t, err, "PEYKAR_FROM", bad)
	}
}
