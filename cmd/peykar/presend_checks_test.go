package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestLaunchListsEveryFailedPreSendCheck: a two-step email campaign whose
// templates fail three checks between them is refused once with all three,
// each with its step's field path and the check's name; the fixed (or
// deliberately transactional) templates then launch. A template's checks
// are also readable on their own.
func TestLaunchListsEveryFailedPreSendCheck(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("Sara"))
	segID := factory.Segment(t, m.pool).ID

	create := func(body map[string]any) int64 {
		code, resp := do(t, m, http.MethodPost, "/api/v1/templates", token, body)
		require.Equal(t, http.StatusCreated, code, resp)
		var tpl struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(resp), &tpl))
		return tpl.ID
	}
	// Step main: no unsubscribe link and an image without alt text.
	a := create(map[string]any{"name": "a", "subject": "Hi", "html": `<p>Hi <img src="https://shop.example/a.png"></p>`})
	// Step offer: a relative link.
	b := create(map[string]any{"name": "b", "subject": "Offer", "html": `<p><a href="/pricing">Pricing</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})

	code, resp := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/templates/%d/checks", a), token, nil)
	require.Equal(t, http.StatusOK, code, resp)
	var checks struct {
		OK     bool
		Checks []struct {
			Name string
			OK   bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(resp), &checks))
	require.False(t, checks.OK)
	failed := map[string]bool{}
	for _, c := range checks.Checks {
		failed[c.Name] = !c.OK
	}
	require.Equal(t, map[string]bool{"unsubscribe": true, "alt_text": true, "plain_text": false, "links": false, "size": false, "fields": false}, failed)

	code, resp = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "two steps", "segment_id": segID, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": a}, {"key": "offer", "template_id": b}},
	})
	require.Equal(t, http.StatusCreated, code, resp)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(resp), &c))
	launch := fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID)

	code, resp = do(t, m, http.MethodPost, launch, token, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, resp)
	var refused struct {
		Error struct {
			Field  string
			Errors []struct{ Field, Check, Message string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(resp), &refused))
	require.Equal(t, "steps[0].template_id", refused.Error.Field)
	var got []string
	for _, e := range refused.Error.Errors {
		got = append(got, e.Field+" "+e.Check)
	}
	require.Equal(t, []string{"steps[0].template_id unsubscribe", "steps[0].template_id alt_text", "steps[1].template_id links"}, got)
	require.Contains(t, refused.Error.Errors[2].Message, "/pricing")

	// Accepting the fields check does not waive the others.
	code, _ = do(t, m, http.MethodPost, launch, token, map[string]any{"accept": []string{"fields", "unsubscribe"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)

	// Fixed: a receipt is transactional (no unsubscribe link needed), the
	// image has alt text, the link is absolute.
	// (An admin marks it: the mark also lets the transactional API reach
	// contacts who unsubscribed.)
	code, resp = do(t, m, http.MethodPut, fmt.Sprintf("/api/v1/templates/%d", a), testToken(t, m, auth.RoleAdmin), map[string]any{"name": "a", "subject": "Hi", "transactional": true,
		"html": `<p>Hi <img src="https://shop.example/a.png" alt="Your order"></p>`})
	require.Equal(t, http.StatusOK, code, resp)
	require.Contains(t, resp, `"transactional":true`)
	code, resp = do(t, m, http.MethodPut, fmt.Sprintf("/api/v1/templates/%d", b), token, map[string]any{"name": "b", "subject": "Offer",
		"html": `<p><a href="https://shop.example/pricing">Pricing</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusOK, code, resp)
	code, resp = do(t, m, http.MethodPost, launch, token, nil)
	require.Equal(t, http.StatusOK, code, resp)
}

// TestLaunchChecksVariantTemplates: a variant with a template of its own
// sends that template to part of the audience, so the launch runs the same
// pre-send checks on it and names the variant's field path; once the
// variant's template is fixed the campaign launches.
func TestLaunchChecksVariantTemplates(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	factory.Contact(t, m.pool, factory.Email("sara@example.com"))
	seg := factory.Segment(t, m.pool)
	a := factory.Template(t, m.pool, factory.TemplateName("A"), factory.HTML(`<p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`))
	// Variant B's template has no unsubscribe link.
	b := factory.Template(t, m.pool, factory.TemplateName("B"), factory.HTML(`<p>Hi B</p>`))
	code, resp := do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "AB", "segment_id": seg.ID, "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"steps": []any{map[string]any{"key": "main", "template_id": a.ID, "variants": []any{
			map[string]any{"key": "A"}, map[string]any{"key": "B", "template_id": b.ID},
		}}},
		"ab_test": map[string]any{"step": "main", "test_share": 1, "metric": "open_rate", "duration": "4h", "winner": "manual"},
	})
	require.Equal(t, http.StatusCreated, code, resp)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(resp), &c))
	launch := fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID)

	code, resp = do(t, m, http.MethodPost, launch, token, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, resp)
	var refused struct {
		Error struct{ Field, Check, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(resp), &refused))
	require.Equal(t, "steps[0].variants[1].template_id", refused.Error.Field)
	require.Equal(t, "unsubscribe", refused.Error.Check)
	require.Contains(t, refused.Error.Message, `variant B`)

	code, resp = do(t, m, http.MethodPut, fmt.Sprintf("/api/v1/templates/%d", b.ID), token, map[string]any{"name": "B", "subject": "Hi",
		"html": `<p>Hi B</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`})
	require.Equal(t, http.StatusOK, code, resp)
	code, resp = do(t, m, http.MethodPost, launch, token, nil)
	require.Equal(t, http.StatusOK, code, resp)
}
