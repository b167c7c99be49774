package reports_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/tracking"
)

// TestReportPageUpdatesLive opens the admin live report in headless
// chromium and checks that the chart is drawn and that a tracked open
// reaches the page through the stream (the script re-reads the body).
func TestReportPageUpdatesLive(t *testing.T) {
	t.Parallel()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need %s in CI: apt-get install -y chromium", chromium)
		}
		t.Skipf("skipping browser test: %s not found", chromium)
	}
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 4, 1000)
	b.launch(t, c)
	ids, sentAt := b.deliveries(t, c.ID)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()))
	base, cancelBase := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelBase()
	alloc, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx))

	wait := func(expr string) {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second)))
		require.NoError(t, err, expr)
	}
	_, err := chromedp.Run(bctx, chromedp.Navigate(b.admin+"/campaigns/"+itoa(c.ID)+"/live"))
	require.NoError(t, err)
	wait(`document.getElementById('live').textContent === 'live'`)
	wait(`!!document.querySelector('#live-chart svg.chart')`)
	wait(`document.querySelector('[data-metric="sent"]').textContent === '4'`)

	_, err = b.tracking.Record(ctx, tracking.Event{Type: tracking.TypeOpen, DeliveryID: ids[0], At: sentAt[ids[0]].Add(time.Minute)})
	require.NoError(t, err)
	wait(`document.querySelector('[data-metric="total_opens"]').textContent === '1'`)
	wait(`document.querySelector('[data-metric="open_rate"]').textContent === '25.0%'`)
	wait(`document.querySelectorAll('#funnel .funnel-row').length === 5`)
	wait(`document.querySelector('#funnel meter').value === 1`)
}
