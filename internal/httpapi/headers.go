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
	rules, def := cfg.compile()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			vs := match(rules, def, c.Request().URL.Path)
			// One allocation for all the values (a Set each was most of
			// this middleware's cost); each is its own full slice, so a
			// handler that adds to or changes one changes only its own.
			values := make([]string, len(vs))
			for i, kv := range vs {
				values[i] = kv.value
				h[kv.key] = values[i : i+1 : i+1]
			}
			return next(c)
		}
	}
}

// Header is one response header, its key in canonical form.
type Header struct {
	Key, Value string
}

// For returns the headers SecurityHeaders sets on a response to path, for
// a server that answers some routes without Echo.
func (cfg SecurityConfig) For(path string) []Header {
	rules, def := cfg.compile()
	vs := match(rules, def, path)
	out := make([]Header, len(vs))
	for i, v := range vs {
		out[i] = Header{Key: v.key, Value: v.value}
	}
	return out
}

// compile is cfg's rules and default headers as SecurityHeaders sets them.
func (cfg SecurityConfig) compile() ([]headerRule, []headerValue) {
	rules := make([]headerRule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = headerRule{path: r.Prefix, prefix: strings.TrimSuffix(r.Prefix, "/") + "/", values: r.values(cfg.HSTS)}
	}
	return rules, cfg.Default.values(cfg.HSTS)
}

// headerValue is one header, its key in canonical form.
type headerValue struct {
	key, value string
}

type headerRule struct {
	path, prefix string
	values       []headerValue
}

func (p Headers) values(hsts bool) []headerValue {
	vs := []headerValue{{"X-Content-Type-Options", "nosniff"}}
	if p.CSP != "" {
		vs = append(vs, headerValue{"Content-Security-Policy", p.CSP})
	}
	if p.Referrer != "" {
		vs = append(vs, headerValue{"Referrer-Policy", p.Referrer})
	}
	if hsts {
		vs = append(vs, headerValue{"Strict-Transport-Security", HSTSValue})
	}
	return vs
}

func match(rules []headerRule, def []headerValue, path string) []headerValue {
	for _, r := range rules {
		if path == r.path || strings.HasPrefix(path, r.prefix) {
			return r.values
		}
	}
	return def
}
