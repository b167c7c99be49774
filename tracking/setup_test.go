package tracking

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// bundle is a running tracking service over a fresh database.
type bundle struct {
	pool   *pgxpool.Pool
	svc    *Service
	signer *Signer
	url    string
	client *http.Client
}

func setup(t *testing.T, mods ...func(*Config)) *bundle {
	t.Helper()
	return setupPool(t, pgtest.NewPool(t), mods...)
}

func setupPool(t *testing.T, pool *pgxpool.Pool, mods ...func(*Config)) *bundle {
	t.Helper()
	signer := testSigner()
	cfg := Config{Pool: pool, Signer: signer, Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil)), BatchWait: time.Millisecond}
	for _, m := range mods {
		m(&cfg)
	}
	svc, err := NewService(cfg)
	require.NoError(t, err)
	require.NoError(t, svc.Start(context.Background()))
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(cfg.Logger)
	e.IPExtractor = echo.ExtractIPDirect()
	svc.Routes(e, e.Group("/api/v1"))
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, svc.Close(context.Background()))
	})
	return &bundle{pool: pool, svc: svc, signer: signer, url: srv.URL, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// campaign inserts a campaign with links on step "main" and returns its id.
func (b *bundle) campaign(t *testing.T, rules, settings string, links ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, rules, settings) VALUES ('c', 'running', $1, $2) RETURNING id`,
		rules, settings).Scan(&id))
	for i, u := range links {
		_, err := b.pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url) VALUES ($1, 'main', $2, $3)`, id, i, u)
		require.NoError(t, err)
	}
	return id
}

// delivery inserts a contact and a delivery sent at sentAt.
func (b *bundle) delivery(t *testing.T, campaignID int64, sentAt time.Time) (deliveryID, contactID int64) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ($1) RETURNING id`,
		fmt.Sprintf("p%d-%d@example.com", campaignID, time.Now().UnixNano())).Scan(&contactID))
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) VALUES ($1, 'main', $2, 'sent', $3) RETURNING id`,
		campaignID, contactID, sentAt).Scan(&deliveryID))
	return deliveryID, contactID
}

func (b *bundle) get(t *testing.T, u, ua string) (*http.Response, string) {
	t.Helper()
	return b.do(t, http.MethodGet, u, ua)
}

// do makes a request and, like a reader of the report a moment later,
// waits until the clicks and opens answered so far are folded (settle).
func (b *bundle) do(t *testing.T, method, u, ua string) (*http.Response, string) {
	t.Helper()
	defer b.settle(t)
	return b.doNow(t, method, u, ua)
}

// doNow makes a request without waiting for the follower.
func (b *bundle) doNow(t *testing.T, method, u, ua string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	res, err := b.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// rollup sums a metric of a campaign (link -1 unless given) by machine flag.
func (b *bundle) rollup(t *testing.T, campaignID int64, metric string, machine bool) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT coalesce(sum(count), 0) FROM rollups
		WHERE campaign_id = $1 AND metric = $2 AND machine = $3`, campaignID, metric, machine).Scan(&n))
	return n
}

func (b *bundle) count(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.pool.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

// testClock is a clock tests move by hand (Config.Now = c.Now), so what
// depends on time between two requests does not depend on the machine.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(start time.Time) *testClock { return &testClock{now: start} }

// Now is the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// settle waits until every click and open the service answered is folded
// into events and the reports (Service.Settle, which polls with a
// deadline: never a sleep).
func (b *bundle) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.svc.Settle(ctx))
}
