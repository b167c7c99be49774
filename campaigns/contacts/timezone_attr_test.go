package contacts

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTimezoneAttribute: the timezone attribute must be an IANA zone on
// create, patch and import; the refusal names the field (or, for a CSV
// line, the column) and nothing else of the request or file is lost.
func TestTimezoneAttribute(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	code, got := a.do(http.MethodPost, "/contacts", json.RawMessage(`{"email":"nope@example.com","attributes":{"timezone":"Tehran"}}`))
	require.Equal(t, http.StatusUnprocessableEntity, code, got)
	require.Contains(t, strings.ToLower(toJSON(t, got)), "attributes.timezone")
	require.Contains(t, toJSON(t, got), "IANA time zone")

	id := a.mustCreate(t, ContactInput{Email: "sara@example.com", Attributes: map[string]any{"timezone": "Asia/Tehran"}})
	path := "/contacts/" + strconv.FormatInt(id, 10)
	code, got = a.do(http.MethodPatch, path, json.RawMessage(`{"attributes":{"timezone":5}}`))
	require.Equal(t, http.StatusUnprocessableEntity, code, got)
	require.Contains(t, toJSON(t, got), "attributes.timezone")
	code, got = a.do(http.MethodPatch, path, json.RawMessage(`{"attributes":{"timezone":"America/New_York"}}`))
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, "America/New_York", got["attributes"].(map[string]any)["timezone"])
	code, got = a.do(http.MethodPatch, path, json.RawMessage(`{"attributes":{"timezone":null}}`))
	require.Equal(t, http.StatusOK, code, got, "null removes it: the zone is then inferred")

	b := setup(t)
	res, err := ImportCSV(b.ctx, b.pool, strings.NewReader("email,timezone\nok@example.com,Europe/Paris\nbad@example.com,Paris\nnone@example.com,\n"), "", nil)
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Progress.Inserted)
	require.Len(t, res.Rejected, 1)
	require.Equal(t, 3, res.Rejected[0].Line)
	require.Contains(t, res.Rejected[0].Reason, "timezone: must be an IANA time zone name")
	all, err := List(b.ctx, b.pool, ListQuery{Limit: 10})
	require.NoError(t, err)
	for _, c := range all {
		if c.Email == "ok@example.com" {
			require.Equal(t, "Europe/Paris", c.Attributes["timezone"], "the import column maps to the attribute")
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
