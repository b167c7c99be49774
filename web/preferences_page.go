package web

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/preferences"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// PreferencesDeps is what the preference centre needs.
type PreferencesDeps struct {
	Pool   *pgxpool.Pool
	Signer *tracking.Signer
	Logger *slog.Logger
	// Now is the clock of the form tokens. Default time.Now.
	Now func() time.Time
	// FormTTL is how long a page's form token is accepted. Default 2 h.
	FormTTL time.Duration
}

// preferencesPage serves the preference centre: public (no login), the
// signed token in the URL is the credential, and a save must carry the
// form token the page handed out (signed, bound to the message, short
// lived), so a page elsewhere cannot post for the recipient.
type preferencesPage struct {
	PreferencesDeps
	pages map[string]*template.Template // by language
	msgs  map[string]catalogue
}

// PreferenceRoutes registers GET and POST /t/p/{token} on public.
func PreferenceRoutes(public *echo.Echo, deps PreferencesDeps) error {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.FormTTL <= 0 {
		deps.FormTTL = 2 * time.Hour
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	p := &preferencesPage{PreferencesDeps: deps, pages: map[string]*template.Template{}, msgs: map[string]catalogue{}}
	for _, lang := range []string{"en", "fa"} {
		msg, err := loadCatalogue(lang)
		if err != nil {
			return err
		}
		t, err := template.New("public").Funcs(template.FuncMap{"t": func(id string) string { return msg.T(id) }}).
			ParseFS(assets, "templates/public/*.html")
		if err != nil {
			return fmt.Errorf("preference pages: %w", err)
		}
		p.pages[lang], p.msgs[lang] = t, msg
	}
	public.GET("/t/p/:token", p.show)
	public.POST("/t/p/:token", p.save)
	return nil
}

// prefsData is what the preference page template receives.
type prefsData struct {
	Lang, Dir string
	View      preferences.View
	Form      string
	Saved     bool
	Error     string
}

func dirOf(lang string) string {
	if lang == "fa" {
		return "rtl"
	}
	return "ltr"
}

func (p *preferencesPage) delivery(c echo.Context) (int64, bool) {
	t, err := p.Signer.Verify(c.Param("token"))
	if err != nil || t.Kind != tracking.KindPreferences {
		return 0, false
	}
	return t.DeliveryID, true
}

func (p *preferencesPage) show(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	id, ok := p.delivery(c)
	if !ok {
		return p.notFound(c)
	}
	v, err := preferences.Load(c.Request().Context(), p.Pool, id)
	if errs.Is(err, errs.NotFound) {
		return p.notFound(c)
	}
	if err != nil {
		return p.failed(c, err)
	}
	return p.render(c, http.StatusOK, v, false, "")
}

func (p *preferencesPage) save(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	id, ok := p.delivery(c)
	if !ok {
		return p.notFound(c)
	}
	ctx := c.Request().Context()
	v, err := preferences.Load(ctx, p.Pool, id)
	if errs.Is(err, errs.NotFound) {
		return p.notFound(c)
	}
	if err != nil {
		return p.failed(c, err)
	}
	msg := p.msgs[v.Language]
	if !p.Signer.VerifyPreferencesForm(c.FormValue("_form"), id, p.Now()) {
		return p.render(c, http.StatusBadRequest, v, false, msg.T("prefs.expired"))
	}
	form, err := c.FormParams()
	if err != nil {
		return p.render(c, http.StatusBadRequest, v, false, msg.T("prefs.invalid"))
	}
	ch := preferences.Change{Name: strings.TrimSpace(form.Get("name")), UnsubscribeAll: form.Get("unsubscribe_all") != ""}
	for _, s := range form["topic"] {
		t, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return p.render(c, http.StatusBadRequest, v, false, msg.T("prefs.invalid"))
		}
		ch.Topics = append(ch.Topics, t)
	}
	src := topics.Source{Kind: topics.SourcePreferences, IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
		Detail: map[string]any{"campaign_id": v.CampaignID}}
	saved, err := preferences.Save(ctx, p.Pool, id, ch, src)
	if errs.Is(err, errs.Invalid) {
		v.Name = ch.Name
		return p.render(c, http.StatusUnprocessableEntity, v, false, msg.T("prefs.invalid_name"))
	}
	if err != nil {
		return p.failed(c, err)
	}
	return p.render(c, http.StatusOK, saved, true, "")
}

func (p *preferencesPage) render(c echo.Context, code int, v preferences.View, saved bool, problem string) error {
	lang := v.Language
	if p.pages[lang] == nil {
		lang = "en"
	}
	d := prefsData{Lang: lang, Dir: dirOf(lang), View: v, Saved: saved, Error: problem,
		Form: p.Signer.PreferencesFormToken(v.DeliveryID, p.Now().Add(p.FormTTL))}
	var b bytes.Buffer
	if err := p.pages[lang].ExecuteTemplate(&b, "preferences.html", d); err != nil {
		return p.failed(c, err)
	}
	return c.HTMLBlob(code, b.Bytes())
}

// notFound is the page of a link that is not valid: forged, truncated or
// for a message or person no longer held. Its language is unknown, so it
// speaks English and Persian.
func (p *preferencesPage) notFound(c echo.Context) error {
	return p.message(c, http.StatusNotFound, "prefs.not_found_title", "prefs.not_found")
}

func (p *preferencesPage) failed(c echo.Context, err error) error {
	p.Logger.ErrorContext(c.Request().Context(), "preference centre", slog.Any("error", err))
	c.Response().Header().Set("Retry-After", "30")
	return p.message(c, http.StatusServiceUnavailable, "prefs.failed_title", "prefs.failed")
}

func (p *preferencesPage) message(c echo.Context, code int, title, text string) error {
	en, fa := p.msgs["en"], p.msgs["fa"]
	d := map[string]string{"Lang": "en", "Dir": "ltr", "Title": en.T(title), "Text": en.T(text),
		"Alt": fa.T(text), "AltLang": "fa", "AltDir": "rtl"}
	var b bytes.Buffer
	if err := p.pages["en"].ExecuteTemplate(&b, "message.html", d); err != nil {
		return err
	}
	return c.HTMLBlob(code, b.Bytes())
}
