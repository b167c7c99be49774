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
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/campaigns/segments"
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
	// Forms serves the signup forms' URLs, snippets and previews on the
	// Forms pages (nil: those parts are left out).
	Forms *forms.Service
	// Reads routes reads that may lag to a replica when one is close
	// enough; nil reads Pool. (Campaign reports go through Campaigns.)
	Reads campaigns.Reads
}

// UI serves the admin pages.
type UI struct {
	Deps
	langs map[string]*language // by language tag: en, fa…
	// segmentCounts caches the segment list's counts (bounded cost).
	segmentCounts segments.Counts
	// dash keeps the dashboard's whole-table numbers (dashboardTTL).
	dash dashCache
}

// language is one message catalogue and the pages rendered with it, parsed
// once per time zone that users have chosen (the formatting funcs are bound
// to the language and the zone; see locale).
type language struct {
	tag    string
	msg    catalogue
	mu     sync.Mutex
	byZone map[string]map[string]*template.Template
}

// pagesIn returns the language's pages formatting times in loc, parsing
// them the first time that zone is asked for.
func (l *language) pagesIn(loc *time.Location) (map[string]*template.Template, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.byZone[loc.String()]; ok {
		return p, nil
	}
	p, err := parsePages(l.msg, newLocale(l.tag, loc))
	if err != nil {
		return nil, err
	}
	if len(l.byZone) < maxCachedZones {
		l.byZone[loc.String()] = p
	}
	return p, nil
}

// maxCachedZones bounds the parsed page sets kept per language (a few MB
// each): a team uses a handful of zones; a zone beyond the bound is still
// served, parsed for its request.
const maxCachedZones = 24

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
		l := &language{tag: tag, msg: msg, byZone: map[string]map[string]*template.Template{}}
		if _, err := l.pagesIn(time.UTC); err != nil {
			return err
		}
		u.langs[tag] = l
	}
	if u.langs[deps.Lang] == nil {
		return fmt.Errorf("web: no message catalogue for language %q", deps.Lang)
	}
	if deps.Auth != nil {
		deps.Auth.OnPageForbidden(func(c echo.Context, _ string) error {
			id, _ := auth.FromContext(c)
			path := c.Path()
			if path == "" {
				path = c.Request().URL.Path
			}
			need := auth.NeededRole(c.Request().Method, path)
			return u.render(c, http.StatusForbidden, "error", pageData{Title: u.t(c, "error.forbidden_title"),
				Data: u.t(c, "error.forbidden", u.t(c, "role."+string(id.Role)), u.t(c, "role."+string(need)))})
		})
	}
	u.dashboardRoutes(admin) // /admin lands on the dashboard; the campaign list is /admin/campaigns
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
	u.lifecycleRoutes(admin)
	u.accountZoneRoutes(admin)
	u.liveReportRoutes(admin)
	u.topicRoutes(admin)
	u.wordsRoutes(admin)
	u.formRoutes(admin)
	u.abTestRoutes(admin)
	u.notFoundRoute(admin) // last: it answers what no route above does
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

// zone is the signed-in user's time zone (UTC when none is chosen or
// nobody is signed in). It is looked up once per request.
func (u *UI) zone(c echo.Context) *time.Location {
	if loc, ok := c.Get(zoneKey).(*time.Location); ok {
		return loc
	}
	loc := time.UTC
	if id, ok := auth.FromContext(c); ok && id.UserID != 0 && !id.ViaToken() && u.Pool != nil {
		name, err := auth.Timezone(c.Request().Context(), u.Pool, id.UserID)
		if err != nil {
			u.Logger.WarnContext(c.Request().Context(), "user time zone", slog.Any("error", err))
		} else if name != "" {
			if l, err := auth.LoadZone(name); err == nil {
				loc = l
			}
		}
	}
	c.Set(zoneKey, loc)
	return loc
}

const zoneKey = "peykar.zone"

// locale is the request's formatter: its language and the user's zone.
func (u *UI) locale(c echo.Context) locale { return newLocale(u.lang(c).tag, u.zone(c)) }

// pages are the request's page templates (its language, the user's zone).
func (u *UI) pages(c echo.Context) (map[string]*template.Template, error) {
	return u.lang(c).pagesIn(u.zone(c))
}

// t is message id in the request's language.
func (u *UI) t(c echo.Context, id string, args ...any) string {
	return u.lang(c).msg.TL(u.locale(c), id, args...)
}

// pageErr shows a domain error (not found, conflict, invalid…) as an HTML
// page with its status; other errors go to the API error handler (500).
func (u *UI) pageErr(c echo.Context, err error) error {
	var de *errs.Error
	if !errors.As(err, &de) {
		return err
	}
	msg := de.Message
	if de.Code == errs.NotFound {
		msg = u.t(c, "error.not_found") // the domain's words are English and name ids
	}
	return u.render(c, httpapi.Status(de.Code), "error", pageData{Title: u.t(c, "error.title"), Data: msg})
}
