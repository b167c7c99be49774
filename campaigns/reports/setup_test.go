package reports_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/smtptest"
	"github.com/peykar/peykar/migrations/pgtest"
	"github.com/peykar/peykar/tracking"
	"github.com/peykar/peykar/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// bundle is the engine, the tracking writer and the campaigns API (with
// the reports routes) over one fresh database.
type bundle struct {
	pool     *pgxpool.Pool
	svc      *campaigns.Service
	tracking *tracking.Service
	url      string // the API
	admin    string // the admin pages
	client   *http.Client
	rep      *reports.Handler
	eng      *engine.Engine
}

// settleSends waits until the send fold has counted every recorded send
// outcome: the report's send counters lag the deliveries by one fold.
func (b *bundle) settleSends(ctx context.Context, t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, b.eng.SettleSends(ctx))
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	logger := slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sink, err := smtptest.Start(smtptest.Options{Discard: true, Reject: func(rcpt string) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "refused") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	smtpOut, err := mailer.New(mailer.Config{Host: "127.0.0.1", Port: sink.Port(), TLS: mailer.TLSNone, Pool: 4}, baseservice.New(logger, nil))
	require.NoError(t, err)
	t.Cleanup(smtpOut.Close)
	signer := tracking.NewSigner(tracking.Keys{Current: []byte("test-secret-test-secret-test-secret")})
	eng := engine.New(engine.Config{Pool: pool, Mailer: smtpOut, Signer: signer, BaseURL: "https://peykar.test", Logger: logger})
	workers := river.NewWorkers()
	eng.Register(workers)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: engine.QueueConfig(4), Workers: workers, Logger: logger,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, TestOnly: true,
	})
	require.NoError(t, err)
	eng.SetClient(client)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	tr, err := tracking.NewService(tracking.Config{Pool: pool, Signer: signer, Logger: logger, BatchWait: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, tr.Start(ctx))
	t.Cleanup(func() { _ = tr.Close(context.Background()) })

	svc := &campaigns.Service{Pool: pool, Runtime: eng, Logger: logger}
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	api := e.Group("/api/v1")
	svc.Routes(api)
	rep, err := reports.New(reports.Config{Pool: pool, Logger: logger, Report: svc.Report})
	require.NoError(t, err)
	rep.Routes(api)
	// The admin pages that show reports (the live report, the comparison),
	// without login: these tests are about what the pages show.
	require.NoError(t, web.Register(e.Group("/admin"), web.Deps{Pool: pool, Campaigns: svc, Logger: logger}))
	web.Assets(e.Group("/admin/assets"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &bundle{pool: pool, svc: svc, tracking: tr, url: srv.URL + "/api/v1", admin: srv.URL + "/admin", client: &http.Client{Timeout: 30 * time.Second}, rep: rep, eng: eng}
}

// seed creates n contacts (one in refuseEvery refused by the mail server), an
// all-contacts segment, a template with three links and a two-step draft
// campaign with goals.
func (b *bundle) seed(t *testing.T, n, refuseEvery int, goals ...campaigns.Goal) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		local := fmt.Sprintf("user%d", i)
		if i%refuseEvery == refuseEvery/2 {
			local = fmt.Sprintf("refused%d", i)
		}
		_, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: local + "@example.com", Name: fmt.Sprintf("کاربر %d", i)})
		require.NoError(t, err)
	}
	segID := factory.Segment(t, b.pool).ID
	tplID := factory.Template(t, b.pool, factory.HTML(`<p><a href="https://shop.example/pricing">Pricing</a> <a href="https://shop.example/a,b?q=&quot;x&quot;">Odd, "quoted"</a> <a href="https://shop.example/fa">فروشگاه</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`)).ID
	if goals == nil {
		goals = []campaigns.Goal{}
	}
	c := campaigns.Campaign{
		Name: "Spring", SegmentID: &segID, From: campaigns.Address{Name: "Shop", Email: "news@shop.example"},
		Steps: []campaigns.Step{{Key: "main", TemplateID: tplID}, {Key: "offer", TemplateID: tplID}}, Goals: goals,
	}
	require.NoError(t, b.svc.Create(ctx, &c))
	return c
}

// launch launches c and waits until it has finished sending.
func (b *bundle) launch(t *testing.T, c campaigns.Campaign) {
	t.Helper()
	ctx := context.Background()
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := campaigns.Get(ctx, b.pool, c.ID)
		require.NoError(t, err)
		return got.Status == campaigns.StatusFinished
	}, 60*time.Second, 20*time.Millisecond)
}

func (b *bundle) get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.url+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	return resp
}

func (b *bundle) body(t *testing.T, path string) (int, string) {
	t.Helper()
	resp := b.get(t, path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// page is an admin page's status and body in lang ("en", "fa"), its
// whitespace runs folded to one space so assertions read as the page does.
func (b *bundle) page(t *testing.T, path, lang string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.admin+path, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "peykar_lang", Value: lang})
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.Join(strings.Fields(string(body)), " ")
}

// deliveries returns the campaign's sent deliveries (id and sent_at).
func (b *bundle) deliveries(t *testing.T, campaignID int64) ([]int64, map[int64]time.Time) {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT id, sent_at FROM deliveries WHERE campaign_id = $1 AND status = 'sent' ORDER BY id`, campaignID)
	require.NoError(t, err)
	var ids []int64
	sent := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var at time.Time
		require.NoError(t, rows.Scan(&id, &at))
		ids = append(ids, id)
		sent[id] = at
	}
	require.NoError(t, rows.Err())
	return ids, sent
}

var _ = pgx.ErrNoRows
