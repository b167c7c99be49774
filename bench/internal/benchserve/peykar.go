package benchserve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/peykar/peykar/internal/proccpu"
)

// Proc is a child process of a benchmark: `peykar serve`, an SMTP sink.
type Proc struct {
	Cmd *exec.Cmd
	Log *os.File
}

// Stop ends the process (SIGTERM, then kill after 20 s).
func (p *Proc) Stop() {
	if p == nil || p.Cmd == nil || p.Cmd.Process == nil {
		return
	}
	Stop(p.Cmd, syscall.SIGTERM, 20*time.Second)
	if p.Log != nil {
		_ = p.Log.Close()
	}
}

// CPU is the CPU time the process (all its threads) has used so far.
func (p *Proc) CPU() time.Duration { return PidCPU(p.Cmd.Process.Pid) }

// PeakRSS is the process's peak resident set size in MB (VmHWM).
func (p *Proc) PeakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
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

// PidCPU is the user+system CPU time process pid has used so far (0
// when it cannot be read).
func PidCPU(pid int) time.Duration {
	st, err := proccpu.Stat(pid)
	if err != nil {
		return 0
	}
	return st.CPU()
}

// Build builds ./cmd/peykar from the current checkout into dir.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "peykar")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/peykar")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build peykar: %w", err)
	}
	return bin, nil
}

// Peykar is `peykar serve` run as its own process, with an admin API token.
type Peykar struct {
	Proc
	Bin, Base, Token string
	// Env is the environment it runs with (DATABASE_URL, SMTP_URL, …), for
	// other peykar commands (import) against the same database.
	Env  []string
	http *http.Client
}

// StartPeykar starts bin serve on a free loopback port against dsn, sending
// through smtpURL (none: peykar's in-process Outbox), with a working directory under dir and extra environment
// variables, and waits until it answers ready.
func StartPeykar(ctx context.Context, bin, dir, dsn, smtpURL string, extra ...string) (*Peykar, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	env := append(os.Environ(), "DATABASE_URL="+dsn, "PEYKAR_ADDR="+addr, "PEYKAR_DATA_DIR="+filepath.Join(dir, "data"),
		"PEYKAR_SECRET=bench-secret-0123456789abcdefghijklmnopqrstuvwxyz", "PEYKAR_LOG_LEVEL=warn")
	if smtpURL != "" {
		env = append(env, "SMTP_URL="+smtpURL)
	}
	env = append(env, extra...)
	p := &Peykar{Bin: bin, Base: "http://" + addr, Env: env,
		http: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	out, err := p.Run(ctx, "token", "create", "--role", "admin", "--name", "bench")
	if err != nil {
		return nil, fmt.Errorf("peykar token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	p.Token = strings.TrimSpace(lines[len(lines)-1])
	if p.Log, err = os.Create(filepath.Join(dir, "serve.log")); err != nil {
		return nil, err
	}
	p.Cmd = exec.Command(bin, "serve")
	p.Cmd.Env, p.Cmd.Stdout, p.Cmd.Stderr = env, p.Log, p.Log
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("peykar serve: %w", err)
	}
	if err := WaitReady(p.Base, 2*time.Minute); err != nil {
		p.Stop()
		return nil, fmt.Errorf("peykar serve: %w (log: %s)", err, p.Log.Name())
	}
	return p, nil
}

// Run runs `peykar args…` with the server's environment and returns its
// standard output; its standard error goes to the benchmark's.
func (p *Peykar) Run(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := p.Command(ctx, args...)
	cmd.Stdout = &out
	err := cmd.Run()
	return out.String(), err
}

// Command is `peykar args…` with the server's environment, its standard
// error going to the benchmark's.
func (p *Peykar) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.Bin, args...)
	cmd.Env, cmd.Stderr = p.Env, os.Stderr
	return cmd
}

// Call sends body as JSON to the API path (under /api/v1) with the token
// and decodes a JSON answer into out (may be nil). An answer of 300 or more
// is an error carrying its body.
func (p *Peykar) Call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.Base+"/api/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.Token)
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Launch builds peykar into a new temporary directory and starts it there
// (StartPeykar); stop ends the server and removes the directory.
func Launch(ctx context.Context, dsn, smtpURL string, extra ...string) (p *Peykar, stop func(), err error) {
	dir, err := os.MkdirTemp("", "pkbench")
	if err != nil {
		return nil, nil, err
	}
	bin, err := Build(ctx, dir)
	if err == nil {
		p, err = StartPeykar(ctx, bin, dir, dsn, smtpURL, extra...)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return p, func() { p.Stop(); _ = os.RemoveAll(dir) }, nil
}
