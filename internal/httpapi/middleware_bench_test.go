package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/internal/httpapi"
)

func benchEcho(b *testing.B, chain bool) *echo.Echo {
	e := echo.New()
	if chain {
		e.Use(httpapi.Middleware(slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())...)
		e.Use(httpapi.SecurityHeaders(httpapi.SecurityConfig{
			Rules:   []httpapi.HeaderRule{{Prefix: "/t", Headers: httpapi.Headers{CSP: "default-src 'none'", Referrer: "no-referrer"}}},
			Default: httpapi.Headers{CSP: "default-src 'self'", Referrer: "same-origin"},
		}))
	}
	e.GET("/t/c/:token", func(c echo.Context) error {
		return c.Redirect(http.StatusFound, "https://shop.example/p/1?utm_source=peykar&utm_medium=email")
	})
	return e
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchServe(b *testing.B, chain bool) { serveLoop(b, benchEcho(b, chain)) }

// serveLoop serves one tracked click through e, over and over.
func serveLoop(b *testing.B, e *echo.Echo) {
	req := httptest.NewRequest(http.MethodGet, "/t/c/AbCdEfGhIjKlMnOpQrStUvWxYz012", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

func BenchmarkTrackingRedirectBare(b *testing.B)  { benchServe(b, false) }
func BenchmarkTrackingRedirectChain(b *testing.B) { benchServe(b, true) }

// The same stack composed once, served by an Echo with no middleware of
// its own: Echo composes e.Use's middleware anew on every request.
func BenchmarkTrackingRedirectPrebuilt(b *testing.B) {
	mws := append(httpapi.Middleware(slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry()),
		httpapi.SecurityHeaders(httpapi.SecurityConfig{
			Rules:   []httpapi.HeaderRule{{Prefix: "/t", Headers: httpapi.Headers{CSP: "default-src 'none'", Referrer: "no-referrer"}}},
			Default: httpapi.Headers{CSP: "default-src 'self'", Referrer: "same-origin"},
		}))
	h := httpapi.Compose(func(c echo.Context) error {
		return c.Redirect(http.StatusFound, "https://shop.example/p/1?utm_source=peykar&utm_medium=email")
	}, mws...)
	e := echo.New()
	e.GET("/t/c/:token", h)
	serveLoop(b, e)
}
