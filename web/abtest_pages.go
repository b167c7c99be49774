package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// abTestRoutes are the A/B test's buttons on the campaign page: pick the
// winner and send it to the rest.
func (u *UI) abTestRoutes(g *echo.Group) {
	g.POST("/campaigns/:id/ab_test/winner", u.abTestWinner)
}

// abTestWinner records the posted variant as the winner (the form's
// "variant" field) and goes back to the campaign's page.
func (u *UI) abTestWinner(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if _, err := u.Campaigns.PickWinner(c.Request().Context(), id, c.FormValue("variant")); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/campaigns/"+strconv.FormatInt(id, 10))
}
