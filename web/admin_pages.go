package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// formErr is a validation error shown next to its field.
type formErr struct {
	Field    string
	Message  string
	Position int // 1-based, inside the field (rules), 0 when unknown
	Line     int // 1-based, inside the field (templates), 0 when unknown
	Column   int
}

// asFormErr turns an Invalid or Conflict domain error into a formErr.
func asFormErr(err error) (formErr, bool) {
	var de *errs.Error
	if errors.As(err, &de) && (de.Code == errs.Invalid || de.Code == errs.Conflict) {
		return formErr{Field: de.Field, Message: de.Message, Position: de.Position, Line: de.Line, Column: de.Column}, true
	}
	return formErr{}, false
}

func (u *UI) adminRoutes(g *echo.Group) {
	g.GET("/users", u.usersPage)
	g.POST("/users", u.createUser)
	g.POST("/users/:id/delete", u.deleteUser)
	g.GET("/tokens", u.tokensPage)
	g.POST("/tokens", u.createToken)
	g.POST("/tokens/:id/revoke", u.revokeToken)
}

func (u *UI) usersPage(c echo.Context) error { return u.showUsers(c, http.StatusOK, nil) }

func (u *UI) showUsers(c echo.Context, status int, data map[string]any) error {
	users, err := auth.ListUsers(c.Request().Context(), u.Pool)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Users"], data["Roles"] = users, auth.Roles
	return u.render(c, status, "users", pageData{Nav: "users", Data: data})
}

func (u *UI) createUser(c echo.Context) error {
	email, role := c.FormValue("email"), auth.Role(c.FormValue("role"))
	_, err := auth.CreateUser(c.Request().Context(), u.Pool, email, c.FormValue("password"), role)
	if fe, ok := asFormErr(err); ok {
		return u.showUsers(c, http.StatusUnprocessableEntity, map[string]any{"Err": fe, "Email": email, "Role": role})
	}
	if err != nil {
		return err
	}
	return redirect(c, "/admin/users")
}

func (u *UI) deleteUser(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := auth.DeleteUser(c.Request().Context(), u.Pool, id); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/users")
}

func (u *UI) tokensPage(c echo.Context) error { return u.showTokens(c, http.StatusOK, nil) }

func (u *UI) showTokens(c echo.Context, status int, data map[string]any) error {
	tokens, err := auth.ListTokens(c.Request().Context(), u.Pool)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Tokens"], data["Roles"] = tokens, auth.Roles
	return u.render(c, status, "tokens", pageData{Nav: "tokens", Data: data})
}

func (u *UI) createToken(c echo.Context) error {
	id, _ := auth.FromContext(c)
	name, role := c.FormValue("name"), auth.Role(c.FormValue("role"))
	_, secret, err := auth.CreateToken(c.Request().Context(), u.Pool, name, role, id.UserID)
	if fe, ok := asFormErr(err); ok {
		return u.showTokens(c, http.StatusUnprocessableEntity, map[string]any{"Err": fe, "Name": name, "Role": role})
	}
	if err != nil {
		return err
	}
	// The secret is shown once, on this response, and never again.
	c.Response().Header().Set("Cache-Control", "no-store")
	return u.showTokens(c, http.StatusCreated, map[string]any{"Secret": secret})
}

func (u *UI) revokeToken(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := auth.RevokeToken(c.Request().Context(), u.Pool, id); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/tokens")
}
