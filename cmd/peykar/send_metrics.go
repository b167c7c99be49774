package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/engine"
)

// registerSendMetrics shows on /metrics where this process's sends wait
// between their claim and the commit of their outcomes: the slices that
// waited for room under the crash window's bound, and the outcome group
// commits (docs/benchmarks.md, "Journeys (issue 19)"), and how many
// messages went by BDAT.
func (m *Main) registerSendMetrics() {
	for _, c := range []struct {
		name, help string
		pick       func(engine.SendStats) float64
	}{
		{"peykar_send_reserve_waits_total",
			"Send slices that waited for room under the bound on messages sent and not yet committed.",
			func(s engine.SendStats) float64 { return float64(s.ReserveWaits) }},
		{"peykar_send_reserve_wait_seconds_total",
			"Time send slices waited for room under the bound on messages sent and not yet committed.",
			func(s engine.SendStats) float64 { return s.ReserveWait.Seconds() }},
		{"peykar_send_outcome_flushes_total",
			"Group commits of send outcomes.",
			func(s engine.SendStats) float64 { return float64(s.Flushes) }},
		{"peykar_send_outcome_flush_seconds_total",
			"Time spent in group commits of send outcomes (transaction and commit).",
			func(s engine.SendStats) float64 { return s.FlushTime.Seconds() }},
		{"peykar_send_outcomes_flushed_total",
			"Send outcomes recorded by group commits.",
			func(s engine.SendStats) float64 { return float64(s.Flushed) }},
	} {
		pick := c.pick
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return pick(m.engine.SendStats()) }))
	}
	// BDAT is used only when the server offers it: this says whether it was.
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_smtp_bdat_messages_total",
		Help: "Messages the SMTP server accepted by BDAT (RFC 3030); the others went by DATA."},
		func() float64 { return float64(m.mailer.ChunkedSent()) }))
}
