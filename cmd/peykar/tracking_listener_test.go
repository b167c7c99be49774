package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/peykar/peykar/internal/httpapi"
)

// trackingDelivery seeds a sent delivery of a running campaign with one
// link and returns the campaign and the delivery.
func trackingDelivery(t *testing.T, m *Main, email string) (campaign, delivery int64) {
	t.Helper()
	ctx := context.Background()
	var contact int64
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ($1) RETURNING id`, email).Scan(&contact))
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('Fast', 'running', '{"utm":{"source":"peykar"}}') RETURNING id`).Scan(&campaign))
	_, err := m.pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/fast', '')`, campaign)
	require.NoError(t, err)
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'main', $2, 'sent', now()) RETURNING id`, campaign, contact).Scan(&delivery))
	return campaign, delivery
}

// send sends method base+path with the headers kv (name, value, …) and
// returns the response with its body read; redirects are not followed.
func send(t *testing.T, method, url string, kv ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// The tracking listener (PEYKAR_TRACKING_ADDR) answers every request as
// the main listener does: the click and the pixel natively (fasthttp),
// everything else through the main handler. Each click and open it
// answers is stored and counted, and counted in the same request metrics.
func TestTrackingListenerAnswersLikeTheMainListener(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_TRACKING_ADDR", "127.0.0.1:0")
	require.NotEmpty(t, m.TrackingURL())
	require.NotEqual(t, m.URL(), m.TrackingURL())
	ctx := context.Background()
	campaign, delivery := trackingDelivery(t, m, "fast@example.com")
	click := m.signer.ClickURL("", delivery, 0, "")
	open := m.signer.OpenURL("", delivery)
	unsub := m.signer.UnsubscribeURL("", delivery)

	cases := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, click, http.StatusFound},
		{http.MethodGet, open, http.StatusOK},
		{http.MethodGet, strings.TrimSuffix(open, ".gif"), http.StatusOK},
		{http.MethodGet, click + "?utm_source=x", http.StatusFound},
		{http.MethodGet, "/t/c/forged", http.StatusNotFound},
		{http.MethodGet, "/t/o/forged.gif", http.StatusNotFound},
		{http.MethodGet, "/t/c/%41bc", http.StatusNotFound}, // through the main handler
		{http.MethodGet, "/t/c/", http.StatusNotFound},
		{http.MethodGet, "/t/c/a/b", http.StatusNotFound},
		{http.MethodHead, click, 0},
		{http.MethodPost, click, 0},
		{http.MethodGet, unsub, http.StatusOK}, // the unsubscribe page, through the adaptor
		{http.MethodGet, "/t/u/forged", http.StatusNotFound},
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/admin/login", http.StatusOK},
	}
	headers := []string{"Location", "Content-Type", "Cache-Control", "Pragma", "X-Content-Type-Options",
		"Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security", "Content-Length"}
	for _, tc := range cases {
		name := tc.method + " " + tc.path
		want, wantBody := send(t, tc.method, m.URL()+tc.path)
		got, gotBody := send(t, tc.method, m.TrackingURL()+tc.path)
		if tc.status != 0 {
			require.Equal(t, tc.status, got.StatusCode, name)
		}
		require.Equal(t, want.StatusCode, got.StatusCode, name)
		if tc.path != "/admin/login" { // its CSRF token differs
			require.Equal(t, wantBody, gotBody, name)
		}
		for _, h := range headers {
			require.Equal(t, want.Header.Values(h), got.Header.Values(h), "%s: %s", name, h)
		}
		require.Equal(t, want.Header.Get("X-Request-Id") != "", got.Header.Get("X-Request-Id") != "", name)
		require.Empty(t, got.Header.Get("Server"), name)
	}
	resp, _ := send(t, http.MethodGet, m.TrackingURL()+click)
	require.Equal(t, "https://shop.example/fast?utm_source=peykar", resp.Header.Get("Location"))

	// Each listener answered 2 clicks and 2 opens that were recorded (HEAD
	// and POST of a click are not: 405 on both), the tracking listener one
	// click more just above: every 302 and 200 is an event, and each is
	// counted once folded.
	var clicks, opens int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE type = 'click'), count(*) FILTER (WHERE type = 'open') FROM events WHERE delivery_id = $1`, delivery).Scan(&clicks, &opens))
	require.Equal(t, int64(2*2+1), clicks, "clicks stored")
	require.Equal(t, int64(2*2), opens, "opens stored")
	require.Eventually(t, func() bool {
		var n int64
		err := m.pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollups WHERE campaign_id = $1 AND metric = 'clicks'`, campaign).Scan(&n)
		return err == nil && n == clicks
	}, time.Minute, 20*time.Millisecond, "every stored click is counted")

	// One series per route and code, fed by both listeners with their own
	// host label.
	_, metrics := get(t, m.TrackingURL()+"/metrics")
	host := strings.TrimPrefix(m.TrackingURL(), "http://")
	for _, want := range []string{
		fmt.Sprintf(`peykar_http_requests_total{code="302",host=%q,method="GET",url="/t/c/:token"} 3`, host),
		fmt.Sprintf(`peykar_http_requests_total{code="200",host=%q,method="GET",url="/t/o/:file"} 2`, host),
		fmt.Sprintf(`peykar_http_requests_total{code="404",host=%q,method="GET",url="/t/c/:token"} 3`, host), // forged, %41bc, and "/t/c/" (Echo's empty token)
		fmt.Sprintf(`peykar_http_requests_total{code="200",host=%q,method="GET",url="/t/u/:token"} 1`, host),
		fmt.Sprintf(`peykar_http_request_duration_seconds_count{code="302",host=%q,method="GET",url="/t/c/:token"} 3`, host),
		fmt.Sprintf(`peykar_http_requests_total{code="405",host=%q,method="HEAD",url="/t/c/:token"} 1`, host),
		fmt.Sprintf(`peykar_http_response_size_bytes_sum{code="200",host=%q,method="GET",url="/t/o/:file"} %d`, host, 2*43),
	} {
		require.True(t, strings.Contains(metrics, want), "/metrics lacks %s", want)
	}
}

// Behind a trusted proxy the tracking listener takes the client's address
// from X-Forwarded-For by the main listener's rule; from anyone else it
// is the TCP peer.
func TestTrackingListenerClientAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct{ proxies, want string }{
		{"127.0.0.1/32", "203.0.113.7"},
		{"", "127.0.0.1"},
		{"10.0.0.0/8", "127.0.0.1"},
	} {
		m := testMain(t, "PEYKAR_TRACKING_ADDR", "127.0.0.1:0", "PEYKAR_TRUSTED_PROXIES", tc.proxies)
		_, delivery := trackingDelivery(t, m, "proxy@example.com")
		resp, _ := send(t, http.MethodGet, m.TrackingURL()+m.signer.ClickURL("", delivery, 0, ""),
			"X-Forwarded-For", "203.0.113.7, 127.0.0.1", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
		require.Equal(t, http.StatusFound, resp.StatusCode)
		var ip, ua string
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT host(ip), user_agent FROM events WHERE delivery_id = $1`, delivery).Scan(&ip, &ua))
		require.Equal(t, tc.want, ip, "proxies %q", tc.proxies)
		require.Equal(t, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", ua)
	}
}

