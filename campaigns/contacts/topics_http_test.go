package contacts

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
)

func newTopic(t *testing.T, b bundle, name string) int64 {
	t.Helper()
	public := true
	tp, err := topics.Create(b.ctx, b.pool, topics.Input{Name: &name, Public: &public})
	require.NoError(t, err)
	return tp.ID
}

// PATCH topics_add/topics_remove subscribes and unsubscribes, GET shows the
// contact's topics, GET /consent its history with the API as the source;
// the export holds both; erasure keeps the records without their personal
// parts.
func TestContactTopicsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	news, offers := newTopic(t, a.bundle, "News"), newTopic(t, a.bundle, "Offers")
	id := a.mustCreate(t, ContactInput{Email: "sara@example.com", Name: "Sara"})
	path := fmt.Sprintf("/contacts/%d", id)

	code, body := a.do(http.MethodPatch, path, map[string]any{"topics_add": []int64{news, offers}})
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["topics"], 2)

	code, body = a.do(http.MethodPatch, path, map[string]any{"topics_remove": []int64{offers}, "name": "Sara K"})
	require.Equal(t, http.StatusOK, code, body)
	code, body = a.do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, code)
	status := map[string]string{}
	for _, x := range body["topics"].([]any) {
		m := x.(map[string]any)
		require.Equal(t, "api", m["source"])
		require.NotEmpty(t, m["at"])
		status[m["name"].(string)] = m["status"].(string)
	}
	require.Equal(t, map[string]string{"News": "subscribed", "Offers": "unsubscribed"}, status)

	code, body = a.do(http.MethodPatch, path, map[string]any{"topics_add": []int64{999}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Equal(t, "topics_add", body["error"].(map[string]any)["field"])
	require.Contains(t, body["error"].(map[string]any)["message"], "999")

	code, body = a.do(http.MethodGet, path+"/consent", nil)
	require.Equal(t, http.StatusOK, code, body)
	items := body["items"].([]any)
	require.Len(t, items, 3, "two subscribes and one unsubscribe; the refused patch left nothing")
	first := items[0].(map[string]any)
	require.Equal(t, "unsubscribed", first["change"])
	require.Equal(t, "email", first["channel"])
	require.InDelta(t, offers, first["topic_id"], 0)
	require.Equal(t, "api", first["source"])
	for _, k := range []string{"at", "ip", "user_agent"} {
		require.Contains(t, first, k)
	}

	_, err := topics.Set(a.ctx, a.pool, id, news, topics.Subscribed, topics.Source{}) // no kind: refused
	require.Error(t, err)
	_, err = topics.Set(a.ctx, a.pool, id, offers, topics.Pending, topics.Source{Kind: topics.SourceForm, IP: "198.51.100.4", UserAgent: "Phone"})
	require.NoError(t, err)

	res, err := http.Get(a.url + path + "/export")
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, res.Body.Close())
	require.NoError(t, err)
	var export struct {
		Topics  []map[string]any `json:"topics"`
		Consent []map[string]any `json:"consent"`
	}
	require.NoError(t, json.Unmarshal(raw, &export), string(raw))
	require.Len(t, export.Topics, 2)
	require.Len(t, export.Consent, 4)
	require.Equal(t, "198.51.100.4", export.Consent[3]["ip"])
	require.Equal(t, "Phone", export.Consent[3]["user_agent"])

	require.NoError(t, Erase(a.ctx, a.pool, eventsNotHeld, id))
	hist, err := topics.History(a.ctx, a.pool, id, 0, 0)
	require.NoError(t, err)
	require.Len(t, hist, 4, "erasure keeps the fact that consent changed")
	require.Nil(t, hist[0].IP)
	require.Empty(t, hist[0].UserAgent)
	subs, err := topics.ForContact(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.Empty(t, subs)
}
