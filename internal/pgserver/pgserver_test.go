package pgserver_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/pgserver"
)

func TestStartReuseStop(t *testing.T) {
	if _, err := pgserver.FindBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgs")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := pgserver.Config{Dir: filepath.Join(dir, "pg"), Settings: map[string]string{"fsync": "off"}, Logger: slog.New(slog.DiscardHandler)}

	first, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	require.True(t, first.Owned())
	t.Cleanup(func() { _ = first.ForceStop(ctx) })
	require.FileExists(t, filepath.Join(first.SocketDir(), ".s.PGSQL.5432"), "listens on a Unix socket in its directory")

	conn, err := pgx.Connect(ctx, first.DSN("postgres"))
	require.NoError(t, err)
	var listen string
	require.NoError(t, conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen))
	require.Empty(t, listen, "no TCP port")
	conn.Close(ctx)

	// A second Start on a running cluster reuses it and does not own it.
	second, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	require.False(t, second.Owned())
	require.NoError(t, second.Stop(ctx))
	conn, err = pgx.Connect(ctx, first.DSN("postgres"))
	require.NoError(t, err, "the reusing process's Stop leaves the server up")
	conn.Close(ctx)

	require.NoError(t, first.Stop(ctx))
	_, err = pgx.Connect(ctx, first.DSN("postgres"))
	require.Error(t, err, "stopped")
	require.NoFileExists(t, filepath.Join(cfg.Dir, "data", "postmaster.pid"))

	// Restart reuses the initialised cluster.
	again, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	require.True(t, again.Owned())
	require.NoError(t, again.Stop(ctx))
}
