package main

import (
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/outbox"
)

// registerRoutes is the route table: each domain package registers its own
// handlers on the groups it is given. api is /api/v1; public holds the
// unauthenticated tracking endpoints.
func (m *Main) registerRoutes(public *echo.Echo, api *echo.Group) {
	_ = public
	outbox.Routes(api, outbox.Store{Pool: m.pool})
	contacts.Routes(api, contacts.Deps{Pool: m.pool, River: m.river, Logger: m.Logger})
}
