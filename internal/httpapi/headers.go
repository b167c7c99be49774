package httpapi

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// Headers are the policy headers of one class of responses.
type Headers struct {
	// CSP is the Content-Security-Policy.
	CSP string
	// Referrer is the Referrer-Policy.
	Referrer string
}

// HeaderRule gives the responses under Prefix (the path itself, or a
// path below it: /t matches /t/c/x, not /tx) their own Headers.
type HeaderRule struct {
	Prefix string
	Headers
}

// SecurityConfig says which security headers responses carry.
type SecurityConfig struct {
	// HSTS adds Strict-Transport-Security; set it when the public base URL
	// is https (browsers ignore the header over plain http).
	HSTS bool
	// Rules are tried in order; the first whose Prefix matches the request
	// path wins.
	Rules []HeaderRule
	// Default are the headers of a request no rule matches.
	Default Headers
}

// HSTSValue is the Strict-Transport-Security header sent with HSTS: one
// year, this host only (subdomains may be served by others).
const HSTSValue = "max-age=31536000"

// SecurityHeaders sets, on every response, X-Content-Type-Options: nosniff,
// the Content-Security-Policy and Referrer-Policy of the first matching
// rule (or the default) and, with HSTS, Strict-Transport-Security. They are
// set before the handler runs, so they also cover error answers, and a
// handler that serves something the rule cannot foresee (an email's HTML in
// a sandbox, a third-party viewer) may replace the policy for its response.
func SecurityHeaders(cfg SecurityConfig) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			p := cfg.match(c.Request().URL.Path)
			h.Set("X-Content-Type-Options", "nosniff")
			if p.CSP != "" {
				h.Set("Content-Security-Policy", p.CSP)
			}
			if p.Referrer != "" {
				h.Set("Referrer-Policy", p.Referrer)
			}
			if cfg.HSTS {
				h.Set("Strict-Transport-Security", HSTSValue)
			}
			return next(c)
		}
	}
}

func (cfg SecurityConfig) match(path string) Headers {
	for _, r := range cfg.Rules {
		if path == r.Prefix || strings.HasPrefix(path, strings.TrimSuffix(r.Prefix, "/")+"/") {
			return r.Headers
		}
	}
	return cfg.Default
}
