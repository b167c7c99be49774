package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/netguard"
	"github.com/peykar/peykar/migrations/pgtest"
	"github.com/peykar/peykar/templates"
)

// TestWebhookSliceStopsWhenFenced: a webhook slice posts one message at a
// time, so its lease can lapse between two posts (a freeze, or a slow
// receiver) while the process is declared dead. The next post waits for
// the heartbeat's outcome instead of going out at once, and when the
// heartbeat is refused it posts nothing more: the rest of the slice is
// another process's, each left to be retried, not recorded as sent.
// Without the check the second post either reaches the receiver (before
// the refused heartbeat cancels the job) or fails as cancelled.
func TestWebhookSliceStopsWhenFenced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	p, clock := fenceProcess(t, pool, "fenced-mid-webhook-slice")

	var hits atomic.Int32
	posted := make(chan struct{})
	lapsed := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			// The first post is answered only once its process's lease
			// has lapsed and a sweep has declared it dead.
			close(posted)
			<-lapsed
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)

	policy := netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	w := &SendWorker{Webhook: Webhook{Client: NewWebhookClient(WebhookConfig{Policy: policy})}}
	c := &campaigns.Campaign{ID: 7, Channel: campaigns.ChannelWebhook}
	c.Settings.Webhook = &campaigns.WebhookSettings{URL: srv.URL + "/sms"}
	ready := make([]rendered, 3)
	for i := range ready {
		ready[i] = rendered{d: deliveries.Delivery{ID: int64(i + 1), Attempts: 1}, r: &templates.Rendered{Text: `{"to":"+15550100"}`}}
	}

	go func() {
		<-posted
		clock.add(ProcessLease + time.Millisecond)
		_, err := pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - $2::interval WHERE id = $1`,
			p.ID, (ProcessDeadAfter + time.Minute).String())
		if err == nil {
			_, err = RescueDeadProcesses(ctx, pool, ProcessDeadAfter)
		}
		if err != nil {
			t.Errorf("declare the process dead: %v", err)
		}
		close(lapsed)
		p.beat(ctx) // refused: the process was declared dead meanwhile
	}()

	var out []deliveries.Outcome
	inJob(t, p, func(job context.Context) {
		out = w.sendWebhooks(job, c, ready, nil)
	})
	require.EqualValues(t, 1, hits.Load(), "nothing is posted after the fence")
	require.Len(t, out, 3)
	// The first post's answer races the refused heartbeat, which cancels
	// the job's context: accepted, or left to be retried.
	require.Contains(t, []string{deliveries.Sent, deliveries.Queued}, out[0].Status)
	for _, o := range out[1:] {
		require.Equal(t, deliveries.Queued, o.Status, "delivery %d is left to be retried", o.ID)
		require.Contains(t, o.Detail, "not sent")
	}
}