// A click whose event cannot be written (the writer is stopped, as when
// PostgreSQL cannot be reached) is answered as on the main listener: a 503
// page with a request id when its destination is not remembered.
func TestTrackingListenerUnavailable(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_TRACKING_ADDR", "127.0.0.1:0")
	_, delivery := trackingDelivery(t, m, "down@example.com")
	require.NoError(t, m.tracking.Close(context.Background()))
	click := m.signer.ClickURL("", delivery, 0, "")
	want, wantBody := send(t, http.MethodGet, m.URL()+click)
	got, gotBody := send(t, http.MethodGet, m.TrackingURL()+click)
	require.Equal(t, http.StatusServiceUnavailable, want.StatusCode)
	require.Equal(t, want.StatusCode, got.StatusCode)
	require.Equal(t, wantBody, gotBody)
	require.Equal(t, want.Header.Get("Content-Type"), got.Header.Get("Content-Type"))
	require.NotEmpty(t, got.Header.Get("X-Request-Id"))
	_, metrics := get(t, m.URL()+"/metrics")
	want503 := fmt.Sprintf(`peykar_http_requests_total{code="503",host=%q,method="GET",url="/t/c/:token"} 1`, strings.TrimPrefix(m.TrackingURL(), "http://"))
	require.True(t, strings.Contains(metrics, want503), "/metrics lacks %s", want503)
}

// A panic in the tracking listener's handler is a logged 500 with a
// request id, its access line naming the route, not the URL.
func TestTrackingListenerPanic(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	reg := prometheus.NewRegistry()
	ts := &trackingServer{
		svc:           nil, // every hot request panics
		all:           func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(http.StatusTeapot) },
		metrics:       httpapi.NewRequestMetrics(reg),
		logger:        logger,
		ctx:           context.Background(),
		clientIP:      fastClientIP(nil, nil),
		internalError: httpapi.InternalErrorBody(),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &fasthttp.Server{Handler: ts.serve, NoDefaultServerHeader: true, NoDefaultContentType: true}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { require.NoError(t, srv.Shutdown()) })
	base := "http://" + ln.Addr().String()

	resp, body := send(t, http.MethodGet, base+"/t/c/anything", "X-Request-Id", "req-42")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Equal(t, string(httpapi.InternalErrorBody()), body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "req-42", resp.Header.Get("X-Request-Id"))
	require.Contains(t, logs.String(), "panic in handler")
	require.Contains(t, logs.String(), "request_id=req-42")
	require.Contains(t, logs.String(), "uri=/t/c/:token")
	require.NotContains(t, logs.String(), "anything", "a tracking URL is logged by its route")

	resp, _ = send(t, http.MethodGet, base+"/t/u/x")
	require.Equal(t, http.StatusTeapot, resp.StatusCode, "everything else goes to the main handler")
}

// syncBuffer is a log written by the server's goroutines and read by the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
