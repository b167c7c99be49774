package pgserver_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/pgserver"
)

// rootWithPostgres skips unless the test runs as root with the server
// binaries and a postgres user: only then does the cluster run as another
// user who may be unable to reach the data directory.
func rootWithPostgres(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only meaningful as root: a non-root caller runs PostgreSQL as itself")
	}
	if _, err := pgserver.FindBinaries(); err != nil {
		t.Skip(err)
	}
	if _, err := user.Lookup("postgres"); err != nil {
		t.Skip("no postgres user")
	}
}

// openDir returns a new directory that everyone may traverse (a stand-in
// for /var/lib), removed when t ends.
func openDir(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStartsFromAHomeThePostgresUserCannotReach is a newcomer's first
// command as root in a checkout under root's home (mode 0700 on Debian):
// the cluster is kept where the postgres user can reach it, the data
// directory links to it, the log says where, and the home stays closed.
func TestStartsFromAHomeThePostgresUserCannotReach(t *testing.T) {
	rootWithPostgres(t)
	ctx := context.Background()
	home := openDir(t, "home")
	require.NoError(t, os.Chmod(home, 0o700))
	fallback := filepath.Join(openDir(t, "varlib"), "peykar")
	dataDir := filepath.Join(home, "peykar", "data", "pg")
	var logs logBuffer
	cfg := pgserver.Config{Dir: dataDir, FallbackDir: fallback, Settings: map[string]string{"fsync": "off"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	srv, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.ForceStop(ctx) })
	require.True(t, strings.HasPrefix(srv.Dir(), fallback+"/pg-"), srv.Dir())
	conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
	require.NoError(t, err)
	conn.Close(ctx)
	link, err := os.Readlink(dataDir)
	require.NoError(t, err, "the data directory links to the cluster")
	require.Equal(t, srv.Dir(), link)
	require.Contains(t, logs.String(), "cluster="+srv.Dir(), "the log says where the cluster is")
	require.Contains(t, logs.String(), "closed=\""+home+" (mode 0700)\"", "and why")
	st, err := os.Stat(home)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "the home is not opened up")

	// The next start (serve again, or a subcommand) finds the same cluster.
	require.NoError(t, srv.Stop(ctx))
	again, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, srv.Dir(), again.Dir())
	require.True(t, again.Owned())
	require.NoError(t, again.Stop(ctx))
}

// TestUnreachableClusterSaysWhatToDo: a cluster already in a closed
// directory is not moved behind the operator's back, and a fallback that
// cannot be used either leaves the start failing with the fix spelled out.
func TestUnreachableClusterSaysWhatToDo(t *testing.T) {
	rootWithPostgres(t)
	ctx := context.Background()
	home := openDir(t, "home")
	require.NoError(t, os.Chmod(home, 0o700))
	quiet := slog.New(slog.DiscardHandler)

	dataDir := filepath.Join(home, "peykar", "data", "pg")
	_, err := pgserver.Start(ctx, pgserver.Config{Dir: dataDir, FallbackDir: filepath.Join(home, "fallback"), Logger: quiet})
	require.ErrorContains(t, err, "cannot reach "+dataDir+" because "+home+" (mode 0700) is closed to it")
	require.ErrorContains(t, err, "set PEYKAR_DATA_DIR to a directory the postgres user can reach")
	require.ErrorContains(t, err, "chmod o+x "+home)

	existing := filepath.Join(home, "old", "pg")
	require.NoError(t, os.MkdirAll(filepath.Join(existing, "data"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(existing, "data", "PG_VERSION"), []byte("15\n"), 0o600))
	_, err = pgserver.Start(ctx, pgserver.Config{Dir: existing, FallbackDir: openDir(t, "varlib"), Logger: quiet})
	require.ErrorContains(t, err, "cannot reach the cluster in "+existing)
	require.ErrorContains(t, err, "chmod o+x "+home)
	require.FileExists(t, filepath.Join(existing, "data", "PG_VERSION"), "left where it is")
}
