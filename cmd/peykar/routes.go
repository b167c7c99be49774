package main

import (
	"context"
	"net/mail"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/apidoc"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
	"github.com/peykar/peykar/web"
)

// registerRoutes is the route table: each domain package registers its own
// handlers on the groups it is given. api is /api/v1; public holds the
// unauthenticated tracking endpoints.
func (m *Main) registerRoutes(public *echo.Echo, api *echo.Group) {
	m.tracking.Routes(public, api)
	apidoc.Routes(api)
	apidoc.Viewer(public.Group("/admin/api", m.auth.Pages()...)) // the API reference page
	outbox.Routes(api, outbox.Store{Pool: m.pool})
	templates.Routes(api, templates.Deps{
		Pool: m.pool, Logger: m.Logger,
		Contacts: m.templateContact,
		Audience: m.templateAudience,
		Sender:   engine.TestSender{Mailer: m.mailer, From: m.Config.From},
		MayMarkTransactional: func(c echo.Context) bool {
			id, ok := auth.FromContext(c)
			return ok && id.Role == auth.RoleAdmin
		},
	})
	contacts.Routes(api, contacts.Deps{Pool: m.pool, River: m.river, Logger: m.Logger, Conversions: m.conversions(),
		Segments: segments.Filter, Events: tracking.EventEraser{}, Rules: segmentRule, Actor: consentActor,
		Journeys: m.engine, Changes: m.engine, EventWriter: m.eventWriter()})
	segments.Routes(api, segments.Deps{Pool: m.pool, Reads: m.reads})
	topics.Routes(api, m.pool)
	analytics.Routes(api, analytics.Deps{Pool: m.pool, River: m.river, Logger: m.Logger, Reads: m.reads})
	svc := m.campaignService()
	svc.Routes(api)
	rep, err := reports.New(reports.Config{Pool: m.pool, Logger: m.Logger, Report: svc.Report, Reads: m.reads})
	if err != nil {
		panic(err) // only a nil pool: a wiring mistake caught at start-up
	}
	rep.Routes(api)
	m.streams = rep
	if fs, err := m.formService(); err == nil {
		fs.Routes(public)
		fs.APIRoutes(api)
	} else {
		panic(err) // only missing wiring, caught at start-up
	}
	messages.New(messages.Config{Pool: m.pool, River: m.river, From: m.transactionalFrom(), Logger: m.Logger}).Routes(api)
	// The preference centre (/t/p/{token}): public, its templates embedded.
	if err := web.PreferenceRoutes(public, web.PreferencesDeps{Pool: m.pool, Signer: m.signer, Logger: m.Logger}); err != nil {
		panic(err)
	}
}

// transactionalFrom is the sender of the transactional campaigns created
// on first use: PEYKAR_FROM (validated at start-up).
func (m *Main) transactionalFrom() campaigns.Address {
	a, err := mail.ParseAddress(m.Config.From)
	if err != nil {
		return campaigns.Address{Email: m.Config.From}
	}
	return campaigns.Address{Name: a.Name, Email: a.Address}
}

// templateContact loads the contact a template preview renders for.
func (m *Main) templateContact(ctx context.Context, id int64) (templates.Contact, error) {
	c, err := contacts.Get(ctx, m.pool, id)
	if err != nil {
		return templates.Contact{}, err
	}
	return c.Profile(), nil
}

// templateAudience is the editor's sample for the pre-send fields check:
// the first active contacts, up to limit.
func (m *Main) templateAudience(ctx context.Context, limit int) ([]templates.Contact, error) {
	cs, err := contacts.List(ctx, m.pool, contacts.ListQuery{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]templates.Contact, 0, len(cs))
	for _, c := range cs {
		if c.Status == contacts.StatusActive {
			out = append(out, c.Profile())
		}
	}
	return out, nil
}

// campaignService is the campaign service the API and the admin pages share.
func (m *Main) campaignService() *campaigns.Service {
	return &campaigns.Service{Pool: m.pool, Runtime: m.engine, Logger: m.Logger, WebhookPolicy: m.Config.webhooks, DefaultCurrency: m.Config.Currency,
		PreSendChecks: true, Audience: launchAudience, Reads: m.reads}
}

// launchAudience loads the contacts a launch's pre-send fields check
// renders the templates for.
func launchAudience(ctx context.Context, db campaigns.DBTX, ids []int64) ([]templates.Contact, error) {
	cs, err := contacts.GetMany(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]templates.Contact, len(cs))
	for i, c := range cs {
		out[i] = c.Profile()
	}
	return out, nil
}

// segmentRule compiles a bulk action's rule (contacts cannot import
// segments, which imports contacts).
func segmentRule(rule string) (contacts.SegmentFilter, error) {
	c, err := segments.CompileSegment(rule)
	if err != nil {
		return nil, err
	}
	return c, nil
}
