package web

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Deps are what the pages need.
type Deps struct {
	Pool      *pgxpool.Pool
	Auth      *auth.Auth
	Campaigns *campaigns.Service
	Logger    *slog.Logger
	// Lang is the message catalogue's language. Default "en".
	Lang string
	// BaseURL is the public URL of Peykar (PEYKAR_BASE_URL), from which
	// the absolute URLs of the images it serves to mail clients are built.
	BaseURL string
}

// UI serves the admin pages.
type UI struct {
	Deps
	langs map[string]*language // by language tag: en, fa…
}

// language is one message catalogue and the pages rendered with it.
type language struct {
	msg   catalogue
	pages map[string]*template.Template
}

// Register mounts the pages on admin, the /admin group (which carries
// auth.Auth's Pages middleware); their assets are mounted apart (Assets).
func Register(admin *echo.Group, deps Deps) error {
	if deps.Lang == "" {
		deps.Lang = "en"
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{Deps: deps, langs: map[string]*language{}}
	admin.Use(u.rejectNUL) // before any route: a group's routes take the middleware it has when they are added
	files, err := fs.Glob(assets, "i18n/*.json")
	if err != nil {
		return err
	}
	for _, f := range files {
		tag := strings.TrimSuffix(path.Base(f), ".json")
		msg, err := loadCatalogue(tag)
		if err != nil {
			return err
		}
		pages, err := parsePages(msg)
		if err != nil {
			return err
		}
		u.langs[tag] = &language{msg: msg, pages: pages}
	}
	if u.langs[deps.Lang] == nil {
		return fmt.Errorf("web: no message catalogue for language %q", deps.Lang)
	}
	if deps.Auth != nil {
		deps.Auth.OnPageForbidden(func(c echo.Context, _ string) error {
			id, _ := auth.FromContext(c)
			return u.render(c, http.StatusForbidden, "error", pageData{Title: u.t(c, "error.forbidden_title"), Data: u.t(c, "error.forbidden", u.t(c, "role."+string(id.Role)))})
		})
	}
	admin.GET("", func(c echo.Context) error { return redirect(c, "/admin/campaigns") })
	admin.GET("/", func(c echo.Context) error { return redirect(c, "/admin/campaigns") })
	u.authRoutes(admin)
	u.campaignFormRoutes(admin)
	u.campaignRoutes(admin)
	u.outboxRoutes(admin)
	u.adminRoutes(admin)
	u.contactRoutes(admin)
	u.suppressionRoutes(admin)
	u.segmentRoutes(admin)
	u.templateRoutes(admin)
	u.analyticsRoutes(admin)
	u.reportRoutes(admin)
	u.exprHelpRoutes(admin)
	u.audienceRoutes(admin)
	u.wordsRoutes(admin)
	return nil
}

// langCookie keeps the language a user picked in the header's switcher.
const langCookie = "peykar_lang"

// lang picks the request's language: the one the user picked (a cookie the
// header's switcher sets), else Accept-Language (the first language with a
// catalogue), else the default.
func (u *UI) lang(c echo.Context) *language {
	if ck, err := c.Cookie(langCookie); err == nil {
		if l, ok := u.langs[ck.Value]; ok {
			return l
		}
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag, _, _ = strings.Cut(strings.ToLower(tag), "-")
		if l, ok := u.langs[tag]; ok {
			return l
		}
	}
	return u.langs[u.Lang]
}

// t is message id in the request's language.
func (u *UI) t(c echo.Context, id string, args ...any) string { return u.lang(c).msg.T(id, args...) }

// pageErr shows a domain error (not found, conflict, invalid…) as an HTML
// page with its status; other errors go to the API error handler (500).
func (u *UI) pageErr(c echo.Context, err error) error {
	var de *errs.Error
	if !errors.As(err, &de) {
		return err
	}
	return u.render(c, httpapi.Status(de.Code), "error", pageData{Title: u.t(c, "error.title"), Data: de.Message})
}
