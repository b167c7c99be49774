package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// server is a peykar process started from a freshly built binary, as users
// run it: `peykar serve` with DATABASE_URL and SMTP_URL.
type server struct {
	*benchserve.Peykar
	base  string // http://127.0.0.1:port
	token string // a marketer API token
	admin string // an admin API token (marks the template transactional)
}

// startServer builds ./cmd/peykar into dir and starts `peykar serve` on a
// free loopback port (benchserve.StartPeykar, which creates the admin
// token), then creates a marketer token for the messages API.
func startServer(ctx context.Context, dir, dsn, smtpURL string) (*server, error) {
	bin, err := benchserve.Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	p, err := benchserve.StartPeykar(ctx, bin, dir, dsn, smtpURL, "PEYKAR_FROM=Shop <shop@shop.example>")
	if err != nil {
		return nil, err
	}
	out, err := p.Run(ctx, "token", "create", "--role", "marketer", "--name", "bench-marketer")
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("peykar token create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return &server{Peykar: p, base: p.Base, token: strings.TrimSpace(lines[len(lines)-1]), admin: p.Token}, nil
}

// stop ends the server process.
func (s *server) stop() { s.Stop() }
