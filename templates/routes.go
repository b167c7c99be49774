package templates

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Deps is what the template handlers need. Contacts and Sender may be nil:
// a preview for a contact_id then answers 503 unavailable (a preview
// without one renders for a sample contact), and so does a test send.
type Deps struct {
	Pool     *pgxpool.Pool
	Contacts ContactLookup
	Sender   TestSender
	// Audience returns a bounded sample of sendable contacts for the
	// fields check (nil: that check is left out).
	Audience AudienceSample
	Logger   *slog.Logger
	// MayMarkTransactional says whether the request's user may set or
	// clear a template's transactional flag (cmd: admins only), which lets
	// POST /api/v1/messages "transactional": true reach contacts who
	// unsubscribed; nil lets everyone.
	MayMarkTransactional func(echo.Context) bool
}

// ErrTransactionalAdmin refuses a change of a template's transactional
// flag by a user who may not make it.
var ErrTransactionalAdmin = errs.New(errs.Forbidden, "only an admin may mark a template transactional or clear the mark: "+
	"it lets POST /api/v1/messages with \"transactional\": true reach contacts who unsubscribed from marketing")

// mayMark applies Deps.MayMarkTransactional.
func (d Deps) mayMark(c echo.Context) bool {
	return d.MayMarkTransactional == nil || d.MayMarkTransactional(c)
}

// Routes registers the template API on api (/api/v1):
//
//	POST /templates              create → 201 the template
//	GET  /templates              list (?limit=&after=) → {"items":[…],"next":"…"}
//	GET  /templates/:id          the template
//	PUT  /templates/:id          replace name, subject, html, text, design, transactional
//	POST /templates/checks       {"subject","html","text","transactional"}: the pre-send checks of a draft
//	GET  /templates/:id/checks   the pre-send checks of a saved template, with the audience share check
//	POST /templates/:id/preview  {"contact_id":1} → {"subject","html","text"}
//	POST /templates/:id/test     {"to":"me@example.com"} sends one test email ("[test] " before the subject)
//	POST /templates/preview      {"subject","html","text","contact_id"}: an unsaved draft, for editors
//
// Templates answer with their trackable links as "links". Previews and test
// sends are untracked; without contact_id they render for SampleContact.
func Routes(api *echo.Group, d Deps) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := handlers{d}
	api.POST("/templates", h.create)
	api.GET("/templates", h.list)
	api.POST("/templates/preview", h.previewDraft)
	api.GET("/templates/:id", h.get)
	api.PUT("/templates/:id", h.update)
	api.POST("/templates/:id/preview", h.preview)
	api.POST("/templates/:id/test", h.test)
	api.GET("/templates/:id/checks", h.checks)
	api.DELETE("/templates/:id", h.delete)
	api.POST("/templates/:id/archive", h.archive(true))
	api.POST("/templates/:id/unarchive", h.archive(false))
}

// AudienceSample returns up to limit contacts a template could be sent to,
// for the pre-send fields check (wired by cmd from the contacts package).
type AudienceSample func(ctx context.Context, limit int) ([]Contact, error)

// checkSample is how many contacts the editor's fields check renders for.
const checkSample = 200

// runChecks is Checks over the configured audience sample.
func (h handlers) runChecks(ctx context.Context, t Template) ([]Check, error) {
	var audience []Contact
	if h.Audience != nil {
		var err error
		if audience, err = h.Audience(ctx, checkSample); err != nil {
			return nil, err
		}
	}
	return Checks(ctx, t, audience)
}

// checks answers the pre-send checks of a saved template:
// {"ok":bool,"checks":[…]}.
func (h handlers) checks(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	t, err := Get(c.Request().Context(), h.Pool, id)
	if err != nil {
		return err
	}
	cs, err := h.runChecks(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checksJSON{OK: len(Failed(cs)) == 0, Checks: cs})
}

// checksJSON is the answer of the checks endpoint.
type checksJSON struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

type handlers struct{ Deps }

// templateInput is the body of create and update. The read-only fields a
// client may echo back from a GET are accepted and ignored.
type templateInput struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
	// Design is the visual editor's document, stored as given (null: none).
	Design        json.RawMessage `json:"design"`
	Transactional bool            `json:"transactional"`
	ID            json.RawMessage `json:"id"`
	CreatedAt     json.RawMessage `json:"created_at"`
	UpdatedAt     json.RawMessage `json:"updated_at"`
	Links         json.RawMessage `json:"links"`
}

func (in templateInput) template(id int64) Template {
	return Template{ID: id, Name: strings.TrimSpace(in.Name), Subject: in.Subject, HTML: in.HTML, Text: in.Text,
		Design: normDesign(in.Design), Transactional: in.Transactional}
}

// templateJSON is a template as the API shows it.
type templateJSON struct {
	Template
	Links []Link `json:"links"`
}

func withLinks(t Template) templateJSON {
	out := templateJSON{Template: t, Links: []Link{}}
	if c, err := Compile(t); err == nil {
		out.Links = c.Links()
	}
	return out
}

func (h handlers) create(c echo.Context) error {
	var in templateInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Transactional && !h.mayMark(c) {
		return ErrTransactionalAdmin
	}
	t, err := Create(c.Request().Context(), h.Pool, in.template(0))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, withLinks(t))
}

func (h handlers) update(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in templateInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	if !h.mayMark(c) {
		old, err := Get(c.Request().Context(), h.Pool, id)
		if err != nil {
			return err
		}
		if old.Transactional != in.Transactional {
			return ErrTransactionalAdmin
		}
	}
	t, err := Update(c.Request().Context(), h.Pool, in.template(id))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, withLinks(t))
}

