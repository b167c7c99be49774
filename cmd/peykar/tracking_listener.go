package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/tracking"
)

// The tracking listener (PEYKAR_TRACKING_ADDR, issue 22): net/http's own
// work is the largest part of peykar's CPU per click (≈ 22 of ≈ 67 µs in
// the profiles; a trivial 302 server spends 30–34 µs of CPU per request on
// net/http against 15 on fasthttp under the same load), so a second
// listener answers the click and the open pixel with fasthttp, through the
// same tracking.Service.Click and Open as the Echo routes, and hands every
// other request to the main listener's handler (fasthttpadaptor): the
// unsubscribe pages, the preference centre and the rest keep working under
// the tracking base URL. What Echo's middleware does for these two routes
// is done here alike: the same request metrics series, the security and
// cache headers, recovery from panics, an access line with a request id
// for an answer of 500 or more.
type trackingServer struct {
	svc     *tracking.Service
	all     fasthttp.RequestHandler // everything but the click and the pixel
	metrics *httpapi.RequestMetrics
	logger  *slog.Logger
	// ctx is the tracking requests' context: it is not cancelled when the
	// server shuts down (as net/http's requests' are not), so a click
	// being answered during a graceful shutdown is still recorded.
	ctx context.Context
	// clientIP is the client's address by the main listener's rule
	// (ipExtractor).
	clientIP func(*fasthttp.RequestCtx) netip.Addr
	// headers are the security headers of the click's and the pixel's
	// answers (SecurityHeaders' rule for their paths).
	clickHeaders, openHeaders []httpapi.Header
	internalError             []byte
}

// Limits of the tracking listener. The main listener's net/http server
// reads headers for at most 10 s and keeps idle connections 2 minutes.
// fasthttp reads a whole request (headers and body) within ReadTimeout and
// its headers must fit its read buffer; its bodies are read into memory
// before the handler, so they are capped as Echo's body limit caps them.
const (
	trackingReadTimeout = 10 * time.Second
	trackingIdleTimeout = 2 * time.Minute
	trackingMaxHeader   = 16 << 10 // browsers' cookies and a long User-Agent fit
	trackingMaxBody     = 2 << 20  // httpapi.DefaultBodyLimit
)

// startTrackingListener serves the tracking listener on
// m.Config.TrackingAddr, all being the main listener's handler, and adds
// its graceful shutdown to the closers.
func (m *Main) startTrackingListener(ctx context.Context, all http.Handler) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", m.Config.TrackingAddr)
	if err != nil {
		return &ConfigError{"PEYKAR_TRACKING_ADDR", fmt.Sprintf("cannot listen on %s: %v", m.Config.TrackingAddr, err)}
	}
	sec := m.securityHeaders()
	ts := &trackingServer{
		svc:           m.tracking,
		all:           fasthttpadaptor.NewFastHTTPHandler(ownedRequest(all)),
		metrics:       m.requestMetrics,
		logger:        m.Logger,
		ctx:           context.WithoutCancel(ctx),
		clientIP:      fastClientIP(m.Config.proxies, m.echo.IPExtractor),
		clickHeaders:  sec.For("/t/c/x"),
		openHeaders:   sec.For("/t/o/x"),
		internalError: httpapi.InternalErrorBody(),
	}
	srv := &fasthttp.Server{
		Handler:               ts.serve,
		ReadTimeout:           trackingReadTimeout,
		IdleTimeout:           trackingIdleTimeout,
		ReadBufferSize:        trackingMaxHeader,
		MaxRequestBodySize:    trackingMaxBody,
		NoDefaultServerHeader: true, // as net/http: no Server header
		NoDefaultContentType:  true, // a redirect has none, as net/http's
		CloseOnShutdown:       true,
		// Echo parses multipart bodies itself, from the raw body.
		DisablePreParseMultipartForm: true,
		Logger:                       fasthttpLogger{m.Logger},
	}
	m.trackingLn = ln
	go func() {
		if err := srv.Serve(ln); err != nil {
			m.Logger.Error("tracking listener stopped", slog.Any("error", err))
		}
	}()
	m.closers = append(m.closers, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return srv.ShutdownWithContext(ctx)
	})
	m.Logger.InfoContext(ctx, "serving clicks and opens with fasthttp", slog.String("addr", ln.Addr().String()))
	return nil
}

