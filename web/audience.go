package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
)

func (u *UI) audienceRoutes(g *echo.Group) {
	g.GET("/audience", u.audienceCount)
}

// audienceCount answers the campaign editor's segment choice with how
// many contacts a launch would reach now (after suppressions) and how
// many match, as a text fragment (htmx swaps it in).
func (u *UI) audienceCount(c echo.Context) error {
	id, err := strconv.ParseInt(c.QueryParam("segment_id"), 10, 64)
	topicIDs := queryTopicIDs(c)
	if (err != nil || id <= 0) && len(topicIDs) == 0 {
		return c.HTML(http.StatusOK, templateEscape(u.t(c, "builder.audience_none")))
	}
	ctx := c.Request().Context()
	compiled, err := audienceRule(ctx, u.Pool, id, topicIDs)
	var de *errs.Error
	if errors.As(err, &de) && de.Code == errs.Invalid {
		return c.HTML(http.StatusOK, templateEscape(u.t(c, "builder.audience_error", de.Message)))
	}
	if err != nil {
		return err
	}
	matching, err := segments.Count(ctx, u.Pool, compiled)
	if err != nil {
		return err
	}
	sendable, err := segments.CountSendable(ctx, u.Pool, compiled)
	if err != nil {
		u.Logger.WarnContext(ctx, "count audience", slog.Int64("segment_id", id), slog.Any("error", err))
		return err
	}
	return c.HTML(http.StatusOK, templateEscape(u.t(c, "builder.audience_count", sendable, matching)))
}