func (h handlers) get(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	t, err := Get(c.Request().Context(), h.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, withLinks(t))
}

func (h handlers) list(c echo.Context) error {
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	var after int64
	if s := c.QueryParam("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return errs.Field("after", "must be a cursor from a previous page's next")
		}
	}
	archived, err := archivedParam(c.QueryParam("archived"))
	if err != nil {
		return err
	}
	items, err := ListPage(c.Request().Context(), h.Pool, after, limit, archived)
	if err != nil {
		return err
	}
	out := listAnswer{Items: items}
	if out.Items == nil {
		out.Items = []Template{}
	}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	if out.Total, err = ListTotal(c.Request().Context(), h.Pool, archived); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type previewInput struct {
	ContactID int64 `json:"contact_id"`
}

type renderedJSON struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

func (h handlers) preview(c echo.Context) error {
	var in previewInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	r, err := h.render(c, in.ContactID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, renderedJSON{Subject: r.Subject, HTML: r.HTML, Text: r.Text})
}

// draftInput is an unsaved template to preview.
type draftInput struct {
	Name      string `json:"name"`
	Subject   string `json:"subject"`
	HTML      string `json:"html"`
	Text      string `json:"text"`
	ContactID int64  `json:"contact_id"`
	// Transactional and Design are accepted so an editor can send its
	// whole form; design is not rendered.
	Transactional bool            `json:"transactional"`
	Design        json.RawMessage `json:"design"`
}

// previewDraft compiles and renders a template that is not saved, so an
// editor can show errors (with line and column) and the result as the
// author types.
func (h handlers) previewDraft(c echo.Context) error {
	var in draftInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	t := Template{Name: in.Name, Subject: in.Subject, HTML: in.HTML, Text: in.Text, Transactional: in.Transactional}
	r, err := h.renderFor(c, t, in.ContactID)
	if err != nil {
		return err
	}
	cs, err := h.runChecks(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, previewJSON{renderedJSON: renderedJSON{Subject: r.Subject, HTML: r.HTML, Text: r.Text}, Links: r.links, Checks: cs})
}

// previewJSON is a draft preview: the rendered message, its links and the
// pre-send checks.
type previewJSON struct {
	renderedJSON
	Links  []Link  `json:"links"`
	Checks []Check `json:"checks"`
}

// TestSubjectPrefix goes before the subject of a test email, once: the
// sender (engine.TestSender) adds nothing of its own.
const TestSubjectPrefix = "[test] "

type testInput struct {
	To        string `json:"to"`
	ContactID int64  `json:"contact_id"`
}

func (h handlers) test(c echo.Context) error {
	var in testInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	to, err := testAddress(in.To)
	if err != nil {
		return err
	}
	if h.Sender == nil {
		return errs.New(errs.Unavailable, "test sending is not configured")
	}
	r, err := h.render(c, in.ContactID)
	if err != nil {
		return err
	}
	r.Subject = TestSubjectPrefix + r.Subject
	ctx := c.Request().Context()
	if err := h.Sender.SendTest(ctx, to, r); err != nil {
		var de *errs.Error
		if errors.As(err, &de) {
			return err
		}
		h.Logger.WarnContext(ctx, "test send failed", slog.String("to", to), slog.Any("error", err))
		return &errs.Error{Code: errs.Unavailable, Message: "the test email could not be sent", Err: err}
	}
	return c.JSON(http.StatusOK, map[string]any{"sent": true, "to": to})
}

func testAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Field("to", "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", errs.Field("to", "is not a valid email address")
	}
	return a.Address, nil
}

// render loads the path's template and renders it untracked for contactID,
// or for a sample contact when contactID is 0.
func (h handlers) render(c echo.Context, contactID int64) (*Rendered, error) {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return nil, err
	}
	t, err := Get(c.Request().Context(), h.Pool, id)
	if err != nil {
		return nil, err
	}
	r, err := h.renderFor(c, t, contactID)
	if err != nil {
		return nil, err
	}
	return r.Rendered, nil
}

// preview is a rendered preview and the template's links.
type preview struct {
	*Rendered
	links []Link
}

// renderFor compiles t and renders it untracked for contactID, or for a
// sample contact when contactID is 0.
func (h handlers) renderFor(c echo.Context, t Template, contactID int64) (preview, error) {
	ctx := c.Request().Context()
	compiled, err := Compile(t)
	if err != nil {
		return preview{}, err
	}
	contact := SampleContact()
	switch {
	case contactID < 0:
		return preview{}, errs.Field("contact_id", "must be a positive id")
	case contactID > 0 && h.Contacts == nil:
		return preview{}, errs.New(errs.Unavailable, "contact lookup is not configured; preview without contact_id to use a sample contact")
	case contactID > 0:
		if contact, err = h.Contacts(ctx, contactID); err != nil {
			return preview{}, err
		}
	}
	r, err := compiled.RenderContext(ctx, Data{Contact: contact, Campaign: Campaign{Name: t.Name}, Data: compiled.SampleData()}, nil)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return preview{}, &errs.Error{Code: errs.Unavailable, Message: "rendering was stopped: the request was cancelled or ran out of time", Err: err}
	}
	if err != nil {
		return preview{}, err
	}
	return preview{Rendered: r, links: compiled.Links()}, nil
}

// SampleContact is the contact previews render for when none is given.
func SampleContact() Contact {
	return Contact{ID: 0, Email: "sample@example.com", Name: "Sample Contact",
		Attributes: map[string]any{}, Tags: []string{}, CreatedAt: sampleTime}
}
