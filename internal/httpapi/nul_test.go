package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// nulServer serves a JSON route, a query route, a form route and a
// streaming multipart route behind RejectNUL and the error handler.
func nulServer(t *testing.T) string {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	g := e.Group("", RejectNUL())
	g.POST("/json", func(c echo.Context) error {
		var in struct {
			Name       string         `json:"name"`
			Attributes map[string]any `json:"attributes"`
			Tags       []string       `json:"tags"`
		}
		if err := BindJSON(c, &in); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, in)
	})
	g.GET("/query", func(c echo.Context) error { return c.String(http.StatusOK, c.QueryParam("q")) })
	g.POST("/form", func(c echo.Context) error { return c.String(http.StatusOK, c.FormValue("name")) })
	g.POST("/upload", func(c echo.Context) error {
		mr, err := c.Request().MultipartReader() // fails if the body was parsed before
		if err != nil {
			return err
		}
		p, err := mr.NextPart()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, strings.ReplaceAll(string(b), "\x00", "<NUL>"))
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

// errorOf sends req and returns the status and the error detail.
func errorOf(t *testing.T, req *http.Request) (int, ErrorDetail, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var body ErrorBody
	if res.StatusCode >= 400 {
		require.NoError(t, json.Unmarshal(b, &body), string(b))
	}
	return res.StatusCode, body.Error, string(b)
}

func TestNULInJSONNamesTheField(t *testing.T) {
	t.Parallel()
	base := nulServer(t)
	for doc, field := range map[string]string{
		`{"name":"Sara\u0000"}`:                       "name",
		`{"name":"x","attributes":{"city":"\u0000"}}`: "attributes.city",
		`{"attributes":{"ci\u0000ty":"Tehran"}}`:      `attributes.ci\u0000ty`,
		`{"tags":["vip","\u0000"]}`:                   "tags[1]",
		`{"attributes":{"a":{"deep":["\u0000x"]}}}`:   "attributes.a.deep[0]",
		`{"nope":"\u0000"}`:                           "nope", // checked before unknown fields
	} {
		req, err := http.NewRequest(http.MethodPost, base+"/json", strings.NewReader(doc))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		code, detail, raw := errorOf(t, req)
		require.Equal(t, http.StatusUnprocessableEntity, code, raw)
		require.Equal(t, field, detail.Field, doc)
		require.Equal(t, "invalid", string(detail.Code))
		require.Contains(t, detail.Message, "NUL")
	}
	req, err := http.NewRequest(http.MethodPost, base+"/json", strings.NewReader(`{"name":"\\u0000 is fine as text"}`))
	require.NoError(t, err)
	code, _, raw := errorOf(t, req)
	require.Equal(t, http.StatusOK, code, raw)
	require.Contains(t, raw, `\\u0000 is fine`)
}

func TestNULInQueryOrFormNamesTheField(t *testing.T) {
	t.Parallel()
	base := nulServer(t)
	for query, field := range map[string]string{"q=%00": "q", "a=1&q=x%00y": "q", "a%00b=1": `a\u0000b`} {
		req, err := http.NewRequest(http.MethodGet, base+"/query?"+query, nil)
		require.NoError(t, err)
		code, detail, raw := errorOf(t, req)
		require.Equal(t, http.StatusUnprocessableEntity, code, raw)
		require.Equal(t, field, detail.Field, query)
	}
	req, err := http.NewRequest(http.MethodGet, base+"/query?q=%2500", nil)
	require.NoError(t, err)
	code, _, raw := errorOf(t, req)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "%00", raw, "an escaped percent sign is text")

	form := url.Values{"name": {"Sara\x00"}, "other": {"ok"}}
	req, err = http.NewRequest(http.MethodPost, base+"/form", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	code, detail, raw := errorOf(t, req)
	require.Equal(t, http.StatusUnprocessableEntity, code, raw)
	require.Equal(t, "name", detail.Field)
}

// TestMultipartLeftToItsHandler: RejectNUL does not parse a multipart body,
// so an upload handler can still stream it (a CSV's NUL bytes are its
// rows' business).
func TestMultipartLeftToItsHandler(t *testing.T) {
	t.Parallel()
	base := nulServer(t)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	f, err := w.CreateFormFile("file", "c.csv")
	require.NoError(t, err)
	_, err = f.Write([]byte("email\na\x00@b.example\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	req, err := http.NewRequest(http.MethodPost, base+"/upload", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	code, _, raw := errorOf(t, req)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "email\na<NUL>@b.example\n", raw)
}

// TestCheckNULMultipart: with multipart, form fields of a multipart body
// are checked too (the admin pages, which never stream).
func TestCheckNULMultipart(t *testing.T) {
	t.Parallel()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	require.NoError(t, w.WriteField("name", "a\x00"))
	require.NoError(t, w.Close())
	req := httptest.NewRequest(http.MethodPost, "/x", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	c := echo.New().NewContext(req, httptest.NewRecorder())
	err := CheckNUL(c, true)
	require.Error(t, err)
	require.Contains(t, err.Error(), "name")
}
