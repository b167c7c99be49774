package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// server is a peykar process started from a freshly built binary, as users
// run it: `peykar serve` with DATABASE_URL and SMTP_URL.
type server struct {
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	token string // a marketer API token
	admin string // an admin API token (marks the template transactional)
	log   *os.File
}

// startServer builds ./cmd/peykar into dir, creates API tokens with
// `peykar token create` and starts `peykar serve` on a free loopback port,
// waiting for /readyz.
func startServer(ctx context.Context, dir, dsn, smtpURL string) (*server, error) {
	bin := filepath.Join(dir, "peykar")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/peykar")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build peykar: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{base: "http://" + addr}
	env := append(os.Environ(), "DATABASE_URL="+dsn, "PEYKAR_ADDR="+addr, "PEYKAR_DATA_DIR="+filepath.Join(dir, "data"),
		"SMTP_URL="+smtpURL, "PEYKAR_FROM=Shop <shop@shop.example>",
		"PEYKAR_SECRET=bench-secret-0123456789abcdefghijklmnopqrstuvwxyz", "PEYKAR_LOG_LEVEL=warn")
	for _, t := range []struct {
		role string
		out  *string
	}{{"marketer", &s.token}, {"admin", &s.admin}} {
		var out bytes.Buffer
		tok := exec.CommandContext(ctx, bin, "token", "create", "--role", t.role, "--name", "bench-"+t.role)
		tok.Env, tok.Stdout, tok.Stderr = env, &out, os.Stderr
		if err := tok.Run(); err != nil {
			return nil, fmt.Errorf("peykar token create: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		*t.out = strings.TrimSpace(lines[len(lines)-1])
	}
	if s.log, err = os.Create(filepath.Join(dir, "serve.log")); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, s.log, s.log
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

// procStat reads a process's CPU time so far and peak RSS in MB.
func procStat(pid int) (cpu time.Duration, peakMB float64) {
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) >= 13 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			cpu = time.Duration(u+st) * 10 * time.Millisecond
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var kb float64
			if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kb); err == nil {
				peakMB = kb / 1024
			}
		}
	}
	return cpu, peakMB
}
