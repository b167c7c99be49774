// Package migrations owns the database schema: numbered SQL migrations
// embedded in the binary, applied with jackc/tern together with River's own
// migrations by Migrate, under one advisory lock so that several peykar
// processes may start at once.
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed sql/*.sql
var files embed.FS

// versionTable is where tern records the schema version.
const versionTable = "peykar_schema_version"

// lockKey is the advisory lock that serialises migrations across processes
// ("peykar" in ASCII).
const lockKey int64 = 0x7065796b6172

// FS returns the embedded SQL migrations.
func FS() fs.FS {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Migrate brings the database up to date: River's tables first (our schema
// refers to river_job), then Peykar's. It is idempotent, and concurrent
// callers wait for each other on an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return MigrateTo(ctx, pool, logger, Latest())
}

// MigrateTo is Migrate up (or down) to Peykar's schema version, not the
// latest: tests build a database as an older binary left it, fill it, and
// then migrate it on (migration 038's test does). River's migrations are
// always brought up to date.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, version int32) error {
	if logger == nil {
		logger = slog.Default()
	}
	// The lock is held on a connection of its own, outside the pool: River's
	// migrator needs pool connections while we wait, and a caller holding
	// pool connections while blocked on the lock could exhaust the pool.
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey)
	}()

	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("migrate: river: %w", err)
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate: river: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "applied river migration", slog.Int("version", v.Version), slog.String("name", v.Name))
	}

	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := load()
	if err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	for _, f := range files {
		m.AppendMigration(f.name, f.up, f.down)
	}
	m.OnStart = func(seq int32, name, _, _ string) {
		logger.InfoContext(ctx, "applying migration", slog.Int("version", int(seq)), slog.String("name", name))
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// ErrNotCurrent is returned by Check when the database lacks migrations the
// binary has (or has ones it does not know).
var ErrNotCurrent = errors.New("database schema is not current")

// Check reports whether the database is reachable and fully migrated, for
// readiness probes.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	var have int32
	err := pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&have)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if want := Latest(); have != want {
		return fmt.Errorf("%w: at version %d, binary expects %d", ErrNotCurrent, have, want)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	res, err := rm.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("validate river schema: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w: river: %v", ErrNotCurrent, res.Messages)
	}
	return nil
}

// Latest is the highest migration number embedded in the binary.
func Latest() int32 {
	files, err := load()
	if err != nil {
		panic(err)
	}
	return int32(len(files))
}

// Fingerprint identifies the embedded migrations' content, so a test
// template database built from one set is never used for another.
func Fingerprint() string {
	h := sha256.New()
	files, _ := load()
	for _, f := range files {
		h.Write([]byte(f.name + f.up + f.down))
	}
	if rm, err := rivermigrate.New(riverpgxv5.New(nil), nil); err == nil {
		all := rm.AllVersions()
		fmt.Fprintf(h, "river:%d", all[len(all)-1].Version)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
