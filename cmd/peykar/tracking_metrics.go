package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/tracking"
)

// registerTrackingMetrics shows on /metrics the tracking writers' group
// commits, the follower's folds, and how far the reports lag the clicks
// and opens answered (the oldest one waiting in the inbox): the sign that
// clicks arrive faster than the follower folds them (docs/tracking.md).
func (m *Main) registerTrackingMetrics(ctx context.Context) {
	// A scrape outlives the start-up context; each reads with its own timeout.
	ctx = context.WithoutCancel(ctx)
	for _, c := range []struct {
		name, help string
		pick       func(tracking.Stats) int64
	}{
		{"peykar_tracking_commits_total", "Group commits of tracking events (the inbox's and the writer's).",
			func(s tracking.Stats) int64 { return s.Commits }},
		{"peykar_tracking_events_total", "Tracking events answered after their group commit.",
			func(s tracking.Stats) int64 { return s.Events }},
		{"peykar_tracking_folds_total", "Transactions of this process's follower that folded inbox events.",
			func(s tracking.Stats) int64 { return s.Folds }},
		{"peykar_tracking_folded_total", "Inbox events this process's follower folded into events and the reports.",
			func(s tracking.Stats) int64 { return s.Folded }},
	} {
		pick := c.pick
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(pick(m.tracking.Stats())) }))
	}
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "peykar_tracking_inbox_oldest_seconds",
		Help: "How long the oldest click or open waiting to be folded into the reports has waited (0: none waits; -1: the database did not answer)."},
		func() float64 {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			lag, err := m.tracking.InboxLag(ctx)
			if err != nil {
				return -1
			}
			return lag.Seconds()
		}))
}
