package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// server is a peykar process started from a freshly built binary, as users
// run it: `peykar serve` with DATABASE_URL (benchserve.StartPeykar).
type server struct {
	*benchserve.Peykar
	base  string // http://127.0.0.1:port
	token string // an admin API token
	env   []string
}

const (
	adminEmail    = "bench@example.com"
	adminPassword = "bench-password-123456"
)

// startServer builds ./cmd/peykar into dir, creates an admin API token
// and starts `peykar serve` on a free loopback port, waiting for /readyz.
func startServer(ctx context.Context, dir, dsn string) (*server, error) {
	bin, err := benchserve.Build(ctx, dir)
	if err != nil {
		return nil, err
	}
	p, err := benchserve.StartPeykar(ctx, bin, dir, dsn, "", "PEYKAR_ADMIN_EMAIL="+adminEmail, "PEYKAR_ADMIN_PASSWORD="+adminPassword)
	if err != nil {
		return nil, err
	}
	return &server{Peykar: p, base: p.Base, token: p.Token, env: p.Env}, nil
}

// stop ends the server process.
func (s *server) stop() { s.Stop() }

// peakRSS is the server process's peak resident set size in MB (VmHWM).
func (s *server) peakRSS() float64 { return s.PeakRSS() }

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
