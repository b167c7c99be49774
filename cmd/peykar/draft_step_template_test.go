package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestDraftStepWithoutTemplate: a draft saves a step before its template
// is chosen (stored as NULL, read back as 0); Launch refuses it with the
// step's field path beside every other missing thing (API 422), and the
// admin page names the step in English and Persian.
func TestDraftStepWithoutTemplate(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	factory.Contact(t, m.pool, factory.Email("sara@example.com"))
	seg := factory.Segment(t, m.pool)
	tpl := factory.Template(t, m.pool, factory.TemplateName("Welcome"))

	code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "Spring", "segment_id": seg.ID, "channel": "email",
		"steps": []map[string]any{{"key": "main", "template_id": tpl.ID}, {"key": "offer"}},
	})
	require.Equal(t, http.StatusCreated, code, body)
	var c struct {
		ID    int64
		Steps []struct {
			Key        string `json:"key"`
			TemplateID int64  `json:"template_id"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	var nulls int
	require.NoError(t, m.pool.QueryRow(t.Context(),
		`SELECT count(*) FROM campaign_steps WHERE campaign_id = $1 AND key = 'offer' AND template_id IS NULL`, c.ID).Scan(&nulls))
	require.Equal(t, 1, nulls, "the step without a template is stored as NULL")

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d", c.ID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	require.Len(t, c.Steps, 2)
	require.Zero(t, c.Steps[1].TemplateID)

	code, body = do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), token, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	var refused struct {
		Error struct {
			Errors []struct{ Field, Message string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &refused))
	got := map[string]string{}
	for _, e := range refused.Error.Errors {
		got[e.Field] = e.Message
	}
	require.Contains(t, got, "from.email", "every missing thing at once")
	require.Equal(t, `step "offer" has no template yet`, got["steps[1].template_id"])

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/campaigns/%d", c.ID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "offer → no template chosen")

	path := fmt.Sprintf("/admin/campaigns/%d/launch", c.ID)
	code, body = builderPost(t, m, token, "en", path, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "Step &#39;offer&#39; has no template yet: choose one.")
	require.Contains(t, body, "Add a sender email")
	code, body = builderPost(t, m, token, "fa", path, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "گام «offer» هنوز قالبی ندارد: یکی برگزینید.")

	// The builder's form saves such a draft too.
	code, body = builderPost(t, m, token, "en", "/admin/campaigns/new", url.Values{"name": {"Idea"}, "channel": {"email"},
		"steps.count": {"1"}, "steps[0].key": {"offer"}, "steps[0].template_id": {""}})
	require.Equal(t, http.StatusSeeOther, code, body)
	require.NoError(t, m.pool.QueryRow(t.Context(),
		`SELECT count(*) FROM campaign_steps s JOIN campaigns c ON c.id = s.campaign_id WHERE c.name = 'Idea' AND s.key = 'offer' AND s.template_id IS NULL`).Scan(&nulls))
	require.Equal(t, 1, nulls)

	var status string
	require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT status FROM campaigns WHERE id = $1`, c.ID).Scan(&status))
	require.Equal(t, "draft", status)
}
