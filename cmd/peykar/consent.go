package main

import (
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/auth"
)

// consentActor is the source of the consent changes a request to the API
// or the admin pages makes: an API token's request is an api change (with
// the token's creator), a logged-in user's an admin change with the user's
// id. No IP or user agent: those fields say where the person themself
// acted (a form, the preference page), and here someone else did.
func consentActor(c echo.Context) topics.Source {
	src := topics.Source{Kind: topics.SourceAPI}
	if id, ok := auth.FromContext(c); ok {
		src.UserID = id.UserID
		if !id.ViaToken() {
			src.Kind = topics.SourceAdmin
		}
	}
	return src
}
