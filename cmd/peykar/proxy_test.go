package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loginAttempts posts failed logins to m from the TCP peer 127.0.0.1, each
// with X-Forwarded-For xff(i) and a different account (so only the per-IP
// limit can bite), and returns the statuses.
func loginAttempts(t *testing.T, m *Main, n int, xff func(i int) string) []int {
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
	var codes []int
	for i := range n {
		form := url.Values{"_csrf": {string(match[1])}, "email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"not the password"}}
		req, err := http.NewRequest(http.MethodPost, m.URL()+"/admin/login", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff(i))
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes
}

// TestForwardedForFromUntrustedPeerIgnored: a client that is not a trusted
// proxy cannot dodge the per-IP login limit by forging X-Forwarded-For.
func TestForwardedForFromUntrustedPeerIgnored(t *testing.T) {
	t.Parallel()
	for _, proxies := range []string{"", "10.0.0.0/8, 192.168.1.1"} {
		m := testMainAt(t, frozenClock, "PEYKAR_TRUSTED_PROXIES", proxies)
		codes := loginAttempts(t, m, 21, func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) })
		require.Equal(t, http.StatusUnauthorized, codes[0], "proxies %q", proxies)
		require.Equal(t, http.StatusTooManyRequests, codes[20], "proxies %q: every attempt counts against 127.0.0.1", proxies)
	}
}

// TestForwardedForFromTrustedProxyUsed: behind a trusted proxy each client
// has its own limit, taken from X-Forwarded-For.
func TestForwardedForFromTrustedProxyUsed(t *testing.T) {
	t.Parallel()
	m := testMainAt(t, frozenClock, "PEYKAR_TRUSTED_PROXIES", "127.0.0.1/32")
	codes := loginAttempts(t, m, 22, func(i int) string {
		if i == 21 {
			return "203.0.113.8" // another client behind the proxy
		}
		return "203.0.113.7, 127.0.0.1" // the client, then a trusted hop
	})
	require.Equal(t, http.StatusUnauthorized, codes[0])
	require.Equal(t, http.StatusTooManyRequests, codes[20], "the limit applies to 203.0.113.7")
	require.Equal(t, http.StatusUnauthorized, codes[21], "203.0.113.8 has its own limit")
}

func TestTrustedProxiesValidated(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8,,nonsense"} {
		_, _, err := LoadConfig(nil, func(k string) string {
			return map[string]string{"PEYKAR_TRUSTED_PROXIES": bad}[k]
		}, io.Discard)
		require.ErrorContains(t, err, "PEYKAR_TRUSTED_PROXIES", bad)
	}
	cfg, _, err := LoadConfig([]string{"--trusted-proxies", "10.0.0.0/8, ::1"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.proxies, 2)
}
