package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// captureSender records test sends.
type captureSender struct {
	mu   sync.Mutex
	sent []struct {
		to string
		r  *Rendered
	}
}

func (s *captureSender) SendTest(_ context.Context, to string, r *Rendered) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, struct {
		to string
		r  *Rendered
	}{to, r})
	return nil
}

type apiFixture struct {
	url    string
	sender *captureSender
}

// setup serves the template API over real HTTP on a fresh database. With
// wired false, Contacts and Sender are nil.
func setup(t *testing.T, wired bool) apiFixture {
	t.Helper()
	pool := pgtest.NewPool(t)
	e := echo.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	f := apiFixture{sender: &captureSender{}}
	d := Deps{Pool: pool, Logger: logger}
	if wired {
		d.Sender = f.sender
		d.Contacts = func(_ context.Context, id int64) (Contact, error) {
			switch id {
			case 1:
				return Contact{ID: 1, Email: "sara@example.com", Name: "سارا", Attributes: map[string]any{"city": "Tehran"}}, nil
			case taggedContactID:
				return taggedContact(25), nil
			}
			return Contact{}, errs.New(errs.NotFound, "no contact %d", id)
		}
	}
	Routes(e.Group("/api/v1"), d)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/api/v1"
	return f
}

func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

type apiError struct {
	Error httpapi.ErrorDetail `json:"error"`
}

func TestAPICreateGetUpdateList(t *testing.T) {
	t.Parallel()
	f := setup(t, true)

	var created templateJSON
	code := call(t, "POST", f.url+"/templates", map[string]string{
		"name": "welcome", "subject": "Hi {{ .Contact.Name }}",
		"html": `<p>سلام <a href="https://shop.example/pricing">Pricing</a> <a href="https://shop.example/pricing">again</a></p>`,
	}, &created)
	require.Equal(t, http.StatusCreated, code)
	require.Positive(t, created.ID)
	require.Equal(t, "welcome", created.Name)
	require.False(t, created.CreatedAt.IsZero())
	require.Equal(t, []Link{{Idx: 0, URL: "https://shop.example/pricing", Name: "Pricing"},
		{Idx: 1, URL: "https://shop.example/pricing", Name: "again"}}, created.Links)

	var got templateJSON
	require.Equal(t, http.StatusOK, call(t, "GET", f.url+"/templates/"+itoa(created.ID), nil, &got))
	require.Equal(t, created.HTML, got.HTML)
	require.Equal(t, "", got.Text)

	// A client may PUT back what it got.
	got.Subject = "Hello {{ .Contact.Name }}"
	var updated templateJSON
	require.Equal(t, http.StatusOK, call(t, "PUT", f.url+"/templates/"+itoa(created.ID), got, &updated))
	require.Equal(t, "Hello {{ .Contact.Name }}", updated.Subject)
	require.True(t, !updated.UpdatedAt.Before(created.UpdatedAt))

	// An invalid update is refused with the position and changes nothing.
	var e apiError
	code = call(t, "PUT", f.url+"/templates/"+itoa(created.ID), map[string]string{
		"name": "welcome", "subject": "x", "html": "<p>\n{{ .Contact.Nmae }}</p>"}, &e)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, httpapi.ErrorDetail{Code: errs.Invalid, Field: "html", Line: 2, Column: 12,
		Message: "<.Contact.Nmae>: can't evaluate field Nmae in type Contact"}, e.Error)
	require.Equal(t, http.StatusOK, call(t, "GET", f.url+"/templates/"+itoa(created.ID), nil, &got))
	require.Equal(t, "Hello {{ .Contact.Name }}", got.Subject)

	for i := range 4 {
		require.Equal(t, http.StatusCreated, call(t, "POST", f.url+"/templates", map[string]string{
			"name": "t" + itoa(int64(i)), "subject": "s", "html": "<p>x</p>"}, nil))
	}
	var ids []int64
	next := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		var page httpapi.List[Template]
		require.Equal(t, http.StatusOK, call(t, "GET", f.url+"/templates?limit=2&after="+next, nil, &page))
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	require.Len(t, ids, 5)
	require.IsIncreasing(t, ids)
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, true)
	var e apiError
	require.Equal(t, http.StatusNotFound, call(t, "GET", f.url+"/templates/999", nil, &e))
	require.Equal(t, errs.NotFound, e.Error.Code)
	require.Equal(t, http.StatusNotFound, call(t, "PUT", f.url+"/templates/999",
		map[string]string{"name": "n", "subject": "s", "html": "<p>x</p>"}, &e))

	cases := []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"subject": "s", "html": "<p>x</p>"}, "name"},
		{map[string]string{"name": "n", "html": "<p>x</p>"}, "subject"},
		{map[string]string{"name": "n", "subject": "s"}, "html"},
		{map[string]string{"name": "n", "subject": "s", "html": "<p>x</p>", "text": "{{ .Contact.Nmae }}"}, "text"},
		{map[string]string{"name": "n", "subject": "Hi {{ nope }}", "html": "<p>x</p>"}, "subject"},
		{map[string]string{"name": "n", "subject": "s", "html": "<p>x</p>", "colour": "red"}, "colour"},
	}
	for _, tc := range cases {
		e = apiError{}
		require.Equal(t, http.StatusUnprocessableEntity, call(t, "POST", f.url+"/templates", tc.body, &e), tc.body)
		require.Equal(t, tc.field, e.Error.Field, e.Error.Message)
	}
	require.Equal(t, http.StatusBadRequest, call(t, "POST", f.url+"/templates", `{"name":`, nil))
}

