package reports

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestStreamIgnoresTheReplicasAsOf: a report read from a replica carries
// as_of, which moves with every probe of the replica; that alone is not a
// change to stream, while a changed number is, with the latest as_of.
func TestStreamIgnoresTheReplicasAsOf(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sent := int64(1)
	h := newHub(func(_ context.Context, id int64) (campaigns.Report, error) {
		at := asOf
		return campaigns.Report{CampaignID: id, Metrics: campaigns.Metrics{Sent: sent}, AsOf: &at}, nil
	}, time.Second, slog.New(slog.DiscardHandler))
	p := &poller{campaign: 7, subs: map[chan struct{}]struct{}{}}
	ctx := t.Context()

	p.poll(ctx, h)
	first, _ := p.latest()
	require.NotZero(t, first)
	asOf = asOf.Add(time.Second)
	p.poll(ctx, h)
	seq, _ := p.latest()
	require.Equal(t, first, seq, "only as_of moved: no event")

	sent = 2
	asOf = asOf.Add(time.Second)
	p.poll(ctx, h)
	seq, data := p.latest()
	require.Greater(t, seq, first, "a changed number is an event")
	require.True(t, strings.Contains(string(data), `"as_of":"2026-03-01T10:00:02Z"`), string(data))
	require.Contains(t, string(data), `"changed":["sent"]`)
}
