package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// The request metrics are those echo-contrib's echoprometheus middleware
// registers (namespace peykar, subsystem http), with the same names, help,
// labels and buckets, so dashboards keep working: it was used until its
// cost per request showed in the click benchmark (a label slice, a status
// string and four hashed label lookups per request). Here the four series
// of a (code, method, host, route) are looked up once and remembered.
const (
	metricsNamespace = "peykar"
	metricsSubsystem = "http"
)

// sizeBuckets are echoprometheus's: 1 KB to 10 MB.
var sizeBuckets = []float64{1 << 10, 2 << 10, 5 << 10, 10 << 10, 100 << 10, 500 << 10, 1 << 20, 2.5 * (1 << 20), 5 << 20, 10 << 20}

// maxRememberedSeries bounds the remembered series: the host label comes
// from the request, so a client sending many Host values must not grow
// this map without end (its series are then looked up every time).
const maxRememberedSeries = 1024

type requestSeries struct {
	count                       prometheus.Counter
	duration, reqSize, respSize prometheus.Observer
}

type seriesKey struct {
	code                int
	method, host, route string
}

type httpMetrics struct {
	count                       *prometheus.CounterVec
	duration, reqSize, respSize *prometheus.HistogramVec
	series                      sync.Map // seriesKey → *requestSeries
	remembered                  atomic.Int64
}

// RequestMetrics are the request metrics' families on one registry:
// peykar_http_requests_total, peykar_http_request_duration_seconds,
// peykar_http_request_size_bytes and peykar_http_response_size_bytes, by
// code, method, host and route ("url"; "" for a path no route matched).
// Echo's requests feed them through Middleware; a server answering some
// routes without Echo (cmd/peykar's tracking listener) through Observe,
// into the same series.
type RequestMetrics struct {
	m *httpMetrics
}

// NewRequestMetrics registers the request metrics on reg. It panics if reg
// already holds them: a wiring mistake.
func NewRequestMetrics(reg prometheus.Registerer) *RequestMetrics {
	labels := []string{"code", "method", "host", "url"}
	m := &httpMetrics{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "requests_total", Help: "How many HTTP requests processed, partitioned by status code and HTTP method."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "request_duration_seconds", Help: "The HTTP request latencies in seconds.", Buckets: prometheus.DefBuckets}, labels),
		respSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "response_size_bytes", Help: "The HTTP response sizes in bytes.", Buckets: sizeBuckets}, labels),
		reqSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "request_size_bytes", Help: "The HTTP request sizes in bytes.", Buckets: sizeBuckets}, labels),
	}
	reg.MustRegister(m.count, m.duration, m.respSize, m.reqSize)
	return &RequestMetrics{m: m}
}

// Observe counts one request answered with code, taking elapsed, of
// reqSize bytes (as approximateRequestSize counts them) and a body of
// respSize bytes, under route.
func (rm *RequestMetrics) Observe(code int, method, host, route string, elapsed time.Duration, reqSize, respSize int) {
	s := rm.m.get(seriesKey{code: code, method: method, host: host, route: route})
	s.duration.Observe(elapsed.Seconds())
	s.count.Inc()
	s.reqSize.Observe(float64(reqSize))
	s.respSize.Observe(float64(respSize))
}

// middleware counts and times every request but metrics scrapes.
func (rm *RequestMetrics) middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Path() == "/metrics" {
				return next(c)
			}
			req := c.Request()
			reqSize := approximateRequestSize(req)
			start := time.Now()
			err := next(c)
			rm.Observe(metricStatus(c, err), req.Method, req.Host, c.Path(), time.Since(start), reqSize, int(c.Response().Size))
			return err
		}
	}
}

// get returns k's series, remembered up to maxRememberedSeries.
func (m *httpMetrics) get(k seriesKey) *requestSeries {
	if s, ok := m.series.Load(k); ok {
		return s.(*requestSeries)
	}
	values := []string{strconv.Itoa(k.code), k.method, k.host, strings.ToValidUTF8(k.route, "\uFFFD")}
	s := &requestSeries{count: m.count.WithLabelValues(values...), duration: m.duration.WithLabelValues(values...),
		reqSize: m.reqSize.WithLabelValues(values...), respSize: m.respSize.WithLabelValues(values...)}
	if m.remembered.Load() < maxRememberedSeries {
		if _, loaded := m.series.LoadOrStore(k, s); !loaded {
			m.remembered.Add(1)
		}
	}
	return s
}

// metricStatus is the status a request is counted under: the response's,
// or for an error not yet answered (the access log answers it, outside
// this middleware) the HTTP error's code, and 500 for any other error.
func metricStatus(c echo.Context, err error) int {
	status := c.Response().Status
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
		}
		if status == 0 || status == http.StatusOK {
			status = http.StatusInternalServerError
		}
	}
	return status
}

// approximateRequestSize is the request line's and headers' size plus the
// declared body length.
func approximateRequestSize(r *http.Request) int {
	s := 0
	if r.URL != nil {
		s = len(r.URL.Path)
	}
	s += len(r.Method) + len(r.Proto)
	for name, values := range r.Header {
		s += len(name)
		for _, v := range values {
			s += len(v)
		}
	}
	s += len(r.Host)
	if r.ContentLength != -1 {
		s += int(r.ContentLength)
	}
	return s
}
