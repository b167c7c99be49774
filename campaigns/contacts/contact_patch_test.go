package contacts

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPatchContactHTTP holds PATCH /contacts/{id} to its contract: only the
// fields given change, attributes merge key by key and null removes a key,
// tags are added and removed, and what the body leaves out stays as stored.
func TestPatchContactHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id := a.mustCreate(t, ContactInput{Email: "sara@example.com", Name: "Sara",
		Attributes: map[string]any{"city": "Tehran", "plan": "pro", "age": 31}, Tags: []string{"vip", "news"}})
	path := "/contacts/" + strconv.FormatInt(id, 10)
	patch := func(body string) (int, map[string]any) {
		t.Helper()
		return a.do(http.MethodPatch, path, json.RawMessage(body))
	}

	code, got := patch(`{"attributes":{"city":"Shiraz","plan":null,"lang":"fa"},"tags_add":["buyer","vip"],"tags_remove":["news"]}`)
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, map[string]any{"city": "Shiraz", "age": float64(31), "lang": "fa"}, got["attributes"], "merged key by key; null removed plan")
	require.Equal(t, []any{"vip", "buyer"}, got["tags"], "added once, removed, order kept")
	require.Equal(t, "Sara", got["name"], "a name not given stays")
	require.Equal(t, "active", got["status"])
	require.Equal(t, "sara@example.com", got["email"])

	// An empty patch changes nothing; the stored row says so too.
	code, got = patch(`{}`)
	require.Equal(t, http.StatusOK, code, got)
	c, err := Get(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.Equal(t, "Sara", c.Name)
	require.Equal(t, map[string]any{"city": "Shiraz", "age": float64(31), "lang": "fa"}, c.Attributes)
	require.Equal(t, []string{"vip", "buyer"}, c.Tags)

	// Name and status alone; null for a field means "leave it".
	code, got = patch(`{"name":"  سارا  ","status":"unsubscribed","attributes":null}`)
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, "سارا", got["name"])
	require.Equal(t, "unsubscribed", got["status"])
	require.Equal(t, map[string]any{"city": "Shiraz", "age": float64(31), "lang": "fa"}, got["attributes"])
	code, got = patch(`{"status":"active"}`)
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, "active", got["status"], "an admin may lift an unsubscribe they recorded")

	// Every mistake is reported with its field path, and nothing is stored.
	code, got = patch(`{"name":"x","status":"erased","tags_add":["ok","bad\u0007tag"]}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, got)
	e := got["error"].(map[string]any)
	require.Equal(t, "invalid", e["code"])
	var fields []string
	for _, x := range e["errors"].([]any) {
		fields = append(fields, x.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, []string{"tags_add", "status"}, fields)
	c, err = Get(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.Equal(t, "سارا", c.Name, "a refused patch changes nothing")

	code, got = patch(`{"nickname":"x"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, got)
	require.Equal(t, "nickname", got["error"].(map[string]any)["field"], "an unknown field is named, not ignored")

	code, _ = a.do(http.MethodPatch, "/contacts/999999", json.RawMessage(`{"name":"x"}`))
	require.Equal(t, http.StatusNotFound, code)

	require.NoError(t, Erase(a.ctx, a.pool, eventsNotHeld, id))
	code, got = patch(`{"name":"back"}`)
	require.Equal(t, http.StatusConflict, code, got)
}
