package contacts_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/factory"
)

// Bulk subscribe and unsubscribe set each selected contact's status on the
// topic, with one consent record per change (source api here: no admin
// user), and refuse a missing or unknown topic.
func TestBulkSubscribeUnsubscribe(t *testing.T) {
	t.Parallel()
	a := newBulkAPI(t)
	name := "News"
	news, err := topics.Create(t.Context(), a.pool, topics.Input{Name: &name})
	require.NoError(t, err)
	var ids []int64
	for i := range 5 {
		ids = append(ids, factory.Contact(t, a.pool, factory.Email(fmt.Sprintf("b%d@example.com", i))).ID)
	}
	j := a.run(fmt.Sprintf(`{"rule":"contact.email endsWith \"@example.com\"","action":"subscribe","topic_id":%d}`, news.ID))
	require.Equal(t, [3]float64{5, 5, 0}, counts(t, j))
	require.InDelta(t, news.ID, j["topic_id"], 0)
	j = a.run(fmt.Sprintf(`{"ids":[%d,%d,999999],"action":"unsubscribe","topic_id":%d}`, ids[0], ids[1], news.ID))
	require.Equal(t, [3]float64{3, 2, 1}, counts(t, j))

	list, err := topics.List(t.Context(), a.pool, false, false)
	require.NoError(t, err)
	require.Equal(t, topics.Counts{Subscribed: 3, Unsubscribed: 2}, *list[0].Counts)
	hist, err := topics.History(t.Context(), a.pool, ids[0], 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, "unsubscribed", hist[0].Change)
	require.Equal(t, "api", hist[0].Source)
	require.NotNil(t, hist[0].Detail["bulk_id"])

	code, raw := a.do(http.MethodPost, "/contacts/bulk", `{"ids":[1],"action":"subscribe"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(raw))
	require.Contains(t, string(raw), "topic_id")
	code, raw = a.do(http.MethodPost, "/contacts/bulk", `{"ids":[1],"action":"subscribe","topic_id":4242}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(raw))
	require.Contains(t, string(raw), "no topic with id 4242")
	code, raw = a.do(http.MethodPost, "/contacts/bulk", fmt.Sprintf(`{"ids":[1],"action":"tag","tag":"x","topic_id":%d}`, news.ID))
	require.Equal(t, http.StatusUnprocessableEntity, code, string(raw))
}
