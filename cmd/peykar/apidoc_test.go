package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/apidoc"
	"github.com/peykar/peykar/internal/auth"
)

// TestOpenAPICoversEveryRoute compares the OpenAPI document with the real
// route table: every /api/v1 route is documented and every documented
// operation exists. Its failure lists the operations to add to (or remove
// from) internal/apidoc/openapi.yaml.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	registered := map[string]bool{}
	for _, r := range m.echo.Routes() {
		if !slices.Contains([]string{"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"}, r.Method) {
			continue // Echo's internal not-found routes of middleware groups
		}
		if p, ok := apidoc.FromEcho(r.Path); ok && p != "" && p != "/" && p != "/*" && p != "/{path}" {
			registered[r.Method+" "+p] = true
		}
	}
	require.NotEmpty(t, registered)
	ops, err := apidoc.Operations()
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, op := range ops {
		documented[op.String()] = true
	}
	var missing, stale []string
	for op := range registered {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !registered[op] {
			stale = append(stale, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	require.Empty(t, missing, "routes not documented in internal/apidoc/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	require.Empty(t, stale, "documented operations with no route:\n  %s", strings.Join(stale, "\n  "))
}

func TestOpenAPIServedAndViewer(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleManager)
	code, body := do(t, m, http.MethodGet, "/api/v1/openapi.json", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var doc struct {
		OpenAPI    string         `json:"openapi"`
		Paths      map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.Equal(t, "bearer", doc.Components.SecuritySchemes["bearerAuth"].Scheme)

	code, _ = do(t, m, http.MethodGet, "/api/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusUnauthorized, code, "the document is behind the API's authentication")

	code, body = do(t, m, http.MethodGet, "/admin/api", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `spec-url="/api/v1/openapi.json"`)
	code, body = do(t, m, http.MethodGet, "/admin/api/assets/redoc/redoc.standalone.js", token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body[:400], "Redocly")
	code, body = do(t, m, http.MethodGet, "/admin/api/assets/redoc/LICENSE", token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "MIT License")
}
