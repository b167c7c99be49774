package main

import (
	"bufio"
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

// proc is a child process of the bench: peykar serve or the SMTP sink.
type proc struct {
	cmd *exec.Cmd
	log *os.File
}

// stop ends the process (SIGTERM, then kill after 20 s).
func (p *proc) stop() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	benchserve.Stop(p.cmd, syscall.SIGTERM, 20*time.Second)
	if p.log != nil {
		_ = p.log.Close()
	}
}

// cpu is the CPU time the process (all its threads) has used so far.
func (p *proc) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// startSink starts this binary as the SMTP sink (-sink file) and returns
// it with its port.
func startSink(file string) (*proc, int, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(self, "-sink", file)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("sink: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, 0, fmt.Errorf("sink port: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	return &proc{cmd: cmd}, port, err
}

// server is `peykar serve`, built from this checkout, with DATABASE_URL and
// SMTP_URL set, and an admin API token.
type server struct {
	proc
	base  string
	token string
}

func startServer(ctx context.Context, dir, dsn string, smtpPort int) (*server, error) {
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
	_ = l.Close()
	env := append(os.Environ(), "DATABASE_URL="+dsn, "PEYKAR_ADDR="+addr, "PEYKAR_DATA_DIR="+filepath.Join(dir, "data"),
		"PEYKAR_SECRET=bench-secret-0123456789abcdefghijklmnopqrstuvwxyz", "PEYKAR_LOG_LEVEL=warn",
		fmt.Sprintf("SMTP_URL=smtp://127.0.0.1:%d?tls=none&pool=8", smtpPort))
	var out bytes.Buffer
	tok := exec.CommandContext(ctx, bin, "token", "create", "--role", "admin", "--name", "bench")
	tok.Env, tok.Stdout, tok.Stderr = env, &out, os.Stderr
	if err := tok.Run(); err != nil {
		return nil, fmt.Errorf("peykar token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	s := &server{base: "http://" + addr, token: strings.TrimSpace(lines[len(lines)-1])}
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
