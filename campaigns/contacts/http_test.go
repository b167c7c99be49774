package contacts

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/httpapi"
)

// api is a running HTTP server with the package's routes.
type api struct {
	bundle
	url string
	t   *testing.T
}

func newAPI(t *testing.T, mod func(*Deps)) api {
	t.Helper()
	b := setup(t)
	e := echo.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	deps := Deps{Pool: b.pool, Logger: logger, Events: eventsNotHeld}
	if mod != nil {
		mod(&deps)
	}
	Routes(e.Group("/api/v1"), deps)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return api{bundle: b, url: srv.URL + "/api/v1", t: t}
}

// do sends a JSON request and decodes the JSON answer into a map.
func (a api) do(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(a.ctx, method, a.url+path, rd)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	return a.send(req)
}

func (a api) send(req *http.Request) (int, map[string]any) {
	a.t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	out := map[string]any{}
	if len(raw) > 0 {
		require.NoError(a.t, json.Unmarshal(raw, &out), string(raw))
	}
	return res.StatusCode, out
}

func idOf(t *testing.T, m map[string]any) int64 {
	t.Helper()
	f, ok := m["id"].(float64)
	require.True(t, ok, "no id in %v", m)
	return int64(f)
}

func TestContactsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	code, body := a.do("POST", "/contacts", map[string]any{"email": "sara@example.com", "name": "سارا",
		"attributes": map[string]any{"city": "Tehran", "plan": "pro"}, "tags": []string{"vip"}})
	require.Equal(t, http.StatusCreated, code, body)
	id := idOf(t, body)
	require.Equal(t, "active", body["status"])
	require.Equal(t, map[string]any{"city": "Tehran", "plan": "pro"}, body["attributes"])

	code, body = a.do("POST", "/contacts", map[string]any{"email": "SARA@example.com"})
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, float64(id), body["error"].(map[string]any)["id"])

	code, body = a.do("POST", "/contacts", map[string]any{"email": "Sara <sara@example.com>"})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "email", body["error"].(map[string]any)["field"])

	code, body = a.do("GET", "/contacts/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "سارا", body["name"])
	require.Contains(t, body, "stats")

	code, body = a.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), map[string]any{"email": "sara@example.com", "name": "Sara", "tags": []string{"a", "b"}})
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []any{"a", "b"}, body["tags"])

	code, _ = a.do("GET", "/contacts/999999", nil)
	require.Equal(t, http.StatusNotFound, code)

	for i := range 5 {
		code, body = a.do("POST", "/contacts", map[string]any{"email": "p" + strconv.Itoa(i) + "@shop.example", "name": "Person " + strconv.Itoa(i)})
		require.Equal(t, http.StatusCreated, code, body)
	}
	var seen []string
	next := ""
	for {
		code, body = a.do("GET", "/contacts?q=shop.EXAMPLE&limit=2&after="+next, nil)
		require.Equal(t, http.StatusOK, code, body)
		for _, it := range body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["email"].(string))
		}
		n, _ := body["next"].(string)
		if n == "" {
			break
		}
		next = n
	}
	require.Equal(t, []string{"p0@shop.example", "p1@shop.example", "p2@shop.example", "p3@shop.example", "p4@shop.example"}, seen)

	code, body = a.do("GET", "/contacts?limit=0", nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
}

func TestSuppressionsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	code, body := a.do("POST", "/suppressions", map[string]any{"value": "@Spam.example", "reason": "spam trap"})
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, "domain", body["kind"])
	id := idOf(t, body)
	code, body = a.do("POST", "/suppressions", map[string]any{"value": "spam.example"})
	require.Equal(t, http.StatusConflict, code, body)
	code, body = a.do("POST", "/suppressions", map[string]any{"value": "not an address@"})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	code, body = a.do("GET", "/suppressions", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["items"], 1)
	code, _ = a.do("DELETE", "/suppressions/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = a.do("DELETE", "/suppressions/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusNotFound, code)
}
