package forms

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

var (
	pageTmpl  = htmltemplate.Must(htmltemplate.ParseFS(pagesFS, "pages/page.html"))
	embedTmpl = htmltemplate.Must(htmltemplate.ParseFS(pagesFS, "pages/embed.html"))
)

// CSP is the policy of the public form pages: no script at all, the page's
// one <style> block, forms posting to Peykar (and redirecting to the
// form's redirect URL), never framed. The server sets it on /f; the
// handlers narrow form-action per form.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Routes registers the public endpoints on e, without login: the hosted
// page, its submit, the thank-you page and the confirmation link. The
// submit takes cross-site posts from the embed snippet (no cookie, so no
// CSRF token: the signed render token, the honeypot and the rate limits
// protect it); no CORS header is sent, so scripts of other sites cannot
// read the answers.
func (s *Service) Routes(e *echo.Echo) {
	// Middleware per route, not on a group: a group with middleware
	// would answer every other /f/* path too.
	mw := []echo.MiddlewareFunc{middleware.BodyLimit("32K"), httpapi.RejectNUL()}
	e.GET("/f/:id", s.page, mw...)
	e.POST("/f/:id", s.submit, mw...)
	e.GET("/f/:id/thanks", s.thanks, mw...)
	e.GET("/f/confirm/:token", s.confirmPage, mw...)
	e.POST("/f/confirm/:token", s.confirm, mw...)
}

// PublicURL is the hosted page of form id.
func (s *Service) PublicURL(id int64) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/f/" + strconv.FormatInt(id, 10)
}

// Decorate fills the form's PublicURL and EmbedHTML.
func (s *Service) Decorate(ctx context.Context, f *Form) error {
	f.PublicURL = s.PublicURL(f.ID)
	d, err := s.formData(ctx, f, s.PublicURL(f.ID))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := embedTmpl.Execute(&b, d); err != nil {
		return fmt.Errorf("render embed snippet: %w", err)
	}
	f.EmbedHTML = b.String()
	return nil
}

type topicOpt struct {
	ID                int64
	Name, Description string
	Checked           bool
}

type attrField struct{ Key, Value, Err string }

// pageData is what page.html shows; Mode is form, confirm or message.
type pageData struct {
	W                 words
	Form              Form
	Mode, Title, Text string
	Notice            string
	Link, LinkText    string
	Action, Token     string
	Values, Errors    map[string]string
	Topics            []topicOpt
	Attrs             []attrField
	// Preview: the admin's inert copy (posts nowhere, counts nothing).
	Preview bool
}

// formData is a page showing form f, posting to action.
func (s *Service) formData(ctx context.Context, f *Form, action string) (pageData, error) {
	w := wordsFor(f.Language)
	d := pageData{W: w, Form: *f, Mode: "form", Title: f.Name, Action: action, Values: map[string]string{}, Errors: map[string]string{}}
	ts, err := topics.ByIDs(ctx, s.cfg.Pool, "topic_ids", f.TopicIDs)
	if err != nil && !errs.Is(err, errs.Invalid) {
		return d, err
	}
	for _, t := range ts {
		if t.ArchivedAt == nil {
			d.Topics = append(d.Topics, topicOpt{ID: t.ID, Name: t.Name, Description: t.Description})
		}
	}
	for _, k := range f.AttrFields() {
		d.Attrs = append(d.Attrs, attrField{Key: k})
	}
	return d, nil
}

// render writes page.html with status and the form pages' CSP, whose
// form-action also allows the form's redirect (browsers check a form's
// redirect against it).
func (s *Service) render(c echo.Context, status int, d pageData) error {
	csp := CSP
	if d.Form.RedirectURL != nil {
		if u, err := url.Parse(*d.Form.RedirectURL); err == nil {
			csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1)
		}
	}
	if d.Preview {
		csp = strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors 'self'", 1)
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp)
	h.Set(echo.HeaderCacheControl, "no-store")
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		return fmt.Errorf("render form page: %w", err)
	}
	return c.HTMLBlob(status, b.Bytes())
}

// message shows a page with a title and a text in lang.
func (s *Service) message(c echo.Context, status int, lang, title, text string) error {
	return s.render(c, status, pageData{W: wordsFor(lang), Mode: "message", Title: title, Text: text})
}

