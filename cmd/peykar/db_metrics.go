package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// dbCollector exposes on /metrics what shows first when one PostgreSQL or
// the job queue is the limit: the connection pool (connections in use, time
// spent waiting for one) and the River backlog by queue and state. The
// backlog is read when /metrics is scraped, with a short timeout.
type dbCollector struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	acquired, idle, total, max, waitSeconds, emptyAcquires *prometheus.Desc
	jobs, oldest                                           *prometheus.Desc
}

func newDBCollector(pool *pgxpool.Pool, logger *slog.Logger) *dbCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &dbCollector{pool: pool, logger: logger,
		acquired:      d("peykar_db_pool_acquired_connections", "Database connections in use by this process."),
		idle:          d("peykar_db_pool_idle_connections", "Idle database connections of this process."),
		total:         d("peykar_db_pool_connections", "Database connections this process holds open."),
		max:           d("peykar_db_pool_max_connections", "The most database connections this process may open."),
		waitSeconds:   d("peykar_db_pool_acquire_wait_seconds_total", "Time spent waiting for a database connection because all were in use."),
		emptyAcquires: d("peykar_db_pool_empty_acquires_total", "Connection requests that had to wait because all were in use."),
		jobs:          d("peykar_jobs", "River jobs by queue and state (available: waiting for a worker).", "queue", "state"),
		oldest:        d("peykar_jobs_oldest_available_seconds", "Age of the oldest job that is available to work but not yet taken, by queue.", "queue"),
	}
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.waitSeconds, c.emptyAcquires, c.jobs, c.oldest} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.pool.Query(ctx, `SELECT queue, state::text, count(*),
			coalesce(extract(epoch FROM now() - min(scheduled_at) FILTER (WHERE state = 'available')), 0)
		FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled')
		GROUP BY queue, state`)
	if err != nil {
		c.logger.Warn("metrics: job backlog", slog.Any("error", err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n int64
		var age float64
		if err := rows.Scan(&queue, &state, &n, &age); err != nil {
			c.logger.Warn("metrics: job backlog", slog.Any("error", err))
			return
		}
		gauge(c.jobs, float64(n), queue, state)
		if state == "available" {
			gauge(c.oldest, age, queue)
		}
	}
}
