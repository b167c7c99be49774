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
	"sync"

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
	// Own says whether a backend pid is one of Pool's connections: the
	// benchmark's own queries, charged apart from the server under test.
	Own func(pid int) bool
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
		cleanup = func() {
			_ = srv.ForceStop(context.WithoutCancel(ctx))
			keepExplainLog(filepath.Join(srv.Dir(), "postgres.log"))
			_ = os.RemoveAll(dir)
		}
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
	var own sync.Map
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		own.Store(int(c.PgConn().PID()), true)
		return nil
	}
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
	return &Cluster{Pool: pool, DataDir: dataDir, DSN: dsn, Close: func() { pool.Close(); cleanup() },
		Own: func(pid int) bool { _, ok := own.Load(pid); return ok }}, nil
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
// BENCH_PG_DURABLE=1 keeps PostgreSQL's default durability;
// BENCH_PG_SHARED_BUFFERS replaces the 512MB of shared_buffers);
// BENCH_PG_STATEMENTS=1 loads pg_stat_statements so PrintStatements can say
// where the database's time went.
func settings() map[string]string {
	s := map[string]string{
		"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
		"shared_buffers": "512MB", "max_connections": "200",
	}
	if v := os.Getenv("BENCH_PG_SHARED_BUFFERS"); v != "" {
		s["shared_buffers"] = v
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		s["shared_preload_libraries"] = "pg_stat_statements"
		// Planning is CPU the statement's execution time leaves out: a
		// statement over arrays replanned at every call costs more there.
		s["pg_stat_statements.track_planning"] = "on"
	}
	for k, v := range explainSettings() {
		s[k] = v
	}
	for k, v := range hugePageSettings() {
		s[k] = v
	}
	for k, v := range ExtraSettings(os.Getenv("BENCH_PG_SET")) {
		s[k] = v
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
	rows, err := pool.Query(ctx, `SELECT calls, plans, round(total_exec_time)::bigint, round(total_plan_time)::bigint, wal_bytes::bigint,
		rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`)
	if err != nil {
		fmt.Fprintln(w, "pg_stat_statements:", err)
		return
	}
	defer rows.Close()
	fmt.Fprintln(w, " calls  plans exec_ms plan_ms   wal_kB    rows  statement")
	for rows.Next() {
		var calls, plans, ms, plan, wal, n int64
		var q string
		if err := rows.Scan(&calls, &plans, &ms, &plan, &wal, &n, &q); err == nil {
			fmt.Fprintf(w, "%6d %6d %7d %7d %8d %7d  %s\n", calls, plans, ms, plan, wal/1024, n, q)
		}
	}
}

// PrintWALRecords prints the WAL written from lsn to now by resource
// manager, record type and relation (pg_walinspect), the largest first, when
// BENCH_PG_STATEMENTS=1: which writes a message's WAL bytes are.
func PrintWALRecords(ctx context.Context, pool *pgxpool.Pool, w io.Writer, lsn string, msgs int64) {
	if os.Getenv("BENCH_PG_STATEMENTS") != "1" {
		return
	}
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect"); err != nil {
		fmt.Fprintln(w, "pg_walinspect:", err)
		return
	}
	// Each record by its type and the relation of its first block
	// (block_ref "blkref #0: rel spc/db/relfilenode …"), so a row write is
	// told apart by table and index.
	rows, err := pool.Query(ctx, `WITH r AS (
			SELECT resource_manager || '/' || record_type AS kind, record_length + fpi_length AS size,
				(regexp_match(block_ref, 'blkref #0: rel \d+/\d+/(\d+)'))[1]::oid AS node
			FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_lsn()))
		SELECT r.kind || coalesce(' ' || c.relname, ''), count(*), sum(r.size)::bigint
		FROM r LEFT JOIN pg_class c ON c.relfilenode = r.node AND r.node <> 0
		GROUP BY 1 ORDER BY 3 DESC LIMIT 24`, lsn)
	if err != nil {
		fmt.Fprintln(w, "pg_walinspect:", err)
		return
	}
	defer rows.Close()
	per := float64(max(msgs, 1))
	fmt.Fprintln(w, " WAL records per message   bytes per message  record type and relation")
	for rows.Next() {
		var kind string
		var n, size int64
		if err := rows.Scan(&kind, &n, &size); err == nil {
			fmt.Fprintf(w, " %23.2f %19.0f  %s\n", float64(n)/per, float64(size)/per, kind)
		}
	}
}
