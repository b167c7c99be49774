package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/outbox"
)

func (u *UI) outboxRoutes(g *echo.Group) {
	g.GET("/outbox", u.outboxList)
	g.GET("/outbox/:id", u.outboxMessage)
	g.GET("/outbox/:id/html", u.outboxHTML)
}

const outboxPerPage = 50

func (u *UI) outboxList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	to := strings.TrimSpace(c.QueryParam("to"))
	msgs, err := outbox.Store{Pool: u.Pool}.List(c.Request().Context(), to, after, outboxPerPage)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i] = outbox.ForViewer(c, msgs[i])
	}
	next := ""
	if len(msgs) == outboxPerPage {
		next = strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "outbox", pageData{Nav: "outbox", Data: map[string]any{"Messages": msgs, "Next": next, "To": to}})
}

func (u *UI) outboxMessage(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	msg, err := outbox.Store{Pool: u.Pool}.Get(c.Request().Context(), id)
	if err != nil {
		return u.pageErr(c, err)
	}
	msg = outbox.ForViewer(c, msg)
	page := outboxMessagePage{Message: msg, Redacted: !outbox.SeesTrackingTokens(c)}
	return u.render(c, http.StatusOK, "outbox_message", pageData{Title: msg.Subject, Nav: "outbox", Data: page})
}

// outboxMessagePage is a caught message as its page shows it; Redacted
// says its tracking links were replaced for the viewer's role.
type outboxMessagePage struct {
	outbox.Message
	Redacted bool
}

// outboxHTML serves a caught message's HTML for the sandboxed iframe: no
// scripts, no same-origin access; links open in a new tab so tracked links
// can be followed (by the roles that see them: outbox.ForViewer).
func (u *UI) outboxHTML(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	msg, err := outbox.Store{Pool: u.Pool}.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	msg = outbox.ForViewer(c, msg)
	body := msg.HTML
	if body == "" {
		body = "<pre style=\"white-space:pre-wrap\">" + templateEscape(msg.Text) + "</pre>"
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; script-src 'none'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.HTML(http.StatusOK, `<!doctype html><meta charset="utf-8"><base target="_blank">`+body)
}
