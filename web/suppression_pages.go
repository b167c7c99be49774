package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/httpapi"
)

const suppressionsPerPage = 100

func (u *UI) suppressionRoutes(g *echo.Group) {
	g.GET("/suppressions", u.suppressionList)
	g.POST("/suppressions", u.suppressionAdd)
	g.POST("/suppressions/:id/delete", u.suppressionDelete)
}

// suppressionPage is the suppression list with the add form as typed.
type suppressionPage struct {
	Items         []contacts.Suppression
	Next          string
	Value, Reason string
	Err           formErr
}

func (u *UI) suppressionList(c echo.Context) error {
	return u.showSuppressions(c, http.StatusOK, suppressionPage{})
}

func (u *UI) showSuppressions(c echo.Context, status int, p suppressionPage) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	items, err := contacts.ListSuppressions(c.Request().Context(), u.Pool, after, suppressionsPerPage)
	if err != nil {
		return err
	}
	p.Items = items
	if len(items) == suppressionsPerPage {
		p.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return u.render(c, status, "suppressions", pageData{Nav: "contacts", Data: p})
}

// suppressionAdd adds an address or a domain (kind inferred from an @).
func (u *UI) suppressionAdd(c echo.Context) error {
	p := suppressionPage{Value: c.FormValue("value"), Reason: c.FormValue("reason")}
	_, err := contacts.AddSuppression(c.Request().Context(), u.Pool, contacts.SuppressionInput{Value: p.Value, Reason: p.Reason})
	if fe, ok := asFormErr(err); ok {
		p.Err = fe
		return u.showSuppressions(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	return redirect(c, "/admin/suppressions")
}

func (u *UI) suppressionDelete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := contacts.DeleteSuppression(c.Request().Context(), u.Pool, id); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/suppressions")
}
