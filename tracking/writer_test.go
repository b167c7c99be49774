package tracking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One event the database refuses (a value beyond numeric(18,4)) fails
// alone: the batch is split and the others are stored.
func TestWriterIsolatesBadEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BatchWait = 200 * time.Millisecond; c.Writers = 1 })
	camp := b.campaign(t, `[]`, `{}`)
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	ctx := context.Background()
	var wg sync.WaitGroup
	errsOut := make([]error, 21)
	for i := range 21 {
		wg.Go(func() {
			ev := Event{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA + "\x00\xff"}
			if i == 7 {
				ev = Event{Type: TypeConversion, DeliveryID: d, Value: 1e20}
			}
			_, errsOut[i] = b.svc.Record(ctx, ev)
		})
	}
	wg.Wait()
	for i, err := range errsOut {
		if i == 7 {
			require.ErrorIs(t, err, ErrUnavailable)
		} else {
			require.NoError(t, err, i)
		}
	}
	require.Equal(t, int64(20), b.count(t, `SELECT count(*) FROM events WHERE type = 'open'`))
	require.Equal(t, int64(0), b.count(t, `SELECT count(*) FROM events WHERE type = 'conversion'`))
	require.Equal(t, int64(20), b.rollup(t, camp, MetricOpens, false)+b.rollup(t, camp, MetricOpens, true))
	require.Less(t, b.svc.Stats().Commits, int64(21), "group commit")
}

// Close writes what was queued; later events are refused, not lost.
func TestWriterCloseFlushes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BatchWait = 50 * time.Millisecond })
	camp := b.campaign(t, `[]`, `{}`)
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for range 50 {
		wg.Go(func() {
			if _, err := b.svc.Record(ctx, Event{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA}); err == nil {
				mu.Lock()
				acked++
				mu.Unlock()
			} else {
				require.True(t, errors.Is(err, ErrUnavailable))
			}
		})
	}
	// Close while events are in flight: once the writer has committed some.
	require.Eventually(t, func() bool { return b.svc.Stats().Events > 0 }, 30*time.Second, time.Millisecond)
	require.NoError(t, b.svc.Close(ctx))
	wg.Wait()
	require.Positive(t, acked)
	require.Equal(t, int64(acked), b.count(t, `SELECT count(*) FROM events`))
	_, err := b.svc.Record(ctx, Event{Type: TypeOpen, DeliveryID: d})
	require.ErrorIs(t, err, ErrUnavailable)
}

// A batch waits for more events only while another batch is being
// written: with the database idle an event is written at once, however
// long BatchWait is.
func TestWriterDoesNotWaitWhenIdle(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BatchWait = time.Hour })
	camp := b.campaign(t, `[]`, `{}`)
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			_, err := b.svc.Record(context.Background(), Event{Type: TypeOpen, DeliveryID: d, UserAgent: browserUA})
			done <- err
		}()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatalf("event %d waited for BatchWait with the database idle", i)
		}
	}
	require.Equal(t, int64(3), b.svc.Stats().Commits)
}

// The writer keeps rollup_totals and rollup_hours (rollups.go): after
// opens, clicks human and machine, a honeypot that reclassifies stored
// clicks, and fractional conversions, both equal the sums of the minute
// rollups.
func TestWriterKeepsTotalsAndHours(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	var ds []int64
	for range 4 {
		d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
		ds = append(ds, d)
	}
	scanner := "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))"
	for i, d := range ds {
		b.get(t, b.signer.OpenURL(b.url, d), browserUA)
		b.get(t, b.signer.OpenURL(b.url, d), scanner)
		b.get(t, b.signer.ClickURL(b.url, d, i%2, ""), browserUA)
		b.get(t, b.signer.ClickURL(b.url, d, 1-i%2, ""), scanner)
	}
	b.get(t, b.signer.HoneypotURL(b.url, ds[0]), browserUA)
	for _, v := range []float64{12.34567, 0.00005, 7} {
		_, err := b.svc.Record(ctx, Event{Type: TypeConversion, DeliveryID: ds[1], Value: v})
		require.NoError(t, err)
	}
	require.Positive(t, b.count(t, `SELECT count(*) FROM rollups WHERE campaign_id = $1 AND (count < 0 OR value <> round(value))`, camp), "the data has negative moves or fractional values")

	require.Positive(t, b.count(t, `SELECT count(*) FROM rollup_hours WHERE campaign_id = $1 AND metric = 'clicks'`, camp))
	requireTotalsEqualRollups(t, b, camp)
}

// Requests are reused from one event to the next: every concurrent click
// still gets its own answer (its own link, with its own delivery's
// campaign), over many batches and through the recycling, and each
// answered click is stored once.
func TestConcurrentClicksGetTheirOwnAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const campaigns, perCampaign, rounds = 3, 8, 6
	type click struct {
		url, want string
	}
	var clicks []click
	for c := range campaigns {
		links := []string{fmt.Sprintf("https://c%d.example/a", c), fmt.Sprintf("https://c%d.example/b", c)}
		camp := b.campaign(t, `[]`, `{}`, links...)
		for range perCampaign {
			d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
			for l, u := range links {
				clicks = append(clicks, click{b.signer.ClickURL(b.url, d, l, ""), u})
			}
		}
	}
	var wg sync.WaitGroup
	for range rounds {
		for _, c := range clicks {
			wg.Go(func() {
				res, _ := b.doNow(t, http.MethodGet, c.url, browserUA)
				assert.Equal(t, http.StatusFound, res.StatusCode)
				assert.Equal(t, c.want, res.Header.Get("Location"))
			})
		}
	}
	wg.Wait()
	b.settle(t)
	require.Equal(t, int64(rounds*len(clicks)), b.count(t, `SELECT count(*) FROM events WHERE type = 'click'`))
	require.Greater(t, b.svc.Stats().Events, b.svc.Stats().Commits, "clicks shared commits")
}
