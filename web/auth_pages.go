package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
)

type loginForm struct {
	Email string
	Next  string
}

func (u *UI) authRoutes(g *echo.Group) {
	g.GET("/login", u.loginPage)
	g.POST("/login", u.login)
	g.POST("/logout", u.logout)
	g.GET("/setup", u.setupPage)
	g.POST("/setup", u.setup)
}

// safeNext keeps redirects after login inside the admin UI.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return "/admin" // the dashboard
}

func (u *UI) loginPage(c echo.Context) error {
	if _, ok := auth.FromContext(c); ok {
		return redirect(c, safeNext(c.QueryParam("next")))
	}
	return u.render(c, http.StatusOK, "login", pageData{Data: loginForm{Next: c.QueryParam("next")}})
}

func (u *UI) login(c echo.Context) error {
	form := loginForm{Email: c.FormValue("email"), Next: c.FormValue("next")}
	_, err := u.Auth.Login(c, form.Email, c.FormValue("password"))
	var tooMany *auth.TooManyAttempts
	switch {
	case err == nil:
		return redirect(c, safeNext(form.Next))
	case errors.As(err, &tooMany):
		return u.render(c, http.StatusTooManyRequests, "login", pageData{Error: u.t(c, "login.too_many", int(tooMany.Wait.Seconds())), Data: form})
	case errs.Is(err, errs.Unauthorized):
		return u.render(c, http.StatusUnauthorized, "login", pageData{Error: u.t(c, "login.wrong"), Data: form})
	}
	return err
}

func (u *UI) logout(c echo.Context) error {
	if err := u.Auth.Logout(c); err != nil {
		return err
	}
	return redirect(c, "/admin/login")
}

type setupForm struct {
	Valid bool
	Token string
	Email string
}

func (u *UI) setupPage(c echo.Context) error {
	token := c.QueryParam("token")
	ok, err := auth.SetupTokenValid(c.Request().Context(), u.Pool, token)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "setup", pageData{Data: setupForm{Valid: ok, Token: token}})
}

func (u *UI) setup(c echo.Context) error {
	form := setupForm{Valid: true, Token: c.FormValue("token"), Email: c.FormValue("email")}
	_, err := u.Auth.CompleteSetup(c, form.Token, form.Email, c.FormValue("password"))
	var de *errs.Error
	switch {
	case err == nil:
		return redirect(c, "/admin")
	case errs.Is(err, errs.Unauthorized):
		form.Valid = false
		return u.render(c, http.StatusUnauthorized, "setup", pageData{Data: form})
	case errors.As(err, &de) && de.Code == errs.Invalid:
		return u.render(c, http.StatusUnprocessableEntity, "setup", pageData{Error: de.Field + ": " + de.Message, Data: form})
	}
	return err
}
