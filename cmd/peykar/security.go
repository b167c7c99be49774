package main

import (
	"strings"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/internal/httpapi"
)

// The content security policies, by what the pages really need. None
// allows an inline or remote script, eval, plugins, or being framed by
// another site.
const (
	// pagesCSP: the admin UI, the report pages under /api/v1 and every other
	// response. Scripts and stylesheets are Peykar's own files; style
	// attributes are allowed (report bars take their width from one, a few
	// forms their width); the outbox frames a message from /admin.
	pagesCSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; " +
		"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	// templatesCSP: the template editor. Its live preview is an iframe
	// whose srcdoc inherits this policy, and shows the email as it will be
	// read: with the email's inline styles and remote images. The frame is
	// sandboxed without scripts.
	templatesCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: https: http:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; " +
		"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	// jobsCSP: River UI, a React app that adds <style> elements of its own.
	jobsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	// trackingCSP: the recipients' pages (unsubscribe) and the pixel and
	// click redirects: no script at all, the page's one <style> block, a
	// form that posts back to itself.
	trackingCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

// securityHeaders are the security headers of every response (see
// httpapi.SecurityHeaders). Tracking URLs carry a recipient's token, so
// they send no referrer at all; the admin UI and API send one only to
// themselves, so a click from a report to a campaign's link does not tell
// the target where Peykar runs. Strict-Transport-Security goes with an
// https base URL.
func (m *Main) securityHeaders() httpapi.SecurityConfig {
	pages := httpapi.Headers{CSP: pagesCSP, Referrer: "same-origin"}
	return httpapi.SecurityConfig{
		HSTS: strings.HasPrefix(m.Config.BaseURL, "https://"),
		Rules: []httpapi.HeaderRule{
			{Prefix: "/t", Headers: httpapi.Headers{CSP: trackingCSP, Referrer: "no-referrer"}},
			{Prefix: "/admin/setup", Headers: httpapi.Headers{CSP: pagesCSP, Referrer: "no-referrer"}}, // its URL holds the setup token
			{Prefix: "/admin/templates", Headers: httpapi.Headers{CSP: templatesCSP, Referrer: "same-origin"}},
			{Prefix: "/admin/jobs", Headers: httpapi.Headers{CSP: jobsCSP, Referrer: "same-origin"}},
			{Prefix: "/f", Headers: httpapi.Headers{CSP: forms.CSP, Referrer: "no-referrer"}}, // signup forms; a confirmation URL holds a token
		},
		Default: pages,
	}
}
