package httpapi

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// Redacted replaces a secret in a logged URI.
const Redacted = "[redacted]"

// secretShape is how Peykar's own secrets look (a short prefix, an
// underscore and 32 random bytes in URL-safe base64: setup links, API
// tokens), so they are recognised wherever they appear in a URL, even on a
// path no route matched.
var secretShape = regexp.MustCompile(`^[a-z]{2,10}_[A-Za-z0-9_-]{43,}$`)

// sensitiveName reports whether a route parameter or query key names a
// secret (token=, :token, secret=, password=, …).
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "passwd", "signature", "api_key", "apikey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return n == "sig"
}

// RedactURI returns uri (a request URI: path and optional query) with its
// secrets replaced by [redacted]: the values of route parameters and query
// keys that name a secret (token, secret, password, …) and any path segment
// or query value shaped like a Peykar secret. The access log and the error
// log write URIs through it, so a one-time setup link or a token in a URL
// never reaches a log line.
func RedactURI(c echo.Context, uri string) string {
	path, query, hasQuery := strings.Cut(uri, "?")
	path = redactPath(c.Path(), path)
	if !hasQuery {
		return path
	}
	return path + "?" + redactQuery(query)
}

// redactPath redacts the segments of path that route (the matched pattern,
// such as /admin/setup/:token) binds to a sensitive parameter, and every
// segment shaped like a secret.
func redactPath(route, path string) string {
	pattern := strings.Split(route, "/")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		sensitive := i < len(pattern) && strings.HasPrefix(pattern[i], ":") && sensitiveName(pattern[i][1:])
		if s != "" && (sensitive || looksSecret(s)) {
			segs[i] = Redacted
		}
	}
	return strings.Join(segs, "/")
}

// redactQuery redacts the values of sensitive keys and secret-shaped values
// of a raw query, leaving the rest as sent.
func redactQuery(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, v, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if hasValue && v != "" && (sensitiveName(key) || looksSecret(v)) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

func looksSecret(s string) bool {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return secretShape.MatchString(s)
}
