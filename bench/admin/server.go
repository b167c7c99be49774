package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// server is a peykar process started from a freshly built binary, as users
// run it: `peykar serve` with DATABASE_URL.
type server struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	token string // an admin API token
	env   []string
	log   *os.File
}

const (
	adminEmail    = "bench@example.com"
	adminPassword = "bench-password-123456"
)

// startServer builds ./cmd/peykar into dir, creates an admin API token
// with `peykar token create` and starts `peykar serve` on a free loopback
// port, waiting for /readyz.
func startServer(ctx context.Context, dir, dsn string) (*server, error) {
	bin := filepath.Join(dir, "peykar")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/peykar")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build peykar: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr}
	s.env = append(os.Environ(), "DATABASE_URL="+dsn, "PEYKAR_ADDR="+addr, "PEYKAR_DATA_DIR="+filepath.Join(dir, "data"),
		"PEYKAR_SECRET=bench-secret-0123456789abcdefghijklmnopqrstuvwxyz", "PEYKAR_LOG_LEVEL=warn",
		"PEYKAR_ADMIN_EMAIL="+adminEmail, "PEYKAR_ADMIN_PASSWORD="+adminPassword)

	var out bytes.Buffer
	tok := exec.CommandContext(ctx, bin, "token", "create", "--role", "admin", "--name", "bench")
	tok.Env, tok.Stdout, tok.Stderr = s.env, &out, os.Stderr
	if err := tok.Run(); err != nil {
		return nil, fmt.Errorf("peykar token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	s.token = strings.TrimSpace(lines[len(lines)-1])

	if s.log, err = os.Create(filepath.Join(dir, "serve.log")); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, s.log, s.log
	// The server goes with the bench, even when the bench is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("peykar serve: %w", err)
	}
	if err := benchserve.WaitReady(s.base, 2*time.Minute); err != nil {
		s.stop()
		return nil, fmt.Errorf("peykar serve: %w (log: %s)", err, s.log.Name())
	}
	return s, nil
}

// stop ends the server process (SIGINT, then kill after 10 s).
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	benchserve.Stop(s.cmd, os.Interrupt, 10*time.Second)
	_ = s.log.Close()
}

// peakRSS is the server process's peak resident set size in MB (VmHWM).
func (s *server) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb float64
		if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kb); err == nil {
			return kb / 1024
		}
	}
	return 0
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login returns an HTTP client holding a logged-in session of the admin,
// got through the login form as a browser would.
func (s *server) login(ctx context.Context) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The first visit sets the visitor cookie the form's token is bound to.
	var m []string
	for range 2 {
		_, body, err := get(ctx, c, s.base+"/admin/login", "")
		if err != nil {
			return nil, err
		}
		m = csrfField.FindStringSubmatch(body)
	}
	if m == nil {
		return nil, errors.New("login page without a CSRF field")
	}
	form := url.Values{"email": {adminEmail}, "password": {adminPassword}, "_csrf": {m[1]}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/admin/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("login: status %d", resp.StatusCode)
	}
	code, _, err := get(ctx, c, s.base+"/admin", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /admin after login: status %d", code)
	}
	return c, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// settle waits until the server's start-up jobs have finished (the
// analytics recompute runs on start, once the process is River's leader),
// so they do not share the machine with the timed requests.
func settle(ctx context.Context, pool *pgxpool.Pool) error {
	t0 := time.Now()
	deadline := t0.Add(10 * time.Minute)
	for {
		var pending, recomputed int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('available', 'running', 'retryable') AND scheduled_at <= now()),
				count(*) FILTER (WHERE kind = 'analytics_recompute' AND state = 'completed')
			FROM river_job`).Scan(&pending, &recomputed); err != nil {
			return fmt.Errorf("pending jobs: %w", err)
		}
		if pending == 0 && recomputed > 0 {
			fmt.Printf("server's start-up jobs finished %s after it was ready\n", time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still pending after 10 minutes", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
