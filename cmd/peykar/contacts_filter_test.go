package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestContactsPageFiltersBySegment: the contacts page lists a segment's
// contacts only, for a read-only manager too.
func TestContactsPageFiltersBySegment(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	for _, c := range []map[string]any{
		{"email": "vip@example.com", "tags": []string{"vip"}},
		{"email": "plain@example.com"},
	} {
		code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, c)
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]string{"name": "VIPs", "rule": `has_tag("vip")`})
	require.Equal(t, http.StatusCreated, code, body)

	code, body = do(t, m, http.MethodGet, "/admin/contacts", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "plain@example.com")
	require.Contains(t, body, `<option value="1" >VIPs</option>`[:18], "the segment picker")
	code, body = do(t, m, http.MethodGet, "/admin/contacts?segment_id=1", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "vip@example.com")
	require.NotContains(t, body, "plain@example.com")
	require.Regexp(t, `<option value="1" selected`, body)
	code, _ = do(t, m, http.MethodGet, "/admin/contacts?segment_id=99", manager, nil)
	require.Equal(t, http.StatusNotFound, code)
}
