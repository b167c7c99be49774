package segments

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestEventConditionsHTTP: the API saves, previews, counts and filters
// contacts with event conditions, and refuses an unknown campaign with a
// 422 placing it.
func TestEventConditionsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	buyer := a.mustCreate(t, contacts.ContactInput{Email: "buyer@example.com"})
	a.mustCreate(t, contacts.ContactInput{Email: "browser@example.com"})
	_, err := contacts.InsertTransactions(a.ctx, a.pool, []contacts.TransactionRow{
		{ContactID: buyer, Type: "purchase", Value: 120, OccurredAt: time.Now().Add(-time.Hour)},
	})
	require.NoError(t, err)
	_, err = a.pool.Exec(a.ctx, `INSERT INTO campaigns (name) VALUES ('Nowruz sale')`) // a campaign only its package writes
	require.NoError(t, err)

	rule := `events.last("purchase").value > 100 && !opened("Nowruz sale")`
	code, body := a.do(http.MethodPost, "/segments/preview", map[string]any{"rule": rule})
	require.Equal(t, http.StatusOK, code, body)
	require.EqualValues(t, 1, body["count"])
	require.Equal(t, true, body["sql"])

	code, body = a.do(http.MethodPost, "/segments", map[string]any{"name": "Buyers", "rule": rule})
	require.Equal(t, http.StatusCreated, code, body)
	id := idOf(t, body)
	code, body = a.do(http.MethodGet, "/segments/"+strconv.FormatInt(id, 10)+"/count", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.EqualValues(t, 1, body["count"])
	code, body = a.do(http.MethodGet, "/contacts?segment_id="+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusOK, code, body)
	items, _ := body["items"].([]any)
	require.Len(t, items, 1, body)
	require.Equal(t, "buyer@example.com", items[0].(map[string]any)["email"])

	code, body = a.do(http.MethodPost, "/segments", map[string]any{"name": "Bad", "rule": `clicked("Yalda")`})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	e := body["error"].(map[string]any)
	require.Equal(t, `no campaign is named "Yalda"`, e["message"])
	require.EqualValues(t, 9, e["position"])
	code, body = a.do(http.MethodPost, "/segments/preview", map[string]any{"rule": `events.count("purchase", "7 days") > 0`})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.EqualValues(t, 26, body["error"].(map[string]any)["position"])
}
