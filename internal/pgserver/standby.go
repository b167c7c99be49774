package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNoBaseBackup is returned by StartStandby when pg_basebackup is not
// installed beside initdb and pg_ctl.
var ErrNoBaseBackup = errors.New("pg_basebackup not found beside initdb and pg_ctl: install the PostgreSQL client binaries of the same version")

// StartStandby makes a streaming standby of primary in cfg.Dir and starts
// it: pg_basebackup -R copies the primary over its Unix socket (with a fast
// checkpoint) and writes standby.signal and primary_conninfo, so the new
// server replays the primary's WAL as it streams in. The primary needs
// wal_level replica and a free WAL sender (PostgreSQL's defaults) and a
// replication entry for local connections (initdb's default with trust).
// A Dir that already holds a cluster is started as it is.
func StartStandby(ctx context.Context, primary *Server, cfg Config) (*Server, error) {
	s, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if !isExec(filepath.Join(s.bin, "pg_basebackup")) {
			return nil, ErrNoBaseBackup
		}
		args := []string{"-D", s.dataDir(), "-R", "-X", "stream", "-c", "fast", "--no-sync",
			"-h", primary.SocketDir(), "-U", "postgres"}
		if err := run(s.command(ctx, "pg_basebackup", args...)); err != nil {
			_ = os.RemoveAll(s.dataDir())
			return nil, fmt.Errorf("pgserver: base backup: %w", err)
		}
	}
	return s.startOrReuse(ctx)
}

// HasBaseBackup reports whether pg_basebackup is installed beside the
// server binaries, so StartStandby can work.
func HasBaseBackup() bool {
	bin, err := FindBinaries()
	return err == nil && isExec(filepath.Join(bin, "pg_basebackup"))
}

// StopImmediate stops the server at once, without a shutdown checkpoint
// (pg_ctl stop -m immediate): what a crash or a pulled cable looks like to
// its clients. Tests use it to take a replica away.
func (s *Server) StopImmediate(ctx context.Context) error {
	s.owned = false
	if err := run(s.command(ctx, "pg_ctl", "stop", "-w", "-m", "immediate", "-D", s.dataDir())); err != nil {
		return fmt.Errorf("pgserver: stop: %w", err)
	}
	return nil
}
