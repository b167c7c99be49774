package outbox

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// Routes serves the embedded catch-all's messages.
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
		return c.JSON(http.StatusOK, msg)
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
		return c.Blob(http.StatusOK, "message/rfc822", raw)
	})
}
