package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// TestRequestMetricsMatchEchoprometheus serves the same requests (found,
// redirected, refused by the handler, failed with a domain error and with
// an HTTP error, unknown routes, two hosts) through Peykar's stack and
// through echo-contrib's echoprometheus middleware, which the stack used
// before: /metrics has the same families, help, types, labels, counts and
// size observations (durations are only counted: they differ run to run).
func TestRequestMetricsMatchEchoprometheus(t *testing.T) {
	t.Parallel()
	routes := func(e *echo.Echo) {
		e.GET("/t/c/:token", func(c echo.Context) error { return c.Redirect(http.StatusFound, "https://shop.example/") })
		e.GET("/t/o/:file", func(c echo.Context) error { return c.Blob(http.StatusNotFound, "image/gif", []byte("GIF89a")) })
		e.GET("/api/v1/thing", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]int{"n": 1}) })
		e.GET("/api/v1/missing", func(echo.Context) error { return errs.New(errs.NotFound, "no such thing") })
		e.POST("/api/v1/big", func(echo.Context) error { return echo.NewHTTPError(http.StatusRequestEntityTooLarge) })
		e.GET("/metrics", func(c echo.Context) error { return c.String(http.StatusOK, "scrape") })
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ours, theirs := prometheus.NewRegistry(), prometheus.NewRegistry()
	eo := echo.New()
	eo.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	eo.Use(httpapi.Middleware(logger, ours)...)
	routes(eo)
	et := echo.New()
	et.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	et.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{Namespace: "peykar", Subsystem: "http",
		DoNotUseRequestPathFor404: true, Registerer: theirs, Skipper: func(c echo.Context) bool { return c.Path() == "/metrics" }}))
	routes(et)

	for i := range 3 {
		for _, r := range []struct{ method, path, host string }{
			{http.MethodGet, "/t/c/abc", "a.example"}, {http.MethodGet, "/t/c/abcdef", "b.example"},
			{http.MethodGet, "/t/o/x.gif", "a.example"}, {http.MethodGet, "/api/v1/thing", "a.example"},
			{http.MethodGet, "/api/v1/missing", "a.example"}, {http.MethodPost, "/api/v1/big", "a.example"},
			{http.MethodGet, "/no/such/route", "a.example"}, {http.MethodGet, "/metrics", "a.example"},
		}[:3+i*2] {
			for _, e := range []*echo.Echo{eo, et} {
				req := httptest.NewRequest(r.method, r.path, nil)
				req.Host = r.host
				req.Header.Set("User-Agent", "test agent")
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
		}
	}
	want, got := gather(t, theirs), gather(t, ours)
	require.Len(t, want, 4)
	require.Equal(t, want, got)
}

// gather returns reg's families as text, without creation times and
// with durations reduced to their counts.
func gather(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var out []string
	for _, f := range fams {
		for _, m := range f.Metric {
			switch {
			case m.Counter != nil:
				m.Counter.CreatedTimestamp = nil
			case f.GetName() == "peykar_http_request_duration_seconds":
				m.Histogram = &dto.Histogram{SampleCount: m.Histogram.SampleCount}
			case m.Histogram != nil:
				m.Histogram.CreatedTimestamp = nil
			}
		}
		var b strings.Builder
		_, err := expfmt.MetricFamilyToText(&b, f)
		require.NoError(t, err)
		out = append(out, b.String())
	}
	return out
}
