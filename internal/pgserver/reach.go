package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultFallbackDir is where a root-run cluster goes when the postgres
// user cannot reach Config.Dir.
const DefaultFallbackDir = "/var/lib/peykar"

// resolveLink follows Dir when an earlier start replaced it with a link to
// the cluster's real place (see relocate).
func (s *Server) resolveLink(ctx context.Context) error {
	st, err := os.Lstat(s.cfg.Dir)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	real, err := filepath.EvalSymlinks(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("pgserver: %s links to a cluster that is not there (%w): remove the link to start a new cluster", s.cfg.Dir, err)
	}
	s.cfg.Logger.InfoContext(ctx, "PostgreSQL cluster is kept elsewhere", slog.String("dir", s.cfg.Dir), slog.String("cluster", real))
	s.cfg.Dir = real
	return nil
}

// ensureReachable makes sure the postgres user can reach Dir. The parent
// of Dir (PEYKAR_DATA_DIR, ours) is made traversable; a directory above it
// that the postgres user may not search (root's home is mode 0700 on
// Debian) is not changed: the cluster moves to FallbackDir instead.
func (s *Server) ensureReachable(ctx context.Context) error {
	parent := filepath.Dir(s.cfg.Dir)
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return fmt.Errorf("pgserver: create %s: %w", parent, err)
	}
	blocked, err := firstBlocked(filepath.Dir(parent), s.cred)
	if err != nil {
		return err
	}
	if blocked != "" {
		return s.relocate(ctx, blocked)
	}
	if st, err := os.Stat(parent); err == nil && st.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(parent, st.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("pgserver: make %s traversable for the postgres user: %w", parent, err)
		}
	}
	return nil
}

// relocate puts the cluster in FallbackDir/pg-<hash of Dir>, where the
// postgres user can reach it, and replaces Dir with a link to it, so every
// later start (and every subcommand) finds the same cluster.
func (s *Server) relocate(ctx context.Context, blocked string) error {
	dir := s.cfg.Dir
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err == nil {
		return fmt.Errorf("pgserver: PostgreSQL runs as user postgres, which cannot reach the cluster in %s because %s is closed to it: "+
			"run `chmod o+x %s`, or move %s to a directory the postgres user can reach and link it back", dir, describe(blocked), blocked, dir)
	}
	target := filepath.Join(s.cfg.FallbackDir, fmt.Sprintf("pg-%08x", hashString(dir)))
	if err := os.MkdirAll(s.cfg.FallbackDir, 0o755); err != nil {
		return cannotReach(dir, blocked, fmt.Errorf("create %s: %w", s.cfg.FallbackDir, err))
	}
	if b, err := firstBlocked(s.cfg.FallbackDir, s.cred); err != nil || b != "" {
		return cannotReach(dir, blocked, fmt.Errorf("%s is not reachable either (%s)", s.cfg.FallbackDir, describe(b)))
	}
	if err := removeEmpty(dir); err != nil {
		return cannotReach(dir, blocked, err)
	}
	if err := os.Symlink(target, dir); err != nil {
		return cannotReach(dir, blocked, fmt.Errorf("link %s to %s: %w", dir, target, err))
	}
	s.cfg.Logger.WarnContext(ctx, "the postgres user cannot reach the data directory; the PostgreSQL cluster is kept where it can, linked from the data directory",
		slog.String("data_dir", dir), slog.String("closed", describe(blocked)), slog.String("cluster", target))
	s.cfg.Dir = target
	return nil
}

// removeEmpty removes dir if it is an empty directory (left by a failed
// start); anything else in the way is an error.
func removeEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s holds files but no cluster: move them away", dir)
	}
	return os.Remove(dir)
}

func cannotReach(dir, blocked string, why error) error {
	return fmt.Errorf("pgserver: PostgreSQL runs as user postgres, which cannot reach %s because %s is closed to it, "+
		"and the cluster cannot be kept elsewhere (%w): set PEYKAR_DATA_DIR to a directory the postgres user can reach (e.g. /var/lib/peykar), "+
		"run `chmod o+x %s`, or set DATABASE_URL", dir, describe(blocked), why, blocked)
}

func describe(dir string) string {
	st, err := os.Stat(dir)
	if err != nil {
		return dir
	}
	return fmt.Sprintf("%s (mode %04o)", dir, st.Mode().Perm())
}

// firstBlocked returns the first directory from / down to dir (inclusive)
// that the user of cred may not search, or "" when it can reach dir.
// Directories that do not exist yet are not checked. The check reads the
// permission bits for the process's uid and primary gid, which is what a
// process started with cred has (it gets no supplementary groups).
func firstBlocked(dir string, cred *syscall.Credential) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pgserver: %w", err)
	}
	var chain []string
	for d := abs; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		st, err := os.Stat(chain[i])
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("pgserver: %w", err)
		}
		if !canSearch(st, cred) {
			return chain[i], nil
		}
	}
	return "", nil
}

func canSearch(st fs.FileInfo, cred *syscall.Credential) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := st.Mode().Perm()
	switch {
	case sys.Uid == cred.Uid:
		return perm&0o100 != 0
	case sys.Gid == cred.Gid:
		return perm&0o010 != 0
	}
	return perm&0o001 != 0
}
