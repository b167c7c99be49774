package tracking

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
)

// Hit is a click or an open-pixel request as a server read it: what the
// answer depends on, free of any HTTP framework, so the Echo routes and
// cmd/peykar's fasthttp tracking listener answer through the same code
// (Service.Click, Service.Open).
//
// Its strings must be the caller's own, not views of a buffer the server
// reuses after the handler returns: the service keeps some of them (the
// user agent as a classification cache key, the token's URL in the event).
type Hit struct {
	// Param is the route's parameter: the click's token, or the open's
	// file (its token, ".gif" optional).
	Param string
	// UserAgent is the request's User-Agent ("" when absent).
	UserAgent string
	// IP is the client's address by the server's trusted-proxy rule
	// (cmd/peykar's IPExtractor), IPv4 unmapped; the zero Addr when unknown.
	IP netip.Addr
}

// Answer is a tracking request's response, for the server to write.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Location, when set, is a redirect's destination (Status 302); the
	// answer has no body then.
	Location string
	// ContentType and Body are the response's body otherwise. Body is
	// shared between answers: never modify it.
	ContentType string
	Body        []byte
	// NoCache asks for PixelCacheControl and "Pragma: no-cache": the
	// pixel's headers, on every answer of the open route.
	NoCache bool
}

// PixelCacheControl is the open pixel's Cache-Control: each open is fetched
// again, not served from a cache.
const PixelCacheControl = "no-store, no-cache, must-revalidate, max-age=0"

// MIMETextHTML is the Content-Type of the tracking pages (Echo's).
const MIMETextHTML = "text/html; charset=UTF-8"

// The click's two pages that never change, rendered once: a forged or
// unknown link, and a click not recorded whose destination is unknown.
var (
	linkNotFound = Answer{Status: http.StatusNotFound, ContentType: MIMETextHTML,
		Body: mustRender(pageData{Title: "Link not found", Text: "This link is not valid."})}
	linkUnavailable = Answer{Status: http.StatusServiceUnavailable, ContentType: MIMETextHTML,
		Body: mustRender(pageData{Title: "Please try again", Text: "This link is temporarily unavailable. Please try again in a moment."})}
)

func mustRender(d pageData) []byte {
	var b strings.Builder
	if err := pages.Execute(&b, d); err != nil {
		panic(err)
	}
	return []byte(b.String())
}

// Click answers a click on h.Param's link: a 302 to the link's
// destination once its event is durable (or, not recorded, to the
// destination remembered for when the database cannot be asked), 404 for
// a forged or unknown token, 503 when the click is neither recorded nor
// its destination known.
func (s *Service) Click(ctx context.Context, h Hit) Answer {
	t, ok := s.verify(h.Param, KindClick, KindClickURL)
	if !ok {
		return linkNotFound
	}
	ev := s.newEvent(TypeClick, t, h)
	out, err := s.inbox.submit(ctx, &ev)
	switch {
	case err == nil:
		return Answer{Status: http.StatusFound, Location: s.destination(out.UTM, out.URL)}
	case errors.Is(err, ErrNotFound):
		return linkNotFound
	}
	// Not recorded: still take the reader where the campaign meant to,
	// when we know where that is.
	dest, known := s.fallbackURL(t)
	s.logger.WarnContext(ctx, "tracking: click not recorded", slog.Int64("delivery_id", t.DeliveryID),
		slog.Int("link_idx", t.LinkIdx), slog.Bool("redirected", known), slog.Any("error", err))
	if !known {
		return linkUnavailable
	}
	return Answer{Status: http.StatusFound, Location: dest}
}

// Open answers the open pixel h.Param: the pixel, 200 once the open is
// durable, 404 for a forged or unknown token, 503 when it is not recorded.
func (s *Service) Open(ctx context.Context, h Hit) Answer {
	a := Answer{ContentType: "image/gif", Body: pixel, NoCache: true}
	t, ok := s.verify(strings.TrimSuffix(h.Param, ".gif"), KindOpen)
	if !ok {
		a.Status = http.StatusNotFound
		return a
	}
	ev := s.newEvent(TypeOpen, t, h)
	_, err := s.inbox.submit(ctx, &ev)
	a.Status = status(err)
	return a
}

// newEvent is the event of a request h carrying t.
func (s *Service) newEvent(typ string, t Token, h Hit) Event {
	ev := Event{Type: typ, DeliveryID: t.DeliveryID, LinkIdx: -1, UserAgent: h.UserAgent, IP: h.IP, At: s.now()}
	if typ == TypeClick {
		ev.LinkIdx, ev.URL = t.LinkIdx, t.URL
	}
	v := s.classify(typ, ev.UserAgent, ev.IP)
	ev.Machine, ev.Reason = v.Machine, v.Reason
	return ev
}
