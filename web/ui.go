package web

import (
	"errors"
	"html/template"
	"log/slog"

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
}

// UI serves the admin pages.
type UI struct {
	Deps
	msg   catalogue
	pages map[string]*template.Template
}

// Register mounts the pages and their assets on admin, the /admin group
// (which carries auth.Auth's Pages middleware).
func Register(admin *echo.Group, deps Deps) error {
	if deps.Lang == "" {
		deps.Lang = "en"
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	msg, err := loadCatalogue(deps.Lang)
	if err != nil {
		return err
	}
	pages, err := parsePages(msg)
	if err != nil {
		return err
	}
	u := &UI{Deps: deps, msg: msg, pages: pages}
	admin.StaticFS("/assets", Static())
	admin.GET("", func(c echo.Context) error { return redirect(c, "/admin/campaigns") })
	admin.GET("/", func(c echo.Context) error { return redirect(c, "/admin/campaigns") })
	u.authRoutes(admin)
	u.campaignFormRoutes(admin)
	u.campaignRoutes(admin)
	u.outboxRoutes(admin)
	u.adminRoutes(admin)
	u.contactRoutes(admin)
	u.segmentRoutes(admin)
	u.templateRoutes(admin)
	return nil
}

// fail renders an error page with status and a catalogue message.
func (u *UI) fail(c echo.Context, status int, msgID string) error {
	return u.render(c, status, "error", pageData{Title: u.msg.T("error.title"), Data: u.msg.T(msgID)})
}

// pageErr shows a domain error (not found, conflict, invalid…) as an HTML
// page with its status; other errors go to the API error handler (500).
func (u *UI) pageErr(c echo.Context, err error) error {
	var de *errs.Error
	if !errors.As(err, &de) {
		return err
	}
	return u.render(c, httpapi.Status(de.Code), "error", pageData{Title: u.msg.T("error.title"), Data: de.Message})
}
