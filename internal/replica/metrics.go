package replica

import "github.com/prometheus/client_golang/prometheus"

var (
	lagDesc = prometheus.NewDesc("peykar_replica_lag_seconds",
		"How old the replica's data may be: the age of the newest primary WAL position it has replayed (absent until it has replayed one).", nil, nil)
	upDesc = prometheus.NewDesc("peykar_replica_up",
		"1 when the replica answered the last probe as a standby, else 0.", nil, nil)
)

// Describe implements prometheus.Collector.
func (r *Router) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- upDesc
	r.reads.Describe(ch)
	r.fallbacks.Describe(ch)
}

// Collect implements prometheus.Collector: nothing without a replica.
func (r *Router) Collect(ch chan<- prometheus.Metric) {
	st := r.Status()
	if !st.Configured {
		return
	}
	up := 0.0
	if st.Up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	if st.Staleness >= 0 {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.Staleness.Seconds())
	}
	r.reads.Collect(ch)
	r.fallbacks.Collect(ch)
}
