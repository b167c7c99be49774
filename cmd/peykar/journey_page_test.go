package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestJourneyMapOnDraft: a draft's page draws its journey with the audience
// at entry and every step and rule linked to the editor at its field; a
// manager sees the same map whose nodes open their read-only details; the
// map's partial answers the SVG alone, and a draft's map does not follow
// the report stream.
func TestJourneyMapOnDraft(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	post := func(path string, body any) int64 {
		t.Helper()
		code, resp := do(t, m, http.MethodPost, path, marketer, body)
		require.Equal(t, http.StatusCreated, code, resp)
		var created struct {
			ID int64 `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp), &created))
		return created.ID
	}
	post("/api/v1/contacts", map[string]any{"email": "a@example.com"})
	post("/api/v1/contacts", map[string]any{"email": "b@example.com"})
	tpl := post("/api/v1/templates", map[string]string{"name": "Welcome mail", "subject": "Hi", "html": "<p>Hi</p>"})
	seg := post("/api/v1/segments", map[string]string{"name": "Example people", "rule": `contact.email endsWith "@example.com"`})
	id := post("/api/v1/campaigns", map[string]any{"name": "Draft", "segment_id": seg, "channel": "email",
		"from":  map[string]string{"email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": tpl}, {"key": "later", "template_id": tpl}},
		"rules": []map[string]any{{"name": "no open", "on": "no_open", "after": "72h",
			"actions": []map[string]any{{"type": "send", "step": "later"}, {"type": "exit"}}}}})

	code, page := do(t, m, http.MethodGet, fmt.Sprintf("/admin/campaigns/%d", id), marketer, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `<svg class="journey"`)
	require.Contains(t, page, `data-stat="audience" id="j-entry-audience">2</tspan>`, "the segment's size before launch")
	require.Contains(t, page, ">Example people</text>", "the segment by name")
	require.Contains(t, page, ">Welcome mail</text>", "the template by name")
	for _, anchor := range []string{"f-steps[0].key", "f-steps[1].key", "f-rules[0].name"} {
		require.Contains(t, page, fmt.Sprintf(`href="/admin/campaigns/%d/edit#%s"`, id, anchor))
	}
	require.Contains(t, page, ">stop following up</text>", "the exit action is an end box")
	require.NotContains(t, page, fmt.Sprintf(`hx-get="/admin/campaigns/%d/journey"`, id), "a draft's numbers do not move")
	require.NotContains(t, page, `data-stream=`, "nor follow the stream")

	code, page = do(t, m, http.MethodGet, fmt.Sprintf("/admin/campaigns/%d", id), manager, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `<svg class="journey"`)
	require.NotContains(t, page, "/edit#", "a manager cannot edit: no editor links")
	for _, node := range []string{"step-main", "step-later", "rule-0"} {
		require.Contains(t, page, fmt.Sprintf(`href="#jd-%s"`, node), "the node opens its read-only detail")
		require.Contains(t, page, fmt.Sprintf(`<section class="journey-detail" id="jd-%s"`, node))
	}
	require.Contains(t, page, "Read only: this can&#39;t be changed now.")

	code, part := do(t, m, http.MethodGet, fmt.Sprintf("/admin/campaigns/%d/journey", id), marketer, nil)
	require.Equal(t, http.StatusOK, code, part)
	require.Regexp(t, `^<svg class="journey"[^>]*>[\s\S]*</svg>$`, part)
	code, _ = do(t, m, http.MethodGet, "/admin/campaigns/999/journey", marketer, nil)
	require.Equal(t, http.StatusNotFound, code)
}
