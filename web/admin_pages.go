package web

import (
	"errors"
	"net/http"
	"strconv"

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
	g.POST("/users/:id/role", u.setUserRole)
	g.POST("/users/:id/password", u.setUserPassword)
	g.GET("/account", u.accountPage)
	g.POST("/account/password", u.changePassword)
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
	defaultRole(data)
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

// setUserRole changes a user's role (never the last admin's).
func (u *UI) setUserRole(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := auth.SetRole(c.Request().Context(), u.Pool, id, auth.Role(c.FormValue("role"))); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/users")
}

// setUserPassword is an admin's reset of a user's password: it ends that
// user's sessions (but the admin's own, when they reset themselves here).
func (u *UI) setUserPassword(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	keep := ""
	if me, _ := auth.FromContext(c); me.UserID == id && !me.ViaToken() {
		keep = auth.CurrentSession(c)
	}
	err = auth.SetPassword(c.Request().Context(), u.Pool, id, c.FormValue("password"), keep)
	if fe, ok := asFormErr(err); ok {
		fe.Field = "password-" + strconv.FormatInt(id, 10)
		return u.showUsers(c, http.StatusUnprocessableEntity, map[string]any{"Err": fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.showUsers(c, http.StatusOK, map[string]any{"Done": u.t(c, "users.password_set")})
}

func (u *UI) accountPage(c echo.Context) error { return u.showAccount(c, http.StatusOK, nil) }

func (u *UI) showAccount(c echo.Context, status int, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["Zone"], data["ZoneSaved"] = u.accountZoneData(c), c.QueryParam("zone") == "saved"
	return u.render(c, status, "account", pageData{Nav: "account", Data: data})
}

// changePassword is the signed-in user's own change: the current password
// is required, and their other sessions end.
func (u *UI) changePassword(c echo.Context) error {
	if c.FormValue("new_password") != c.FormValue("confirm_password") {
		return u.showAccount(c, http.StatusUnprocessableEntity, map[string]any{"Err": formErr{Field: "confirm_password", Message: u.t(c, "account.mismatch")}})
	}
	err := u.Auth.ChangePassword(c, c.FormValue("current_password"), c.FormValue("new_password"))
	if fe, ok := asFormErr(err); ok {
		return u.showAccount(c, http.StatusUnprocessableEntity, map[string]any{"Err": fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.showAccount(c, http.StatusOK, map[string]any{"Done": true})
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
	defaultRole(data)
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

// defaultRole preselects the least-privileged role (auth.Roles lists the
// most powerful first) in the "Add user" and "Create token" forms, unless
// the form comes back with the role someone chose.
func defaultRole(data map[string]any) {
	if _, ok := data["Role"]; !ok {
		data["Role"] = auth.Roles[len(auth.Roles)-1]
	}
}
