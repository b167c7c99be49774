package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// rejectNUL answers a page request whose query or form holds a NUL byte
// (which PostgreSQL cannot store) with an error page naming the field,
// before any handler runs. Line breaks and other control characters in
// one-line fields are the domain's to refuse, next to the field.
func (u *UI) rejectNUL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := httpapi.CheckNUL(c, true)
		var de *errs.Error
		if errors.As(err, &de) {
			return u.render(c, http.StatusUnprocessableEntity, "error", pageData{Title: u.t(c, "error.invalid_title"), Data: u.t(c, "error.nul", de.Field)})
		}
		if err != nil {
			return err
		}
		return next(c)
	}
}
