package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestAdminPagesRender GETs every page an admin and a manager see, empty.
func TestAdminPagesRender(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)
	manager := testToken(t, m, auth.RoleManager)
	pages := map[string]string{
		"/admin/campaigns": "No campaigns yet",
		"/admin/outbox":    "No messages caught yet",
		"/admin/users":     "Add a user",
		"/admin/tokens":    "test admin",
	}
	for path, want := range pages {
		code, body := do(t, m, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusOK, code, path)
		require.Contains(t, body, want, path)
		require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue on %s", path)
	}
	code, body := do(t, m, http.MethodGet, "/admin/campaigns", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "New campaign", "managers are not offered editing")
	code, _ = do(t, m, http.MethodGet, "/admin/campaigns/999", admin, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, body = do(t, m, http.MethodGet, "/admin", admin, nil)
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/admin/campaigns", body)
}
