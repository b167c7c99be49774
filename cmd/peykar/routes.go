package main

import (
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/templates"
)

// registerRoutes is the route table: each domain package registers its own
// handlers on the groups it is given. api is /api/v1; public holds the
// unauthenticated tracking endpoints.
func (m *Main) registerRoutes(public *echo.Echo, api *echo.Group) {
	_ = public
	outbox.Routes(api, outbox.Store{Pool: m.pool})
	// Contacts and Sender are wired by the integrator; until then preview for
	// a contact_id and test sends answer 503.
	templates.Routes(api, templates.Deps{Pool: m.pool, Logger: m.Logger})
	contacts.Routes(api, contacts.Deps{Pool: m.pool, River: m.river, Logger: m.Logger})
	(&campaigns.Service{Pool: m.pool, Runtime: m.engine, Logger: m.Logger}).Routes(api)
}
