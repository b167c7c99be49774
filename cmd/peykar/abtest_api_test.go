package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestABTestAPI: the campaign API takes variants and ab_test, refuses a
// mistake naming its field path, and POST …/ab_test/winner picks the
// winner once (manual mode), for a marketer only.
func TestABTestAPI(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	for _, e := range []string{"sara@example.com", "ali@example.com", "nima@example.com"} {
		factory.Contact(t, m.pool, factory.Email(e))
	}
	seg := factory.Segment(t, m.pool, factory.Rule(`contact.email contains "@"`))
	html := factory.HTML(`<p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`)
	a := factory.Template(t, m.pool, factory.TemplateName("A"), html)
	b := factory.Template(t, m.pool, factory.TemplateName("B"), html)
	token := testToken(t, m, auth.RoleMarketer)
	body := map[string]any{
		"name": "AB", "segment_id": seg.ID, "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"steps": []any{map[string]any{"key": "main", "template_id": a.ID, "variants": []any{
			map[string]any{"key": "A"}, map[string]any{"key": "B", "template_id": b.ID, "subject": "Hi B", "from_name": "Sara"},
		}}},
		"ab_test": map[string]any{"step": "main", "test_share": 1, "metric": "open_rate", "duration": "4h", "winner": "manual"},
	}
	bad := map[string]any{}
	for k, v := range body {
		bad[k] = v
	}
	bad["steps"] = []any{map[string]any{"key": "main", "template_id": a.ID, "variants": []any{
		map[string]any{"key": "A"}, map[string]any{"key": "A", "template_id": b.ID},
	}}}
	code, resp := do(t, m, http.MethodPost, "/api/v1/campaigns", token, bad)
	require.Equal(t, http.StatusUnprocessableEntity, code, resp)
	require.Contains(t, resp, `"field":"steps[0].variants[1].key"`)

	code, resp = do(t, m, http.MethodPost, "/api/v1/campaigns", token, body)
	require.Equal(t, http.StatusCreated, code, resp)
	require.Contains(t, resp, `"from_name":"Sara"`)
	require.Contains(t, resp, `"winner":"manual"`)
	id := "1"
	code, resp = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", token, nil)
	require.Equal(t, http.StatusOK, code, resp)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, resp = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/report", token, nil)
		require.Equal(t, http.StatusOK, code, resp)
		if n := countSent(resp); n == 3 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the test group was never sent: %s", resp)
	}
	require.Contains(t, resp, `"state":"testing"`)

	viewer := testToken(t, m, auth.RoleManager)
	code, _ = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/ab_test/winner", viewer, map[string]any{"variant": "B"})
	require.Equal(t, http.StatusForbidden, code)
	code, resp = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/ab_test/winner", token, map[string]any{"variant": "Z"})
	require.Equal(t, http.StatusUnprocessableEntity, code, resp)
	require.Contains(t, resp, `"field":"variant"`)
	code, resp = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/ab_test/winner", token, map[string]any{"variant": "B"})
	require.Equal(t, http.StatusOK, code, resp)
	require.Contains(t, resp, `"winner":"B"`)
	require.Contains(t, resp, `"chosen_by":"manual"`)
	code, _ = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/ab_test/winner", token, map[string]any{"variant": "A"})
	require.Equal(t, http.StatusConflict, code)
}

// countSent sums the variants' sent in a report's JSON.
func countSent(report string) int {
	var r struct {
		Variants []struct {
			Sent int `json:"sent"`
		} `json:"variants"`
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		return -1
	}
	n := 0
	for _, v := range r.Variants {
		n += v.Sent
	}
	return n
}