func TestAPIPreviewAndTestSend(t *testing.T) {
	t.Parallel()
	f := setup(t, true)
	var created templateJSON
	require.Equal(t, http.StatusCreated, call(t, "POST", f.url+"/templates", map[string]string{
		"name": "welcome", "subject": "سلام {{ .Contact.Name }}",
		"html": `<p dir="rtl">سلام {{ .Contact.Name }} از {{ attr "city" "ایران" }} <a href="https://shop.example/">Shop</a> <a href="{{ unsubscribe_url }}">لغو</a></p>`,
	}, &created))
	id := itoa(created.ID)

	var r renderedJSON
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/"+id+"/preview", map[string]int{"contact_id": 1}, &r))
	require.Equal(t, renderedJSON{
		Subject: "سلام سارا",
		HTML:    `<p dir="rtl">سلام سارا از Tehran <a href="https://shop.example/">Shop</a> <a href="#">لغو</a></p>`,
		Text:    "سلام سارا از Tehran Shop (https://shop.example/) لغو (#)",
	}, r)

	// Without a contact_id: the sample contact.
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/"+id+"/preview", `{}`, &r))
	require.Equal(t, "سلام Sample Contact", r.Subject)
	require.Contains(t, r.HTML, "از ایران")

	var e apiError
	require.Equal(t, http.StatusNotFound, call(t, "POST", f.url+"/templates/"+id+"/preview", map[string]int{"contact_id": 2}, &e))
	require.Equal(t, http.StatusNotFound, call(t, "POST", f.url+"/templates/998/preview", `{}`, &e))

	var sent map[string]any
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/"+id+"/test", map[string]string{"to": "me@example.com"}, &sent))
	require.Equal(t, map[string]any{"sent": true, "to": "me@example.com"}, sent)
	require.Len(t, f.sender.sent, 1)
	require.Equal(t, "me@example.com", f.sender.sent[0].to)
	require.Equal(t, "[test] سلام Sample Contact", f.sender.sent[0].r.Subject)

	require.Equal(t, http.StatusUnprocessableEntity, call(t, "POST", f.url+"/templates/"+id+"/test", map[string]string{"to": "not an address"}, &e))
	require.Equal(t, "to", e.Error.Field)
}