// TrackingURL is the tracking listener's address ("" when it is off).
func (m *Main) TrackingURL() string {
	if m.trackingLn == nil {
		return ""
	}
	return "http://" + m.trackingLn.Addr().String()
}

// serve answers a GET of the click or the pixel (tracking.MatchHot on the
// path as sent) and hands every other request to the main handler; so does
// a parameter with a %-escape, which Echo's router reads its own way.
func (ts *trackingServer) serve(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		ts.all(ctx)
		return
	}
	route, param, ok := tracking.MatchHot(string(ctx.Request.URI().PathOriginal()))
	if !ok || strings.IndexByte(param, '%') >= 0 {
		ts.all(ctx)
		return
	}
	start := time.Now()
	a := ts.answer(ctx, route, param)
	elapsed := time.Since(start)
	hs := ts.clickHeaders
	if route == tracking.OpenRoute {
		hs = ts.openHeaders
	}
	h := &ctx.Response.Header
	for _, kv := range hs {
		h.Set(kv.Key, kv.Value)
	}
	if a.NoCache {
		h.Set("Cache-Control", tracking.PixelCacheControl)
		h.Set("Pragma", "no-cache")
	}
	ctx.SetStatusCode(a.Status)
	if a.Location != "" {
		h.Set("Location", a.Location)
	} else {
		h.SetContentType(a.ContentType)
		ctx.SetBody(a.Body)
	}
	if a.Status >= http.StatusInternalServerError {
		// As Echo's access log does for a tracking route: a failure is
		// logged by route (its URL holds a token), with the request id
		// the answer carries.
		id := string(ctx.Request.Header.Peek(echo.HeaderXRequestID))
		if id == "" {
			id = httpapi.NewRequestID()
		}
		h.Set(echo.HeaderXRequestID, id)
		httpapi.LogRequest(ts.ctx, ts.logger, http.MethodGet, route, a.Status, elapsed, ts.clientIP(ctx).String(), id)
	}
	ts.metrics.Observe(a.Status, http.MethodGet, string(ctx.Host()), route, elapsed, requestSize(ctx), len(a.Body))
}

// answer is tracking's answer to the request, or a 500 if it panicked
// (logged with its stack, as Echo's Recover logs it). Every string handed
// to tracking is a copy: fasthttp reuses the request's buffers once the
// handler returns, and tracking keeps some (tracking.Hit).
func (ts *trackingServer) answer(ctx *fasthttp.RequestCtx, route, param string) (a tracking.Answer) {
	defer func() {
		if r := recover(); r != nil {
			err, ok := r.(error)
			if !ok {
				err = fmt.Errorf("%v", r)
			}
			stack := make([]byte, 4<<10)
			stack = stack[:runtime.Stack(stack, false)]
			ts.logger.ErrorContext(ts.ctx, "panic in handler", slog.Any("error", err), slog.String("stack", string(stack)))
			a = tracking.Answer{Status: http.StatusInternalServerError, ContentType: echo.MIMEApplicationJSON, Body: ts.internalError}
		}
	}()
	h := tracking.Hit{Param: param, UserAgent: string(ctx.UserAgent()), IP: ts.clientIP(ctx)}
	if route == tracking.ClickRoute {
		return ts.svc.Click(ts.ctx, h)
	}
	return ts.svc.Open(ts.ctx, h)
}

