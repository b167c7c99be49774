package tracking

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/topics"
)

// The open pixel's and the click's routes: by far the most frequent
// requests (HotRoutes); a server answering them without Echo labels its
// request metrics with them too.
const (
	OpenRoute  = "/t/o/:file"
	ClickRoute = "/t/c/:token"
)

// Routes registers the public tracking endpoints on public (/t/...) and the
// bounce webhook on api (/webhooks/bounce).
func (s *Service) Routes(public *echo.Echo, api *echo.Group) {
	if public != nil {
		public.GET(OpenRoute, s.open)
		public.GET(ClickRoute, s.click)
		public.GET("/t/u/:token", s.unsubscribePage)
		public.POST("/t/u/:token", s.unsubscribe)
		public.GET("/t/h/:token", s.honeypot)
	}
	if api != nil {
		api.POST("/webhooks/bounce", s.bounceWebhook)
	}
}

// HotRoutes registers the open pixel and the click alone on e, each
// handler wrapped by wrap once, for a server that answers these two apart
// from the rest (IsHot says which requests): cmd/peykar composes its
// middleware chain into wrap (httpapi.Compose), which Echo would otherwise
// compose anew for every request. Routes registers them as well, so the
// full route table still answers them alike.
func (s *Service) HotRoutes(e *echo.Echo, wrap func(echo.HandlerFunc) echo.HandlerFunc) {
	e.GET(OpenRoute, wrap(s.open))
	e.GET(ClickRoute, wrap(s.click))
}

// IsHot reports whether r is for a route HotRoutes registers: a GET of
// /t/c/ or /t/o/ and one non-empty path segment, the path as Echo's router
// reads it (the raw path when the URL has one).
func IsHot(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	_, _, ok := MatchHot(echo.GetPath(r))
	return ok
}

// MatchHot says whether the path p (as sent, not unescaped) is the click's
// or the open pixel's, and returns the route (ClickRoute or OpenRoute) and
// its one non-empty segment, the parameter.
func MatchHot(p string) (route, param string, ok bool) {
	if len(p) < len("/t/c/x") || !strings.HasPrefix(p, "/t/") || (p[3] != 'c' && p[3] != 'o') || p[4] != '/' {
		return "", "", false
	}
	if strings.IndexByte(p[5:], '/') >= 0 {
		return "", "", false
	}
	if p[3] == 'c' {
		return ClickRoute, p[5:], true
	}
	return OpenRoute, p[5:], true
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// event is the event of the request c carrying t.
func (s *Service) event(c echo.Context, typ string, t Token) Event {
	return s.newEvent(typ, t, hit(c, ""))
}

// hit is c's request as Click and Open read it, param its route parameter.
func hit(c echo.Context, param string) Hit {
	h := Hit{Param: param, UserAgent: c.Request().UserAgent()}
	if ip, err := netip.ParseAddr(c.RealIP()); err == nil {
		h.IP = ip.Unmap()
	}
	return h
}

// reply writes a on c.
func reply(c echo.Context, a Answer) error {
	if a.NoCache {
		h := c.Response().Header()
		h.Set("Cache-Control", PixelCacheControl)
		h.Set("Pragma", "no-cache")
	}
	if a.Location != "" {
		return c.Redirect(a.Status, a.Location)
	}
	return c.Blob(a.Status, a.ContentType, a.Body)
}

// classify is ClassifyAgent, remembered: user agents repeat a lot.
func (s *Service) classify(kind, ua string, ip netip.Addr) Verdict {
	k := agentKey{kind, ua, ip.Is4() && appleNet.Contains(ip.AsSlice())}
	if v, ok := s.agents.Get(k); ok {
		return v
	}
	v := ClassifyAgent(kind, ua, ip.AsSlice())
	if len(ua) <= maxUserAgent {
		s.agents.Add(k, v)
	}
	return v
}

type agentKey struct {
	kind, ua string
	apple    bool // from Apple's network: the verdict may depend on it
}

// verify returns the token in c's parameter when it is valid and of one of
// kinds.
func (s *Service) verify(raw string, kinds ...Kind) (Token, bool) {
	t, err := s.signer.Verify(raw)
	if err != nil {
		return Token{}, false
	}
	for _, k := range kinds {
		if t.Kind == k {
			return t, true
		}
	}
	return Token{}, false
}

func (s *Service) open(c echo.Context) error {
	return reply(c, s.Open(c.Request().Context(), hit(c, c.Param("file"))))
}

func status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	default:
		return http.StatusServiceUnavailable
	}
}

func (s *Service) click(c echo.Context) error {
	return reply(c, s.Click(c.Request().Context(), hit(c, c.Param("token"))))
}

