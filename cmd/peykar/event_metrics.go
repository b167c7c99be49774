package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/campaigns/contacts"
)

// eventWriter makes the group commit of POST /events and shows its counts
// on /metrics: how many transactions stored how many events (a group per
// transaction) and how many events were stored alone after their group
// failed.
func (m *Main) eventWriter() *contacts.EventWriter {
	w := contacts.NewEventWriter(m.pool, m.conversions(), m.engine)
	stat := func(pick func(contacts.EventWriterStats) int64) func() float64 {
		return func() float64 { return float64(pick(w.Stats())) }
	}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_event_group_commits_total",
			Help: "Transactions that stored a group of POST /events calls."},
			stat(func(s contacts.EventWriterStats) int64 { return s.Commits })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_event_group_events_total",
			Help: "POST /events calls answered by a group transaction."},
			stat(func(s contacts.EventWriterStats) int64 { return s.Grouped })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peykar_event_alone_total",
			Help: "POST /events calls stored alone after their group failed."},
			stat(func(s contacts.EventWriterStats) int64 { return s.Alone })),
	)
	return w
}