// load returns the form named by the path, or answers 404.
func (s *Service) load(c echo.Context) (Form, bool, error) {
	id, err := httpapi.PathID(c, "id")
	if err == nil {
		var f Form
		f, err = Get(c.Request().Context(), s.cfg.Pool, id)
		if err == nil {
			return f, true, nil
		}
	}
	if errs.Is(err, errs.NotFound) {
		w := wordsFor("en")
		return Form{}, false, s.message(c, http.StatusNotFound, "en", w.NotFound, "")
	}
	return Form{}, false, err
}

// limited answers 429 with Retry-After when client is over l's limit.
func (s *Service) limited(c echo.Context, l *Limiter, lang string) (bool, error) {
	ok, wait := l.Allow(c.RealIP(), s.cfg.Now())
	if ok {
		return false, nil
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	w := wordsFor(lang)
	return true, s.message(c, http.StatusTooManyRequests, lang, w.TooMany, "")
}

// page serves GET /f/{id}: the hosted form with a fresh render token; a
// view is counted.
func (s *Service) page(c echo.Context) error {
	f, ok, err := s.load(c)
	if !ok {
		return err
	}
	if stop, err := s.limited(c, s.views, f.Language); stop {
		return err
	}
	ctx := c.Request().Context()
	if err := countEvent(ctx, s.cfg.Pool, f.ID, EventView, nil, s.cfg.Now()); err != nil {
		return err
	}
	d, err := s.formData(ctx, &f, "/f/"+strconv.FormatInt(f.ID, 10))
	if err != nil {
		return err
	}
	d.Token = s.cfg.Keys.sign(kindRender, f.ID, s.cfg.Now())
	return s.render(c, http.StatusOK, d)
}

// submit serves POST /f/{id} (the hosted page and the embed snippet).
func (s *Service) submit(c echo.Context) error {
	f, ok, err := s.load(c)
	if !ok {
		return err
	}
	if stop, err := s.limited(c, s.submits, f.Language); stop {
		return err
	}
	ctx := c.Request().Context()
	if c.FormValue("website") != "" { // the honeypot: a bot; the same answer, nothing stored
		if err := countEvent(ctx, s.cfg.Pool, f.ID, EventRejected, nil, s.cfg.Now()); err != nil {
			return err
		}
		return s.done(c, f)
	}
	sub := s.submission(c, f)
	d, err := s.formData(ctx, &f, "/f/"+strconv.FormatInt(f.ID, 10))
	if err != nil {
		return err
	}
	d.Values["email"], d.Values["name"] = sub.Email, sub.Name
	for i := range d.Attrs {
		d.Attrs[i].Value = sub.Attrs[d.Attrs[i].Key]
	}
	for i := range d.Topics {
		for _, id := range sub.Topics {
			d.Topics[i].Checked = d.Topics[i].Checked || d.Topics[i].ID == id
		}
	}
	d.Token = s.cfg.Keys.sign(kindRender, f.ID, s.cfg.Now())
	if !s.freshToken(c.FormValue("_t"), f.ID) {
		// No token (the embed snippet), a forged or stale one, or a submit
		// quicker than a person: back to the form, to be pressed again.
		d.Notice = d.W.Again
		return s.render(c, http.StatusUnprocessableEntity, d)
	}
	res, err := s.Submit(ctx, f, sub)
	if errs.CodeOf(err) == errs.Invalid {
		for _, e := range errs.All(err) {
			d.Errors[e.Field] = fieldMessage(d.W, e.Field)
		}
		for i := range d.Attrs {
			d.Attrs[i].Err = d.Errors[attrPrefix+d.Attrs[i].Key]
		}
		return s.render(c, http.StatusUnprocessableEntity, d)
	}
	if err != nil {
		return err
	}
	s.cfg.Logger.DebugContext(ctx, "form submit", slog.Int64("form_id", f.ID), slog.Int64("signup_id", res.SignupID))
	return s.done(c, f)
}

// fieldMessage is the person's message for a field's error.
func fieldMessage(w words, field string) string {
	switch field {
	case "email":
		return w.BadEmail
	case "topic":
		return w.ChooseTopic
	}
	return w.BadField
}

// submission reads the posted values.
func (s *Service) submission(c echo.Context, f Form) Submission {
	sub := Submission{Email: c.FormValue("email"), Name: c.FormValue("name"), Attrs: map[string]string{},
		IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	for _, k := range f.AttrFields() {
		sub.Attrs[k] = c.FormValue(attrPrefix + k)
	}
	if vs, err := c.FormParams(); err == nil {
		for _, v := range vs["topic"] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				sub.Topics = append(sub.Topics, id)
			}
		}
	}
	return sub
}

