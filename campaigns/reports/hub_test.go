package reports

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestOnePollerPerCampaign checks that many clients of one campaign share
// one poller, which stops when the last client leaves.
func TestOnePollerPerCampaign(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	var mu sync.Mutex
	version := 0
	h, err := New(Config{Pool: &pgxpool.Pool{}, PollInterval: 10 * time.Millisecond, Report: func(ctx context.Context, id int64) (campaigns.Report, error) {
		calls.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return campaigns.Report{CampaignID: id, Metrics: campaigns.Metrics{Sent: int64(version)}}, nil
	}})
	require.NoError(t, err)
	e := echo.New()
	h.Routes(e.Group("/api/v1"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	var resps []*http.Response
	for range 5 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/campaigns/7/stream", nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resps = append(resps, resp)
	}
	require.Equal(t, 1, h.hub.running())
	cancel()
	for _, r := range resps {
		r.Body.Close()
	}
	require.Eventually(t, func() bool { return h.hub.running() == 0 }, 10*time.Second, 5*time.Millisecond)
}

// TestStreamAfterCloseSendsNothing: a stream opened after Close ends
// without a report, even while the campaign's poller (kept by another
// subscriber) holds one. A browser reconnecting to a closing server must
// not take that for the stream being back: journey.js would reset its
// fallback's tick at every reconnect and never fetch the numbers.
func TestStreamAfterCloseSendsNothing(t *testing.T) {
	t.Parallel()
	h, err := New(Config{Pool: &pgxpool.Pool{}, PollInterval: 10 * time.Millisecond, Report: func(ctx context.Context, id int64) (campaigns.Report, error) {
		return campaigns.Report{CampaignID: id}, nil
	}})
	require.NoError(t, err)
	e := echo.New()
	h.Routes(e.Group("/api/v1"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	p, _, leave := h.hub.subscribe(7)
	defer leave()
	require.Eventually(t, func() bool { _, data := p.latest(); return data != nil }, 10*time.Second, 5*time.Millisecond)
	h.Close()
	for range 20 {
		resp, err := http.Get(srv.URL + "/api/v1/campaigns/7/stream")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(body), "retry: 2000", "told to reconnect")
		require.NotContains(t, string(body), "event: report")
	}
}
