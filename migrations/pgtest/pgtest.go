// Package pgtest hands each test its own freshly migrated PostgreSQL
// database in milliseconds.
//
// The schema is migrated once into a template database (named after the
// migrations' fingerprint) and every test database is a CREATE DATABASE …
// TEMPLATE copy of it, dropped when the test ends. The server is the one
// TEST_DATABASE_URL points at (its user needs CREATEDB) or, when that is
// unset, one embedded PostgreSQL shared by every test process of a `go test`
// run: processes coordinate through lock files in a temporary directory, and
// the last one out stops the server and removes it.
//
// Packages using it call Main from TestMain so the shared server is released:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/internal/sqlq"
	"github.com/peykar/peykar/migrations"
)

var (
	once     sync.Once
	shared   *harness
	setupErr error
)

type harness struct {
	adminDSN string // a database on the server to issue CREATE DATABASE from
	template string
	server   *pgserver.Server // nil with TEST_DATABASE_URL
	usersFD  *os.File         // shared lock held while this process uses the server
	dir      string
}

// Main runs the tests and then releases the shared server (stopping it when
// this is the last test process using it).
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.release(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: release:", err)
		}
	}
	os.Exit(code)
}

// NewDSN creates a fresh migrated database for t, dropped when t ends, and
// returns its connection string.
func NewDSN(t testing.TB) string {
	t.Helper()
	h := get(t)
	name := "peykar_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.adminDSN)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, h.template)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, h.adminDSN)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(h.adminDSN, name)
}

// NewPool returns a pool on a fresh migrated database, closed when t ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDSN(t))
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func get(t testing.TB) *harness {
	t.Helper()
	once.Do(func() { shared, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return shared
}

func setup() (*harness, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("peykar-pgtest-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	h := &harness{dir: dir}
	unlock, err := h.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		h.adminDSN = u
	} else {
		if err := removeUnfinished(filepath.Join(dir, "pg", "data")); err != nil {
			return nil, err
		}
		srv, err := pgserver.Start(ctx, pgserver.Config{
			Dir: filepath.Join(dir, "pg"),
			Settings: map[string]string{
				"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
				"max_connections": "400", "shared_buffers": "128MB",
			},
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			return nil, err
		}
		h.server = srv
		h.adminDSN = srv.DSN("postgres")
		// Announce this process as a user of the server until release.
		fd, err := os.OpenFile(filepath.Join(dir, "users.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(fd.Fd()), syscall.LOCK_SH); err != nil {
			return nil, err
		}
		h.usersFD = fd
	}
	if err := h.ensureTemplate(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// removeUnfinished removes a data directory without PG_VERSION: an initdb
// that never finished (its test process was killed, or a stop's removal
// was cut short). initdb refuses a non-empty directory, so every later run
// would fail on it. Called under the control lock, when no server can be
// running on it (a running server's directory has PG_VERSION).
func removeUnfinished(data string) error {
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(data); err != nil {
		return fmt.Errorf("remove unfinished cluster: %w", err)
	}
	return nil
}

// lock takes the exclusive control lock that orders server start, template
// creation and shutdown between test processes.
func (h *harness) lock() (func(), error) {
	fd, err := os.OpenFile(filepath.Join(h.dir, "control.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(fd.Fd()), syscall.LOCK_EX); err != nil {
		fd.Close()
		return nil, err
	}
	return func() { fd.Close() }, nil
}

func (h *harness) ensureTemplate(ctx context.Context) error {
	h.template = "peykar_tmpl_" + migrations.Fingerprint()
	conn, err := pgx.Connect(ctx, h.adminDSN)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", h.template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Templates of other migration sets are left alone: a test process
	// built from other code may be using one right now. They go with the
	// throwaway cluster; on a TEST_DATABASE_URL server they are few and
	// small (drop peykar_tmpl_* by hand if they pile up).
	building := h.template + "_building"
	_, _ = conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(h.adminDSN, building))
	if err != nil {
		return err
	}
	err = migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	for _, q := range []string{
		fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, h.template),
		fmt.Sprintf("ALTER DATABASE %s IS_TEMPLATE true", h.template),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("finish template: %w", err)
		}
	}
	return nil
}

// release drops this process's claim on the shared server and stops it when
// no other test process holds one.
func (h *harness) release() error {
	if h.server == nil {
		return nil
	}
	unlock, err := h.lock()
	if err != nil {
		return err
	}
	defer unlock()
	h.usersFD.Close() // drops our shared lock
	fd, err := os.OpenFile(filepath.Join(h.dir, "users.lock"), os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer fd.Close()
	if err := syscall.Flock(int(fd.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil // another test process is still using the server
	}
	if err := h.server.ForceStop(context.Background()); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(h.dir, "pg"))
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return dsn + " dbname=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CheckQueries prepares every query of a package's sqlq.Set against a fresh
// migrated database: a misspelt column fails the package's tests.
func CheckQueries(t testing.TB, s *sqlq.Set) {
	t.Helper()
	pool := NewPool(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer conn.Release()
	if err := s.Check(ctx, conn.Conn()); err != nil {
		t.Fatal(err)
	}
}