// destination is u with the campaign's UTM parameters, remembered: the
// same few links are clicked over and over.
func (s *Service) destination(utm UTM, u string) string {
	k := destKey{utm, u}
	if d, ok := s.dests.Get(k); ok {
		return d
	}
	d := utm.Apply(u)
	s.dests.Add(k, d)
	return d
}

type destKey struct {
	utm UTM
	url string
}

// fallbackURL is a click's destination from memory, for when the database
// cannot be asked.
func (s *Service) fallbackURL(t Token) (string, bool) {
	meta, ok := s.metas.Get(t.DeliveryID)
	if t.Kind == KindClickURL {
		return meta.utm.Apply(t.URL), true
	}
	if !ok {
		return "", false
	}
	u, ok := s.links.stale(linkKey{meta.campaignID, meta.step}, t.LinkIdx)
	if !ok {
		return "", false
	}
	return meta.utm.Apply(u), true
}

func (s *Service) unsubscribePage(c echo.Context) error {
	if _, ok := s.verify(c.Param("token"), KindUnsubscribe); !ok {
		return page(c, http.StatusNotFound, "Link not found", "This unsubscribe link is not valid.")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, unsubscribeConfirm, nil)
}

func (s *Service) unsubscribe(c echo.Context) error {
	t, ok := s.verify(c.Param("token"), KindUnsubscribe)
	if !ok {
		return page(c, http.StatusNotFound, "Link not found", "This unsubscribe link is not valid.")
	}
	ctx := c.Request().Context()
	ev := s.event(c, TypeUnsubscribe, t)
	u, err := s.scope(ctx, t.DeliveryID)
	if errors.Is(err, ErrNotFound) {
		return page(c, http.StatusNotFound, "Link not found", "This unsubscribe link is not valid.")
	}
	src := topics.Source{Kind: topics.SourceLink, IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
		Detail: map[string]any{"delivery_id": t.DeliveryID}}
	if err == nil && len(u.topicIDs) > 0 {
		// A campaign to topics: the link leaves those topics only.
		ev.TopicsOnly = true
		err = s.unsubscribeTopics(ctx, u, src)
	}
	if err == nil {
		_, err = s.writer.submit(ctx, &ev)
	}
	if err == nil && !ev.TopicsOnly {
		err = s.recordEmailUnsubscribe(ctx, u, src)
	}
	prefs := "/t/p/" + s.signer.Encode(Token{Kind: KindPreferences, DeliveryID: t.DeliveryID})
	switch {
	case err == nil && ev.TopicsOnly:
		return render(c, http.StatusOK, pageData{Title: "You are unsubscribed", Text: "You will not receive emails about these topics any more.", Prefs: prefs}, nil)
	case err == nil:
		return render(c, http.StatusOK, pageData{Title: "You are unsubscribed", Text: "You will not receive these emails any more.", Prefs: prefs}, nil)
	case errors.Is(err, ErrNotFound):
		return page(c, http.StatusNotFound, "Link not found", "This unsubscribe link is not valid.")
	}
	s.logger.WarnContext(c.Request().Context(), "tracking: unsubscribe not recorded", slog.Int64("delivery_id", t.DeliveryID), slog.Any("error", err))
	c.Response().Header().Set("Retry-After", "30")
	return page(c, http.StatusServiceUnavailable, "Please try again", "We could not process your request just now. Please try again in a moment.")
}

func (s *Service) honeypot(c echo.Context) error {
	t, ok := s.verify(c.Param("token"), KindHoneypot)
	if !ok {
		return c.HTML(http.StatusNotFound, "")
	}
	ev := s.event(c, TypeHoneypot, t)
	_, err := s.writer.submit(c.Request().Context(), &ev)
	return c.HTML(status(err), "")
}

// The pages are small, self-contained and say nothing about internals.
var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#b3261e;color:#fff;cursor:pointer}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Form}}<form method="post"><button type="submit">Unsubscribe</button></form>{{end}}
{{if .Prefs}}<p><a id="manage-preferences" href="{{.Prefs}}">Manage your preferences</a></p>{{end}}
</body></html>
`))

type pageData struct {
	Title, Text string
	Form        bool
	Prefs       string // the preference centre's URL, linked when set
}

var unsubscribeConfirm = pageData{Title: "Unsubscribe", Text: "Do you want to stop receiving these emails?", Form: true}

func page(c echo.Context, code int, title, text string) error {
	return render(c, code, pageData{Title: title, Text: text}, nil)
}

func render(c echo.Context, code int, d pageData, _ any) error {
	var b strings.Builder
	if err := pages.Execute(&b, d); err != nil {
		return err
	}
	return c.HTML(code, b.String())
}
