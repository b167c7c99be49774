package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// proc is a child process of the bench: the SMTP sink.
type proc struct{ benchserve.Proc }

// stop ends the process (SIGTERM, then kill after 20 s).
func (p *proc) stop() {
	if p != nil {
		p.Stop()
	}
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
	return &proc{benchserve.Proc{Cmd: cmd}}, port, err
}

// server is `peykar serve`, built from this checkout (or the binary given
// with -bin), with DATABASE_URL and
// SMTP_URL set, and an admin API token (benchserve.StartPeykar).
type server struct {
	*benchserve.Peykar
	base  string
	token string
}

func startServer(ctx context.Context, dir, bin, dsn string, smtpPort int) (*server, error) {
	if bin == "" {
		var err error
		if bin, err = benchserve.Build(ctx, dir); err != nil {
			return nil, err
		}
	}
	p, err := benchserve.StartPeykar(ctx, bin, dir, dsn, fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=8", smtpPort))
	if err != nil {
		return nil, err
	}
	return &server{Peykar: p, base: p.Base, token: p.Token}, nil
}

// stop ends peykar serve.
func (s *server) stop() {
	if s != nil {
		s.Stop()
	}
}

// cpu is the CPU time peykar serve has used so far.
func (s *server) cpu() time.Duration { return s.CPU() }
