package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/web"
)

// startAuth builds the authenticator and makes sure someone can log in: it
// creates the admin from PEYKAR_ADMIN_EMAIL/PEYKAR_ADMIN_PASSWORD on first
// run, or prints a one-time setup link when no user exists.
func (m *Main) startAuth(ctx context.Context) error {
	cfg := auth.Config{Pool: m.pool, Logger: m.Logger, Secure: strings.HasPrefix(m.Config.BaseURL, "https://"),
		Origin: origin(m.Config.BaseURL), Secret: []byte(m.secret), Now: m.Now}
	if m.Config.PreviousSecret != "" {
		cfg.PreviousSecret = []byte(m.Config.PreviousSecret)
	}
	m.auth = auth.New(cfg)
	setup, err := auth.Bootstrap(ctx, m.pool, m.Config.AdminEmail, m.Config.AdminPassword)
	if err != nil {
		return err
	}
	if setup != "" {
		link := m.Config.BaseURL + "/admin/setup?token=" + setup
		m.Logger.WarnContext(ctx, "no user exists yet: open the setup link to create the first admin", slog.String("link", link))
		fmt.Fprintln(m.Stdout, "No user exists yet. Create the first admin at (one-time link):", link)
	}
	return nil
}

// registerPages mounts the admin UI on the /admin group.
func (m *Main) registerPages(admin *echo.Group) error {
	fs, err := m.formService()
	if err != nil {
		return err
	}
	return web.Register(admin, web.Deps{
		Pool: m.pool, Auth: m.auth, Logger: m.Logger,
		Campaigns: m.campaignService(), BaseURL: m.Config.BaseURL,
		Forms: fs, Reads: m.reads,
	})
}

// origin is the scheme://host[:port] of a base URL (validated by
// LoadConfig), as browsers send it in the Origin header.
func origin(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
