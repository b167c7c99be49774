package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// loginFrom posts the login form as a browser behind the trusted proxy
// 127.0.0.1 whose client address is xff, and returns the status, the
// Retry-After header and the page.
func loginFrom(t *testing.T, m *Main, xff, email, password string) (int, string, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := client.Get(m.URL() + "/admin/login")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	match := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
	require.NotNil(t, match)
	form := url.Values{"_csrf": {string(match[1])}, "email": {email}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, m.URL()+"/admin/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err = client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// TestAttackerCannotLockOutTheAdmin guesses the admin's password from one
// address until it is refused, and from many addresses once each (more
// failures than used to lock the account for everyone): the attacker's
// address waits, with a Retry-After and a page that says how long, while
// the admin logs in from their own address with the right password.
func TestAttackerCannotLockOutTheAdmin(t *testing.T) {
	t.Parallel()
	m := testMainAt(t, frozenClock, "PEYKAR_TRUSTED_PROXIES", "127.0.0.1/32",
		"PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	const attacker, owner = "203.0.113.66", "198.51.100.7"

	for i := range 5 {
		code, _, _ := loginFrom(t, m, attacker, "admin@example.com", "guess number "+strconv.Itoa(i))
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, wait, page := loginFrom(t, m, attacker, "admin@example.com", "admin password 1")
	require.Equal(t, http.StatusTooManyRequests, code, "the attacker's address waits, right password or not")
	secs, err := strconv.Atoi(wait)
	require.NoError(t, err, "Retry-After %q", wait)
	require.Positive(t, secs)
	require.Contains(t, page, "Wait "+wait+" seconds")

	for i := range 12 {
		code, _, _ = loginFrom(t, m, "192.0.2."+strconv.Itoa(i+1), "admin@example.com", "guess again")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _, _ = loginFrom(t, m, owner, "admin@example.com", "admin password 1")
	require.Equal(t, http.StatusSeeOther, code, "the admin logs in from their own address")
}

// TestLoginBackoffFollowsMainsClock: the login backoff runs on Main.Now, so
// a test decides when a wait is over, not the machine's speed. Refused
// after its free failures, an address is admitted again only once the
// injected clock has moved past the wait.
func TestLoginBackoffFollowsMainsClock(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(frozenClock().Unix())
	m := testMainAt(t, func() time.Time { return time.Unix(now.Load(), 0) },
		"PEYKAR_TRUSTED_PROXIES", "127.0.0.1/32")
	const client = "203.0.113.9"
	for i := range 5 {
		code, _, _ := loginFrom(t, m, client, "nobody@example.com", "guess "+strconv.Itoa(i))
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, wait, _ := loginFrom(t, m, client, "nobody@example.com", "guess again")
	require.Equal(t, http.StatusTooManyRequests, code)
	secs, err := strconv.Atoi(wait)
	require.NoError(t, err, "Retry-After %q", wait)

	now.Add(int64(secs) - 1)
	code, _, _ = loginFrom(t, m, client, "nobody@example.com", "guess again")
	require.Equal(t, http.StatusTooManyRequests, code, "a second before the wait ends")
	now.Add(1)
	code, _, _ = loginFrom(t, m, client, "nobody@example.com", "guess again")
	require.Equal(t, http.StatusUnauthorized, code, "admitted (and judged) once the clock has passed the wait")
}