// fastClientIP is ipExtractor's rule for a fasthttp request: the TCP peer,
// or behind the trusted proxies the X-Forwarded-For entry extract (the
// main listener's IPExtractor) picks, asked through a request holding only
// what it reads.
func fastClientIP(proxies []*net.IPNet, extract echo.IPExtractor) func(*fasthttp.RequestCtx) netip.Addr {
	peer := func(ctx *fasthttp.RequestCtx) netip.Addr {
		if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
			return a.AddrPort().Addr().Unmap()
		}
		return netip.Addr{}
	}
	if len(proxies) == 0 {
		return peer
	}
	return func(ctx *fasthttp.RequestCtx) netip.Addr {
		xffs := ctx.Request.Header.PeekAll(echo.HeaderXForwardedFor)
		if len(xffs) == 0 {
			return peer(ctx)
		}
		r := &http.Request{RemoteAddr: ctx.RemoteAddr().String(), Header: make(http.Header, 1)}
		for _, v := range xffs {
			r.Header.Add(echo.HeaderXForwardedFor, string(v))
		}
		ip, err := netip.ParseAddr(extract(r))
		if err != nil {
			return netip.Addr{}
		}
		return ip.Unmap()
	}
}

// requestSize is httpapi's approximate request size of a fasthttp request:
// the path, method and protocol, the headers' names and values, the host
// and the declared body length.
func requestSize(ctx *fasthttp.RequestCtx) int {
	h := &ctx.Request.Header
	s := len(ctx.Request.URI().Path()) + len(h.Method()) + len(h.Protocol())
	for k, v := range h.All() {
		if string(k) != fasthttp.HeaderHost {
			s += len(k) + len(v)
		}
	}
	s += len(h.Host())
	if n := h.ContentLength(); n > 0 {
		s += n
	}
	return s
}

// ownedRequest hands h a request whose strings are its own.
// fasthttpadaptor's request is made of views of fasthttp's buffers (its
// method, host, URI, URL, header names and values), which fasthttp reuses
// for the next request once the handler returns, and Peykar keeps some of
// them past the request: the request metrics' series by method and host
// (a HEAD's series turned into "GETT" in this branch's first test run),
// tracking's user-agent cache, the login limiter's client addresses.
func ownedRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := *r // the body reader and context are kept: read during the request only
		o.Method, o.Proto, o.Host, o.RequestURI = strings.Clone(r.Method), strings.Clone(r.Proto), strings.Clone(r.Host), strings.Clone(r.RequestURI)
		if r.URL != nil {
			u := *r.URL
			u.Scheme, u.Opaque, u.Host = strings.Clone(u.Scheme), strings.Clone(u.Opaque), strings.Clone(u.Host)
			u.Path, u.RawPath, u.RawQuery = strings.Clone(u.Path), strings.Clone(u.RawPath), strings.Clone(u.RawQuery)
			u.Fragment, u.RawFragment = strings.Clone(u.Fragment), strings.Clone(u.RawFragment)
			if u.User != nil {
				if pw, ok := u.User.Password(); ok {
					u.User = url.UserPassword(strings.Clone(u.User.Username()), strings.Clone(pw))
				} else {
					u.User = url.User(strings.Clone(u.User.Username()))
				}
			}
			o.URL = &u
		}
		o.Header, o.Trailer = cloneHeader(r.Header), cloneHeader(r.Trailer)
		if r.TransferEncoding != nil {
			o.TransferEncoding = make([]string, len(r.TransferEncoding))
			for i, v := range r.TransferEncoding {
				o.TransferEncoding[i] = strings.Clone(v)
			}
		}
		h.ServeHTTP(w, &o)
	})
}

// cloneHeader is a copy of h whose names and values are copies.
func cloneHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	c := make(http.Header, len(h))
	for k, vs := range h {
		cvs := make([]string, len(vs))
		for i, v := range vs {
			cvs[i] = strings.Clone(v)
		}
		c[strings.Clone(k)] = cvs
	}
	return c
}

// fasthttpLogger writes fasthttp's own messages (connection errors) as
// warnings, as the main server's ErrorLog does.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn("tracking listener: " + fmt.Sprintf(format, args...))
}
