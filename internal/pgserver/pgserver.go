// Package pgserver runs a private PostgreSQL cluster from the machine's server
// binaries: the embedded default of `peykar serve` and the server the test
// harness shares between test processes.
//
// The cluster listens on a Unix socket only (no TCP port to collide with).
// initdb and postgres refuse to run as root, so when the caller is root the
// cluster is owned by, and run as, an unprivileged system user (postgres);
// when that user cannot reach the data directory (a checkout in root's
// home), the cluster is kept under /var/lib/peykar instead, linked from it.
package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned by FindBinaries when no PostgreSQL server
// binaries are installed.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under /usr/lib/postgresql/*/bin: install them (apt-get install postgresql) or set DATABASE_URL to an existing server")

// maxSocketPath is the longest Unix socket path PostgreSQL accepts
// (sizeof(sun_path) is 108, including the terminating NUL).
const maxSocketPath = 107

// Config describes a cluster.
type Config struct {
	// Dir holds the cluster: data files in Dir/data, the log in Dir/postgres.log.
	// Required.
	Dir string
	// SocketDir is where the server's Unix socket lives. Defaults to Dir, or to
	// a short directory under os.TempDir() when Dir is too long for a socket path.
	SocketDir string
	// Settings are extra server settings (name → value) passed with -c,
	// e.g. {"fsync": "off"} for throwaway test clusters.
	Settings map[string]string
	// Logger receives progress messages. Defaults to slog.Default().
	Logger *slog.Logger
	// FallbackDir is where the cluster goes when the process runs as root
	// and the postgres user cannot reach Dir (a checkout in root's home,
	// mode 0700): FallbackDir/pg-<hash of Dir>, with Dir made a link to it.
	// Defaults to DefaultFallbackDir.
	FallbackDir string
}

// Server is a running (or reused) cluster.
type Server struct {
	cfg   Config
	bin   string
	cred  *syscall.Credential
	owned bool // we started it, so Stop stops it
}

// FindBinaries returns the directory holding initdb and pg_ctl: PATH first,
// then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExec(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initialises the cluster when Dir holds none, and starts it unless a
// server is already running on it, in which case that server is reused and
// Stop leaves it alone.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := s.initdb(ctx); err != nil {
			return nil, err
		}
	}
	return s.startOrReuse(ctx)
}

// prepare resolves cfg into a Server whose directories exist and belong
// to the user the server runs as; it creates no cluster.
func prepare(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pgserver: Dir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	cfg.Dir = dir
	if cfg.FallbackDir == "" {
		cfg.FallbackDir = DefaultFallbackDir
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, bin: bin}
	if err := s.resolveLink(ctx); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		cred, err := unprivilegedUser()
		if err != nil {
			return nil, err
		}
		s.cred = cred
		if err := s.ensureReachable(ctx); err != nil {
			return nil, err
		}
	}
	s.defaultSocketDir()
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	return s, nil
}

// startOrReuse starts the cluster unless a server already runs on it.
func (s *Server) startOrReuse(ctx context.Context) (*Server, error) {
	if s.running(ctx) {
		s.cfg.Logger.InfoContext(ctx, "reusing running PostgreSQL", slog.String("dir", s.dataDir()))
		return s, nil
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

func unprivilegedUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgserver: running as root, PostgreSQL must run as an unprivileged user but user %q does not exist (apt-get install postgresql creates it, or useradd --system postgres): %w", "postgres", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.cfg.Dir, "data") }
func (s *Server) logFile() string { return filepath.Join(s.cfg.Dir, "postgres.log") }

// Dir returns the cluster directory.
func (s *Server) Dir() string { return s.cfg.Dir }

// SocketDir returns the directory of the server's Unix socket.
func (s *Server) SocketDir() string { return s.cfg.SocketDir }

// Owned reports whether this process started the server (and Stop stops it).
func (s *Server) Owned() bool { return s.owned }

// DSN returns a connection string for database db as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&sslmode=disable", db, s.cfg.SocketDir)
}

// defaultSocketDir puts the socket in Dir, or under os.TempDir() when Dir
// is too long for a socket path.
func (s *Server) defaultSocketDir() {
	if s.cfg.SocketDir != "" {
		return
	}
	s.cfg.SocketDir = s.cfg.Dir
	if len(filepath.Join(s.cfg.Dir, ".s.PGSQL.5432")) > maxSocketPath {
		s.cfg.SocketDir = filepath.Join(os.TempDir(), fmt.Sprintf("peykar-pg-%x", hashString(s.cfg.Dir)))
	}
}

func (s *Server) prepareDirs() error {
	for _, d := range []string{s.cfg.Dir, s.cfg.SocketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgserver: create %s: %w", d, err)
		}
		if s.cred != nil {
			if err := chownTree(d, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fmt.Errorf("pgserver: give %s to the postgres user: %w", d, err)
			}
		}
	}
	return nil
}

// chownTree hands dir to uid:gid. The data directory itself is walked only
// when its top is not owned yet, so a large existing cluster costs nothing.
func chownTree(dir string, uid, gid int) error {
	if st, err := os.Stat(dir); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == uid {
			return nil
		}
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.Dir = s.cfg.Dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (s *Server) initdb(ctx context.Context) error {
	s.cfg.Logger.InfoContext(ctx, "initialising PostgreSQL cluster", slog.String("dir", s.dataDir()))
	args := []string{"-D", s.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if s.cfg.Settings["fsync"] == "off" {
		args = append(args, "--no-sync")
	}
	if err := run(s.command(ctx, "initdb", args...)); err != nil {
		_ = os.RemoveAll(s.dataDir()) // a half-made cluster would block the next try
		return fmt.Errorf("pgserver: initdb: %w", err)
	}
	return nil
}

func (s *Server) running(ctx context.Context) bool {
	return s.command(ctx, "pg_ctl", "status", "-D", s.dataDir()).Run() == nil
}

func (s *Server) start(ctx context.Context) error {
	opts := []string{"-c listen_addresses=''", "-c unix_socket_directories='" + s.cfg.SocketDir + "'"}
	keys := make([]string, 0, len(s.cfg.Settings))
	for k := range s.cfg.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opts = append(opts, fmt.Sprintf("-c %s=%s", k, s.cfg.Settings[k]))
	}
	s.cfg.Logger.InfoContext(ctx, "starting PostgreSQL", slog.String("dir", s.dataDir()), slog.String("socket", s.cfg.SocketDir))
	err := run(s.command(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", s.dataDir(), "-l", s.logFile(), "-o", strings.Join(opts, " ")))
	if err != nil {
		return fmt.Errorf("pgserver: start (log: %s): %w%s", s.logFile(), err, s.logTail())
	}
	return nil
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logFile())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n" + string(b)
}

// Stop stops the server if this process started it. It waits for active
// sessions to end for at most timeout, then stops fast.
func (s *Server) Stop(ctx context.Context) error {
	if s == nil || !s.owned {
		return nil
	}
	s.owned = false
	return s.stop(ctx)
}

// ForceStop stops the server whoever started it.
func (s *Server) ForceStop(ctx context.Context) error {
	s.owned = false
	return s.stop(ctx)
}

func (s *Server) stop(ctx context.Context) error {
	if ctx.Err() != nil { // shutting down on a cancelled context must still stop the server
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
	}
	if err := run(s.command(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", s.dataDir())); err != nil {
		return fmt.Errorf("pgserver: stop: %w", err)
	}
	return nil
}

func hashString(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
