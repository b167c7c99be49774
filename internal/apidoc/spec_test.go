package apidoc

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDocumentIsValidJSONWithOperations(t *testing.T) {
	t.Parallel()
	b, err := JSON()
	require.NoError(t, err)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	ops, err := Operations()
	require.NoError(t, err)
	require.Contains(t, ops, Operation{Method: "GET", Path: "/campaigns/{id}/report"})
}

// TestReferencesResolve checks that every $ref points at a component that
// exists, so the viewer never shows a dangling reference.
func TestReferencesResolve(t *testing.T) {
	t.Parallel()
	b, err := JSON()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				require.NotNil(t, resolve(doc, ref), "dangling $ref %s", ref)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}

func resolve(doc map[string]any, ref string) any {
	var cur any = doc
	for _, p := range splitRef(ref) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func splitRef(ref string) []string {
	var out []string
	start := 2 // after "#/"
	for i := start; i <= len(ref); i++ {
		if i == len(ref) || ref[i] == '/' {
			out = append(out, ref[start:i])
			start = i + 1
		}
	}
	return out
}

func TestFromEcho(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/api/v1/campaigns/:id/report": "/campaigns/{id}/report",
		"/api/v1/reports/assets/*":     "/reports/assets/{path}",
		"/api/v1/events":               "/events",
	} {
		got, ok := FromEcho(in)
		require.True(t, ok, in)
		require.Equal(t, want, got)
	}
	_, ok := FromEcho("/api/v10/x")
	require.False(t, ok)
	_, ok = FromEcho("/admin/api")
	require.False(t, ok)
}
