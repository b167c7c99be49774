package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/engine"
)

// registerSendMetrics shows on /metrics where this process's sends wait
// between their claim and the commit of their outcomes: the slices that
// waited for room under the crash window's bound, and the outcome group
// commits (docs/benchmarks.md, "Journeys (issue 19)").
func (m *Main) registerSendMetrics() {
	stat := func(pick func(engine.SendStats) float64) func() float64 {
		return func() float64 { return pick(m.engine.SendStats()) }
	}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_send_reserve_waits_total",
			Help: "Send slices that waited for room under the bound on messages sent and not yet committed."},
			stat(func(s engine.SendStats) float64 { return float64(s.ReserveWaits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_send_reserve_wait_seconds_total",
			Help: "Time send slices waited for room under the bound on messages sent and not yet committed."},
			stat(func(s engine.SendStats) float64 { return s.ReserveWait.Seconds() })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_send_outcome_flushes_total",
			Help: "Group commits of send outcomes."},
			stat(func(s engine.SendStats) float64 { return float64(s.Flushes) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_send_outcome_flush_seconds_total",
			Help: "Time spent in group commits of send outcomes (transaction and commit)."},
			stat(func(s engine.SendStats) float64 { return s.FlushTime.Seconds() })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_send_outcomes_flushed_total",
			Help: "Send outcomes recorded by group commits."},
			stat(func(s engine.SendStats) float64 { return float64(s.Flushed) })),
	)
}
