// Package benchdb gives a benchmark command a migrated database: the one
// DATABASE_URL names, or a throwaway embedded PostgreSQL in a temporary
// directory (tuned like the test cluster: fsync off).
package benchdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/migrations"
)

// Open returns a pool on a fresh migrated database and a cleanup function.
func Open(ctx context.Context, maxConns int32) (*pgxpool.Pool, func(), error) {
	c, err := OpenCluster(ctx, maxConns)
	if err != nil {
		return nil, nil, err
	}
	return c.Pool, c.Close, nil
}

// Cluster is a benchmark database.
type Cluster struct {
	Pool *pgxpool.Pool
	// DataDir is the embedded cluster's data directory ("" with DATABASE_URL),
	// for CPU accounting.
	DataDir string
	// DSN is the database's connection URL, for a server process the
	// benchmark starts against it.
	DSN   string
	Close func()
}

// OpenCluster is Open that also says where the embedded cluster lives.
func OpenCluster(ctx context.Context, maxConns int32) (*Cluster, error) {
	return openCluster(ctx, maxConns, func(ctx context.Context, pool *pgxpool.Pool, _ string) error {
		return migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	})
}

// OpenClusterFor is OpenCluster with the database migrated by the peykar
// binary bin (`peykar migrate`) rather than by this checkout: a binary
// built from another commit then runs on its own schema, so before/after
// pairs work across a migration. bin "" is OpenCluster.
func OpenClusterFor(ctx context.Context, maxConns int32, bin string) (*Cluster, error) {
	if bin == "" {
		return OpenCluster(ctx, maxConns)
	}
	return openCluster(ctx, maxConns, func(ctx context.Context, _ *pgxpool.Pool, dsn string) error {
		dir, err := os.MkdirTemp("", "pkmigrate")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		cmd := exec.CommandContext(ctx, bin, "migrate")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "PEYKAR_DATA_DIR="+dir, "PEYKAR_LOG_LEVEL=warn")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s migrate: %w: %s", bin, err, out)
		}
		return nil
	})
}

func openCluster(ctx context.Context, maxConns int32, migrate func(ctx context.Context, pool *pgxpool.Pool, dsn string) error) (*Cluster, error) {
	dsn := os.Getenv("DATABASE_URL")
	cleanup := func() {}
	dataDir := ""
	if dsn == "" {
		dir, err := os.MkdirTemp("", "pkbench")
		if err != nil {
			return nil, err
		}
		srv, err := pgserver.Start(ctx, pgserver.Config{
			Dir:      filepath.Join(dir, "pg"),
			Logger:   slog.New(slog.DiscardHandler),
			Settings: settings(),
		})
		if err != nil {
			return nil, err
		}
		cleanup = func() { _ = srv.ForceStop(context.WithoutCancel(ctx)); _ = os.RemoveAll(dir) }
		dataDir = filepath.Join(srv.Dir(), "data")
		conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
		if err != nil {
			cleanup()
			return nil, err
		}
		_, err = conn.Exec(ctx, "CREATE DATABASE bench")
		conn.Close(ctx)
		if err != nil {
			cleanup()
			return nil, err
		}
		dsn = srv.DSN("bench")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		cleanup()
		return nil, err
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cleanup()
		return nil, err
	}
	if err := migrate(ctx, pool, dsn); err != nil {
		pool.Close()
		cleanup()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Cluster{Pool: pool, DataDir: dataDir, DSN: dsn, Close: func() { pool.Close(); cleanup() }}, nil
}

// PeakRSS is the process's peak resident set size in MB (VmHWM).
func PeakRSS() float64 { return statusMB("VmHWM") }

// RSS is the process's current resident set size in MB (VmRSS).
func RSS() float64 { return statusMB("VmRSS") }

func statusMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb float64
		if _, err := fmt.Sscanf(line, field+": %f kB", &kb); err == nil {
			return kb / 1024
		}
	}
	return 0
}

// LoadAvg is the machine's 1, 5 and 15 minute load averages, for the notes
// a benchmark prints about how busy the machine was.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// settings tunes the throwaway cluster like the test one (fsync off;
// BENCH_PG_DURABLE=1 keeps PostgreSQL's default durability);
// BENCH_PG_STATEMENTS=1 loads pg_stat_statements so PrintStatements can say
// where the database's time went.
func settings() map[string]string {
	s := map[string]string{
		"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
		"shared_buffers": "512MB", "max_connections": "200",
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		s["shared_preload_libraries"] = "pg_stat_statements"
	}
	if os.Getenv("BENCH_PG_DURABLE") == "1" { // PostgreSQL's defaults: fsync, synchronous_commit, full_page_writes on
		delete(s, "fsync")
		delete(s, "synchronous_commit")
		delete(s, "full_page_writes")
	}
	return s
}

// PrintStatements prints the statements that took the most database time,
// when pg_stat_statements is loaded (BENCH_PG_STATEMENTS=1).
func PrintStatements(ctx context.Context, pool *pgxpool.Pool, w io.Writer) {
	if os.Getenv("BENCH_PG_STATEMENTS") != "1" {
		return
	}
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		fmt.Fprintln(w, "pg_stat_statements:", err)
		return
	}
	rows, err := pool.Query(ctx, `SELECT calls, round(total_exec_time)::bigint, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`)
	if err != nil {
		fmt.Fprintln(w, "pg_stat_statements:", err)
		return
	}
	defer rows.Close()
	fmt.Fprintln(w, " calls total_ms    rows  statement")
	for rows.Next() {
		var calls, ms, n int64
		var q string
		if err := rows.Scan(&calls, &ms, &n, &q); err == nil {
			fmt.Fprintf(w, "%6d %8d %7d  %s\n", calls, ms, n, q)
		}
	}
}
