package pgtest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/migrations"
)

// Replica is a PostgreSQL primary of its own, with a migrated database
// "peykar", and a real streaming standby of it: for tests of reads that may
// lag. The pair is not the shared test server: a base backup copies a whole
// cluster, and the tests stop and pause the standby.
type Replica struct {
	// PrimaryDSN and ReplicaDSN reach database "peykar" on each server.
	PrimaryDSN, ReplicaDSN string

	primary, standby *pgserver.Server
}

// NewReplica starts a primary, migrates it, takes a base backup and starts
// the standby on it; everything stops and goes when t ends. It skips t
// only when pg_basebackup is not installed beside the server binaries.
func NewReplica(t testing.TB) *Replica {
	t.Helper()
	if !pgserver.HasBaseBackup() {
		t.Skip("pgtest: no pg_basebackup beside initdb and pg_ctl: the replica tests need the PostgreSQL client binaries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A short directory: socket paths are length-limited. Mode 0711 lets
	// the postgres user (when the tests run as root) reach the clusters.
	dir, err := os.MkdirTemp("", "pkr-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	r := &Replica{}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, s := range []*pgserver.Server{r.standby, r.primary} {
			if s != nil {
				_ = s.ForceStop(ctx) // the standby may be stopped already
			}
		}
		_ = os.RemoveAll(dir)
	})
	quiet := slog.New(slog.DiscardHandler)
	fast := map[string]string{"fsync": "off", "max_connections": "100"} // commits wait for their WAL write, as in production
	r.primary, err = pgserver.Start(ctx, pgserver.Config{Dir: filepath.Join(dir, "p"), Logger: quiet,
		Settings: merge(fast, map[string]string{"wal_level": "replica", "max_wal_senders": "4"})})
	if err != nil {
		t.Fatalf("pgtest: primary: %v", err)
	}
	if err := createAndMigrate(ctx, r.primary); err != nil {
		t.Fatalf("pgtest: primary: %v", err)
	}
	r.standby, err = pgserver.StartStandby(ctx, r.primary, pgserver.Config{Dir: filepath.Join(dir, "s"), Logger: quiet, Settings: fast})
	if err != nil {
		t.Fatalf("pgtest: standby: %v", err)
	}
	r.PrimaryDSN, r.ReplicaDSN = r.primary.DSN("peykar"), r.standby.DSN("peykar")
	return r
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func createAndMigrate(ctx context.Context, s *pgserver.Server) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE peykar")
	conn.Close(ctx)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, s.DSN("peykar"))
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
}

// StopReplica stops the standby at once (pg_ctl stop -m immediate), as a
// crash would.
func (r *Replica) StopReplica(t testing.TB) {
	t.Helper()
	if err := r.standby.StopImmediate(context.Background()); err != nil {
		t.Fatalf("pgtest: stop standby: %v", err)
	}
}

// PauseReplay stops the standby applying WAL (pg_wal_replay_pause): it
// still answers, with data that grows older as the primary writes.
func (r *Replica) PauseReplay(t testing.TB) { r.standbyExec(t, "SELECT pg_wal_replay_pause()") }

// ResumeReplay lets the standby catch up again (pg_wal_replay_resume).
func (r *Replica) ResumeReplay(t testing.TB) { r.standbyExec(t, "SELECT pg_wal_replay_resume()") }

func (r *Replica) standbyExec(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.ReplicaDSN)
	if err != nil {
		t.Fatalf("pgtest: standby: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: standby: %s: %v", sql, err)
	}
}
