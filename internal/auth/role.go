package auth

import (
	"net/http"
	"strings"

	"github.com/peykar/peykar/internal/errs"
)

// Role is what a user or API token may do.
type Role string

// The roles.
const (
	RoleAdmin    Role = "admin"    // everything: users, tokens, settings, jobs
	RoleMarketer Role = "marketer" // contacts, segments, templates, campaigns, imports, sending
	RoleManager  Role = "manager"  // read-only: reports, campaigns, contacts, segments, templates, exports
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleMarketer, RoleManager}

// ParseRole returns the role named s, or an Invalid error on field.
func ParseRole(field, s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", errs.Field(field, "must be one of admin, marketer, manager, not %q", s)
}

// adminOnly are the path prefixes only admins may reach, whatever the method.
var adminOnly = []string{
	"/admin/jobs", "/admin/users", "/admin/tokens", "/admin/settings",
	"/api/v1/users", "/api/v1/tokens", "/api/v1/settings",
}

// anyRole are paths every signed-in user may reach with any method (logging
// out, and their own account: changing their password).
var anyRole = []string{"/admin/logout", "/admin/account"}

// publicPaths need no login at all: the login and first-admin setup pages,
// and the CSS and JavaScript they load (mounted outside the login
// middleware, so a first visit gets a styled page with working scripts).
// Everything else under /admin and /api/v1 does, the API reference's own
// assets (/admin/api/assets) included.
var publicPaths = []string{"/admin/login", "/admin/setup", "/admin/assets"}

// IsPublic reports whether path is reachable without logging in.
func IsPublic(path string) bool { return hasPrefix(path, publicPaths) }

// Allowed is the one place that decides whether role may make a request with
// method to path (a route pattern such as /api/v1/campaigns/:id, or a
// request path).
func Allowed(role Role, method, path string) bool {
	if hasPrefix(path, anyRole) {
		return role != ""
	}
	switch role {
	case RoleAdmin:
		return true
	case RoleMarketer:
		return !hasPrefix(path, adminOnly)
	case RoleManager:
		return !hasPrefix(path, adminOnly) && (method == http.MethodGet || method == http.MethodHead ||
			method == http.MethodPost && matchesAny(path, readOnlyPosts))
	}
	return false
}

// readOnlyPosts are POST routes that change nothing: they compute an
// answer from what is stored (a template rendered for a contact, a rule's
// count and sample), and are POSTs only because their input is a body.
// Managers, who may only read, may call them.
var readOnlyPosts = []string{
	"/api/v1/templates/preview", "/api/v1/templates/:id/preview", "/api/v1/segments/preview",
}

// matchesAny reports whether path (a route pattern or a request path)
// matches one of the route patterns; a ":name" segment matches any one
// non-empty segment.
func matchesAny(path string, patterns []string) bool {
	got := strings.Split(path, "/")
	for _, p := range patterns {
		want := strings.Split(p, "/")
		if len(want) != len(got) {
			continue
		}
		ok := true
		for i, w := range want {
			if w != got[i] && (!strings.HasPrefix(w, ":") || got[i] == "") {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// NeededRole is the least powerful role Allowed lets make a request with
// method to path, for a refusal that says what would be needed.
func NeededRole(method, path string) Role {
	for i := len(Roles) - 1; i >= 0; i-- {
		if Allowed(Roles[i], method, path) {
			return Roles[i]
		}
	}
	return RoleAdmin
}

// ForbiddenError is the refusal of role's request with method to path: a
// Forbidden error that names the role it would need.
func ForbiddenError(role Role, method, path string) *errs.Error {
	need := NeededRole(method, path)
	err := errs.New(errs.Forbidden, "the %s role may not do this: it needs the %s role", role, need)
	err.Details = map[string]any{"role": string(need)}
	return err
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
