package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/tracking"
)

// minEventsRetention is the shortest PEYKAR_EVENTS_RETENTION: tracking
// reads recent events (a conversion's click within the campaign's
// conversion window, a click burst's reclassification), and a month is the
// unit that is dropped anyway.
const minEventsRetention = 31 * 24 * time.Hour

// parseRetention reads PEYKAR_EVENTS_RETENTION: a number of days ("400d")
// or a Go duration ("9600h"); "" keeps events forever (0).
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days such as 400d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a retention such as 400d (days) or 9600h", s)
		}
	}
	if d < minEventsRetention {
		return 0, fmt.Errorf("%q is shorter than the least retention, 31d", s)
	}
	return d, nil
}

// validateRetention parses EventsRetention.
func (c *Config) validateRetention() error {
	d, err := parseRetention(c.EventsRetention)
	if err != nil {
		return &ConfigError{"PEYKAR_EVENTS_RETENTION", err.Error()}
	}
	c.eventsRetention = d
	return nil
}

// startPartitions makes events' months ahead at startup (idempotent, one
// process at a time), so a long-stopped database has this month's
// partition before the first event, whatever the job's schedule, and
// exposes the partitions on /metrics. The periodic job
// (tracking.PeriodicPartitions) keeps them from then on and drops what is
// past the retention. A failure (events' lock held longer than the upkeep
// waits) does not stop the process: nothing is lost meanwhile (events
// without their month wait in the default partition) and the job retries.
func (m *Main) startPartitions(ctx context.Context) {
	created, err := tracking.EnsurePartitions(ctx, m.pool, time.Now(), tracking.PartitionAhead)
	if err != nil {
		m.Logger.WarnContext(ctx, "could not make the months of events ahead; the partition job will retry", slog.Any("error", err))
	}
	if len(created) > 0 {
		m.Logger.InfoContext(ctx, "event partitions created", slog.Any("partitions", created))
	}
	m.registry.MustRegister(&partitionMetrics{pool: m.pool, logger: m.Logger})
}

// partitionMetrics reads events' partitions at each scrape.
type partitionMetrics struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

var (
	partitionsDesc = prometheus.NewDesc("peykar_events_partitions",
		"Month partitions of the events table (the default partition not counted).", nil, nil)
	partitionOldestDesc = prometheus.NewDesc("peykar_events_partition_oldest_timestamp_seconds",
		"Start of the oldest month partition of events (Unix time): how far back event history goes.", nil, nil)
	partitionNewestDesc = prometheus.NewDesc("peykar_events_partition_newest_timestamp_seconds",
		"End of the newest month partition of events (Unix time): events after it land in the default partition.", nil, nil)
	defaultRowsDesc = prometheus.NewDesc("peykar_events_default_partition_rows",
		"Rows in the default partition of events (counted up to 1,000,000); should stay near 0.", nil, nil)
)

// partitionScrapeTimeout bounds a scrape's reads of the partitions.
const partitionScrapeTimeout = 5 * time.Second

// Describe implements prometheus.Collector.
func (p *partitionMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- partitionsDesc
	ch <- partitionOldestDesc
	ch <- partitionNewestDesc
	ch <- defaultRowsDesc
}

// Collect implements prometheus.Collector. A failed read leaves the
// metrics out of this scrape (and is logged), rather than reporting zeros.
func (p *partitionMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), partitionScrapeTimeout)
	defer cancel()
	st, err := tracking.ReadPartitionStats(ctx, p.pool)
	if err != nil {
		p.logger.WarnContext(ctx, "metrics: read the partitions of events", slog.Any("error", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(partitionsDesc, prometheus.GaugeValue, float64(st.Months))
	if st.Months > 0 {
		ch <- prometheus.MustNewConstMetric(partitionOldestDesc, prometheus.GaugeValue, float64(st.Oldest.Unix()))
		ch <- prometheus.MustNewConstMetric(partitionNewestDesc, prometheus.GaugeValue, float64(st.Newest.Unix()))
	}
	ch <- prometheus.MustNewConstMetric(defaultRowsDesc, prometheus.GaugeValue, float64(st.DefaultRows))
}
