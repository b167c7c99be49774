// Package benchdb gives a benchmark command a migrated database: the one
// DATABASE_URL names, or a throwaway embedded PostgreSQL in a temporary
// directory (tuned like the test cluster: fsync off).
package benchdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/migrations"
)

// Open returns a pool on a fresh migrated database and a cleanup function.
func Open(ctx context.Context, maxConns int32) (*pgxpool.Pool, func(), error) {
	dsn := os.Getenv("DATABASE_URL")
	cleanup := func() {}
	if dsn == "" {
		dir, err := os.MkdirTemp("", "pkbench")
		if err != nil {
			return nil, nil, err
		}
		srv, err := pgserver.Start(ctx, pgserver.Config{
			Dir:    filepath.Join(dir, "pg"),
			Logger: slog.New(slog.DiscardHandler),
			Settings: map[string]string{
				"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
				"shared_buffers": "512MB", "max_connections": "200",
			},
		})
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { _ = srv.ForceStop(context.Background()); _ = os.RemoveAll(dir) }
		conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		_, err = conn.Exec(ctx, "CREATE DATABASE bench")
		conn.Close(ctx)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		dsn = srv.DSN("bench")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		pool.Close()
		cleanup()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return pool, func() { pool.Close(); cleanup() }, nil
}

// PeakRSS is the process's peak resident set size in MB (VmHWM).
func PeakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb float64
	for _, line := range splitLines(string(b)) {
		if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kb); err == nil {
			return kb / 1024
		}
	}
	return 0
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
