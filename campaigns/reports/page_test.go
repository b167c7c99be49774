package reports_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

func TestReportAndComparePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 10, 1000, campaigns.Goal{Name: "reach", When: "sent >= 20"})
	b.launch(t, c)
	evil := campaigns.Campaign{Name: `<script>alert("x")</script> فروش`, Steps: []campaigns.Step{}}
	require.NoError(t, b.svc.Create(ctx, &evil))

	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report.html")
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{"<h1>Spring</h1>", `data-metric="sent">10<`, `id="chart"`, `id="funnel"`, "reach", "50.0%",
		"/api/v1/campaigns/" + itoa(c.ID) + "/stream", "/api/v1/reports/assets/uPlot.iife.min.js", "https://shop.example/pricing",
		`<script type="application/json" id="report-data">{`} {
		require.Contains(t, body, want)
	}

	code, body = b.body(t, "/campaigns/"+itoa(evil.ID)+"/report.html")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, `<script>alert`)
	require.Contains(t, body, "فروش")

	code, body = b.body(t, "/reports/compare.html?ids="+itoa(c.ID)+","+itoa(evil.ID))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "open_rate")
	require.NotContains(t, body, `<script>alert`)

	for asset, ctype := range map[string]string{"uPlot.iife.min.js": "javascript", "uPlot.min.css": "text/css", "report.js": "javascript", "uPlot.LICENSE": ""} {
		resp := b.get(t, "/reports/assets/"+asset)
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, asset)
		require.NotEmpty(t, data)
		require.True(t, strings.Contains(resp.Header.Get("Content-Type"), ctype), "%s: %s", asset, resp.Header.Get("Content-Type"))
	}
	code, _ = b.body(t, "/reports/assets/nope.js")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = b.body(t, "/campaigns/999999/report.html")
	require.Equal(t, http.StatusNotFound, code)
}
