package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// Through the real server, an API token's topic change is recorded with
// source api and the token's creator, and a manager (read-only) may read
// the consent history but not change subscriptions.
func TestTopicChangesThroughTheAPIAreRecorded(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	creator, err := auth.CreateUser(ctx, m.pool, "maker@example.com", "maker password 1", auth.RoleAdmin)
	require.NoError(t, err)
	_, token, err := auth.CreateToken(ctx, m.pool, "crm", auth.RoleMarketer, creator.ID)
	require.NoError(t, err)
	manager := testToken(t, m, auth.RoleManager)
	c := factory.Contact(t, m.pool)

	code, body := do(t, m, http.MethodPost, "/api/v1/topics", token, map[string]any{"name": "News", "public": true})
	require.Equal(t, http.StatusCreated, code, body)
	list, err := topics.List(ctx, m.pool, false, false)
	require.NoError(t, err)
	news := list[0].ID

	path := fmt.Sprintf("/api/v1/contacts/%d", c.ID)
	code, body = do(t, m, http.MethodPatch, path, token, map[string]any{"topics_add": []int64{news}})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"topics":[{"id":`)
	code, _ = do(t, m, http.MethodPatch, path, manager, map[string]any{"topics_remove": []int64{news}})
	require.Equal(t, http.StatusForbidden, code)

	code, body = do(t, m, http.MethodGet, path+"/consent", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	hist, err := topics.History(ctx, m.pool, c.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Equal(t, "api", hist[0].Source)
	require.Equal(t, creator.ID, *hist[0].UserID)
	require.Nil(t, hist[0].IP, "an API client's address is not the person's")

	code, body = do(t, m, http.MethodDelete, fmt.Sprintf("/api/v1/topics/%d", news), token, nil)
	require.Equal(t, http.StatusConflict, code, body)
}

// The campaign editor's topic_ids checkboxes are saved (a campaign may
// target topics without a segment); the campaign page names the topics and
// its launch confirmation counts only their subscribers.
func TestCampaignFormTopics(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	token := testToken(t, m, auth.RoleMarketer)
	var subscribed []int64
	for i := range 3 {
		c := factory.Contact(t, m.pool, factory.Email(fmt.Sprintf("p%d@example.com", i)))
		subscribed = append(subscribed, c.ID)
	}
	name := "Letters"
	news, err := topics.Create(ctx, m.pool, topics.Input{Name: &name})
	require.NoError(t, err)
	_, err = topics.SetMany(ctx, m.pool, subscribed[:2], news.ID, topics.Subscribed, topics.Source{Kind: topics.SourceAdmin})
	require.NoError(t, err)
	code, body := do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{"name": "t", "subject": "Hi", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)

	form := url.Values{"name": {"To letters"}, "channel": {"email"}, "from.email": {"news@shop.example"},
		"topic_ids": {strconv.FormatInt(news.ID, 10)}, "steps.count": {"1"}, "steps[0].key": {"main"}, "steps[0].template_id": {"1"}}
	code, body = postForm(t, m, token, "/admin/campaigns/new", form)
	require.Equal(t, http.StatusSeeOther, code, body)
	id := strings.TrimPrefix(body[:strings.Index(body+"<", "<")], "/admin/campaigns/")
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, fmt.Sprintf(`"topic_ids":[%d]`, news.ID))
	require.Contains(t, body, `"segment_id":null`)

	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="def-topics"`)
	require.Contains(t, body, "Letters")
	require.Contains(t, body, "2 contacts", "the launch confirmation counts the topic's subscribers")

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/audience?topic_ids=%d", news.ID), token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "2 contacts can be sent to now (2 match")
}
