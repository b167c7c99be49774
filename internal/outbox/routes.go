package outbox

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// SeesTrackingTokens reports whether the request's user sees caught
// messages as sent, tracked links working: admins and marketers, who may
// change contacts anyway. Everyone else (managers, who only read) sees the
// tokens redacted, so that reading the Outbox does not let them click,
// open or unsubscribe as a recipient.
func SeesTrackingTokens(c echo.Context) bool {
	id, ok := auth.FromContext(c)
	return ok && (id.Role == auth.RoleAdmin || id.Role == auth.RoleMarketer)
}

// ForViewer returns msg as the request's user may see it (see
// SeesTrackingTokens).
func ForViewer(c echo.Context, msg Message) Message {
	if SeesTrackingTokens(c) {
		return msg
	}
	return msg.Redacted()
}

// RawForViewer returns the raw message as the request's user may see it: as
// received, or with its tracking tokens redacted (see RedactRaw). A message
// that cannot be redacted is refused with a Forbidden error.
func RawForViewer(c echo.Context, raw []byte) ([]byte, error) {
	if SeesTrackingTokens(c) {
		return raw, nil
	}
	red, err := RedactRaw(raw)
	if err != nil {
		return nil, errs.New(errs.Forbidden, "this message cannot be shown with its tracking links redacted; an admin or marketer can read it")
	}
	return red, nil
}

// Routes serves the embedded catch-all's messages; managers get them with
// their tracking tokens redacted.
func Routes(g *echo.Group, store Store) {
	g.GET("/outbox", func(c echo.Context) error {
		limit, err := httpapi.Limit(c, 50, 500)
		if err != nil {
			return err
		}
		after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
		msgs, err := store.List(c.Request().Context(), c.QueryParam("to"), after, limit)
		if err != nil {
			return err
		}
		out := httpapi.List[Message]{Items: msgs}
		for i := range out.Items {
			out.Items[i] = ForViewer(c, out.Items[i])
		}
		if len(msgs) == limit {
			out.Next = strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
		}
		return c.JSON(http.StatusOK, out)
	})
	g.GET("/outbox/:id", func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		msg, err := store.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, ForViewer(c, msg))
	})
	g.GET("/outbox/:id/raw", func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		raw, err := store.Raw(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if raw, err = RawForViewer(c, raw); err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "message/rfc822", raw)
	})
}