func TestAPIPreviewDraft(t *testing.T) {
	t.Parallel()
	f := setup(t, true)
	var p previewJSON
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/preview", map[string]any{
		"subject": "Hi {{ .Contact.Name }}", "html": `<p>{{ attr "city" }} <a href="https://x.example/">X</a></p>`, "contact_id": 1}, &p))
	require.Equal(t, "Hi سارا", p.Subject)
	require.Equal(t, `<p>Tehran <a href="https://x.example/">X</a></p>`, p.HTML)
	require.Equal(t, []Link{{Idx: 0, URL: "https://x.example/", Name: "X"}}, p.Links)

	var e apiError
	require.Equal(t, http.StatusUnprocessableEntity, call(t, "POST", f.url+"/templates/preview", map[string]any{
		"subject": "Hi", "html": "<p>\n\n  {{ .Contact.Emial }}</p>"}, &e))
	require.Equal(t, httpapi.ErrorDetail{Code: errs.Invalid, Field: "html", Line: 3, Column: 14,
		Message: "<.Contact.Emial>: can't evaluate field Emial in type Contact"}, e.Error)
	// The sample contact has no attributes: a missing one without a default
	// is the render error a real send would record.
	require.Equal(t, http.StatusUnprocessableEntity, call(t, "POST", f.url+"/templates/preview", map[string]any{
		"subject": "Hi", "html": `<p>{{ attr "city" }}</p>`}, &e))
	require.Contains(t, e.Error.Message, `contact attribute "city" is missing`)
	require.Equal(t, 1, e.Error.Line)
}

func TestAPIPreviewAndTestSendWithoutDependencies(t *testing.T) {
	t.Parallel()
	f := setup(t, false)
	var created templateJSON
	require.Equal(t, http.StatusCreated, call(t, "POST", f.url+"/templates", map[string]string{
		"name": "n", "subject": "s", "html": "<p>{{ .Contact.Name }}</p>"}, &created))
	id := itoa(created.ID)
	var e apiError
	require.Equal(t, http.StatusServiceUnavailable, call(t, "POST", f.url+"/templates/"+id+"/preview", map[string]int{"contact_id": 1}, &e))
	require.Equal(t, errs.Unavailable, e.Error.Code)
	require.Contains(t, e.Error.Message, "contact lookup")
	require.Equal(t, http.StatusServiceUnavailable, call(t, "POST", f.url+"/templates/"+id+"/test", map[string]string{"to": "me@example.com"}, &e))
	require.Equal(t, errs.Unavailable, e.Error.Code)
	var r renderedJSON
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/"+id+"/preview", `{}`, &r))
	require.Equal(t, "<p>Sample Contact</p>", r.HTML)
}

func TestStoreInTransaction(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	created, err := Create(ctx, tx, Template{Name: "n", Subject: "s", HTML: "<p>x</p>"})
	require.NoError(t, err)
	got, err := Get(ctx, tx, created.ID)
	require.NoError(t, err)
	require.Equal(t, created, got)
	require.NoError(t, tx.Rollback(ctx))
	_, err = Get(ctx, pool, created.ID)
	require.True(t, errs.Is(err, errs.NotFound), "%v", err)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type failingSender struct{}

func (failingSender) SendTest(context.Context, string, *Rendered) error {
	return io.ErrUnexpectedEOF // a transport failure, not a domain error
}

func TestAPITestSendFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	e := echo.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	Routes(e.Group("/api/v1"), Deps{Pool: pool, Logger: logger, Sender: failingSender{}})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	created, err := Create(context.Background(), pool, Template{Name: "n", Subject: "s", HTML: "<p>x</p>"})
	require.NoError(t, err)
	var out apiError
	require.Equal(t, http.StatusServiceUnavailable, call(t, "POST", srv.URL+"/api/v1/templates/"+itoa(created.ID)+"/test",
		map[string]string{"to": "me@example.com"}, &out))
	require.Equal(t, "the test email could not be sent", out.Error.Message)
}
