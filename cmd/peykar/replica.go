package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/replica"
)

// validateReplica checks PEYKAR_REPLICA_URL and PEYKAR_REPLICA_MAX_LAG.
func (c *Config) validateReplica() error {
	if c.ReplicaURL != "" {
		if _, err := pgxpool.ParseConfig(c.ReplicaURL); err != nil {
			return &ConfigError{"PEYKAR_REPLICA_URL", "not a valid PostgreSQL URL: " + err.Error()}
		}
	}
	if c.ReplicaMaxLag == "" {
		c.ReplicaMaxLag = "10s"
	}
	d, err := time.ParseDuration(c.ReplicaMaxLag)
	if err != nil || d < time.Second {
		return &ConfigError{"PEYKAR_REPLICA_MAX_LAG", fmt.Sprintf("%q must be a duration of at least 1s, such as 10s", c.ReplicaMaxLag)}
	}
	c.maxLag = d
	return nil
}

// startReplica builds the router of reads that may lag: over the primary
// alone, or (PEYKAR_REPLICA_URL, in the modes that serve pages) with the
// replica, whose monitor runs until Close and whose state /metrics shows.
// A replica that is down at start is not an error: reads go to the
// primary until it answers.
func (m *Main) startReplica(ctx context.Context) error {
	if m.Config.ReplicaURL == "" || m.Config.Mode == "worker" {
		m.reads = replica.New(m.pool, nil, replica.Config{})
		return nil
	}
	pcfg, err := pgxpool.ParseConfig(m.Config.ReplicaURL)
	if err != nil {
		return &ConfigError{"PEYKAR_REPLICA_URL", "not a valid PostgreSQL URL: " + err.Error()}
	}
	sessionDefaults(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	m.closers = append(m.closers, func(context.Context) error { pool.Close(); return nil })
	m.reads = replica.New(m.pool, pool, replica.Config{MaxLag: m.Config.maxLag, Interval: m.replicaInterval, Logger: m.Logger})
	m.registry.MustRegister(m.reads)
	monCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); m.reads.Run(monCtx) }()
	m.closers = append(m.closers, func(context.Context) error { stop(); <-done; return nil })
	m.Logger.InfoContext(ctx, "reads that may lag go to the replica while it is within the bound",
		slog.String("replica", pcfg.ConnConfig.Host), slog.Duration("max_lag", m.Config.maxLag))
	return nil
}