// freshToken reports whether token is a render token of form id, at least
// MinFillTime and at most RenderTokenTTL old.
func (s *Service) freshToken(token string, formID int64) bool {
	id, at, ok := s.cfg.Keys.verify(kindRender, token)
	if !ok || id != formID {
		return false
	}
	age := s.cfg.Now().Sub(at)
	return age >= MinFillTime && age <= RenderTokenTTL
}

// done answers an accepted (or honeypot) submit: 303 to the redirect URL
// or to the thank-you page.
func (s *Service) done(c echo.Context, f Form) error {
	if f.RedirectURL != nil {
		return c.Redirect(http.StatusSeeOther, *f.RedirectURL)
	}
	return c.Redirect(http.StatusSeeOther, "/f/"+strconv.FormatInt(f.ID, 10)+"/thanks")
}

// thanks serves GET /f/{id}/thanks: the form's message, or the default.
func (s *Service) thanks(c echo.Context) error {
	f, ok, err := s.load(c)
	if !ok {
		return err
	}
	w := wordsFor(f.Language)
	text := f.Message
	if text == "" {
		text = w.ThanksDefault
		if !f.DoubleOptIn {
			text = ""
		}
	}
	return s.message(c, http.StatusOK, f.Language, w.Thanks, text)
}

// confirmPage serves GET /f/confirm/{token}: a button that confirms. The
// link itself changes nothing, so a mail scanner that follows links does
// not confirm for the person.
func (s *Service) confirmPage(c echo.Context) error {
	token := c.Param("token")
	id, expires, ok := s.cfg.Keys.verify(kindConfirm, token)
	if !ok {
		return s.message(c, http.StatusNotFound, "en", wordsFor("en").InvalidLink, "")
	}
	sg, err := getSignup(c.Request().Context(), s.cfg.Pool, id)
	if errs.Is(err, errs.NotFound) {
		return s.message(c, http.StatusNotFound, "en", wordsFor("en").InvalidLink, "")
	}
	if err != nil {
		return err
	}
	f, err := Get(c.Request().Context(), s.cfg.Pool, sg.FormID)
	if err != nil {
		return err
	}
	w := wordsFor(f.Language)
	switch {
	case sg.ConfirmedAt != nil:
		return s.message(c, http.StatusOK, f.Language, w.AlreadyConfirmed, "")
	case s.cfg.Now().After(expires):
		return s.expired(c, f)
	}
	return s.render(c, http.StatusOK, pageData{W: w, Mode: "confirm", Title: w.ConfirmTitle, Action: "/f/confirm/" + token})
}

// expired is the page of an expired link, with the way back to the form.
func (s *Service) expired(c echo.Context, f Form) error {
	w := wordsFor(f.Language)
	return s.render(c, http.StatusGone, pageData{W: w, Mode: "message", Title: w.ExpiredLink,
		Link: "/f/" + strconv.FormatInt(f.ID, 10), LinkText: w.Resubmit})
}

// confirm serves POST /f/confirm/{token}.
func (s *Service) confirm(c echo.Context) error {
	ctx := c.Request().Context()
	o, formID, err := s.Confirm(ctx, c.Param("token"), c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	lang := "en"
	var f Form
	if formID != 0 {
		if f, err = Get(ctx, s.cfg.Pool, formID); err == nil {
			lang = f.Language
		}
	}
	w := wordsFor(lang)
	switch o {
	case Confirmed:
		return s.message(c, http.StatusOK, lang, w.Confirmed, "")
	case AlreadyConfirmed:
		return s.message(c, http.StatusOK, lang, w.AlreadyConfirmed, "")
	case Expired:
		if f.ID != 0 {
			return s.expired(c, f)
		}
	}
	return s.message(c, http.StatusNotFound, lang, w.InvalidLink, "")
}

// Preview writes form f's hosted page as a visitor sees it, inert: no
// view is counted, the form posts nowhere, and only Peykar's own pages may
// frame it (the admin's edit page does).
func (s *Service) Preview(c echo.Context, f Form) error {
	d, err := s.formData(c.Request().Context(), &f, "")
	if err != nil {
		return err
	}
	d.Preview = true
	return s.render(c, http.StatusOK, d)
}
