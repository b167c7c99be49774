package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/tracking"
)

// The click and the open pixel are served by their own Echo with the
// middleware chain composed once (hot.go): every request for them is
// answered exactly as the full route table answers it (status, redirect,
// body, security and cache headers, a request id only for failures), the
// others still go to the full table, and both count in the same request
// metrics series.
func TestHotRoutesAnswerLikeTheFullTable(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	var contact, campaign, delivery int64
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ('hot@example.com') RETURNING id`).Scan(&contact))
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('Hot', 'running', '{"utm":{"source":"peykar"}}') RETURNING id`).Scan(&campaign))
	_, err := m.pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/hot', '')`, campaign)
	require.NoError(t, err)
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'main', $2, 'sent', now()) RETURNING id`, campaign, contact).Scan(&delivery))
	click := m.signer.ClickURL("", delivery, 0, "")
	open := m.signer.OpenURL("", delivery)
	host := strings.TrimPrefix(m.URL(), "http://")

	cases := []struct {
		method, path string
		hot          bool
		status       int
	}{
		{http.MethodGet, click, true, http.StatusFound},
		{http.MethodGet, open, true, http.StatusOK},
		{http.MethodGet, "/t/c/forged", true, http.StatusNotFound},
		{http.MethodGet, "/t/o/forged.gif", true, http.StatusNotFound},
		{http.MethodGet, click + "?utm_source=x", true, http.StatusFound},
		{http.MethodGet, "/t/c/", false, 0},
		{http.MethodGet, "/t/c/a/b", false, 0},
		{http.MethodGet, "/t/cx/a", false, 0},
		{http.MethodHead, click, false, 0},
		{http.MethodPost, click, false, 0},
		{http.MethodGet, "/t/u/forged", false, 0},
	}
	headers := []string{"Location", "Content-Type", "Cache-Control", "Pragma", "X-Content-Type-Options",
		"Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security"}
	for _, tc := range cases {
		name := tc.method + " " + tc.path
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Host = host
		require.Equal(t, tc.hot, tracking.IsHot(req), name)

		// Through the server (hot or not), then through the full table alone.
		sreq, err := http.NewRequest(tc.method, m.URL()+tc.path, nil)
		require.NoError(t, err)
		resp, err := noRedirect.Do(sreq)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		rec := httptest.NewRecorder()
		m.echo.ServeHTTP(rec, req)
		full := rec.Result()

		if tc.status != 0 {
			require.Equal(t, tc.status, resp.StatusCode, name)
		}
		require.Equal(t, full.StatusCode, resp.StatusCode, name)
		require.Equal(t, rec.Body.String(), string(body), name)
		for _, h := range headers {
			require.Equal(t, full.Header.Values(h), resp.Header.Values(h), "%s: %s", name, h)
		}
		// Request ids are random: one on both answers or on neither.
		require.Equal(t, full.Header.Get("X-Request-Id") != "", resp.Header.Get("X-Request-Id") != "", name)
	}
	require.Equal(t, "https://shop.example/hot?utm_source=peykar", func() string {
		resp, err := noRedirect.Get(m.URL() + click)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.Header.Get("Location")
	}(), "a click is never an open redirect: its destination is the campaign's link")

	// One series per route and code, fed by both paths.
	_, metrics := get(t, m.URL()+"/metrics")
	for _, want := range []string{
		fmt.Sprintf(`peykar_http_requests_total{code="302",host=%q,method="GET",url="/t/c/:token"} 5`, host),
		fmt.Sprintf(`peykar_http_requests_total{code="200",host=%q,method="GET",url="/t/o/:file"} 2`, host),
	} {
		require.True(t, strings.Contains(metrics, want), "/metrics lacks %s", want)
	}
}
