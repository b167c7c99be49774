package campaigns

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Routes registers the campaign API on api (/api/v1). The report stream,
// pages and exports (package reports) are mounted beside it by cmd.
func (s *Service) Routes(api *echo.Group) {
	api.POST("/campaigns", s.create)
	api.GET("/campaigns", s.list)
	api.GET("/campaigns/:id", s.get)
	api.PUT("/campaigns/:id", s.update)
	api.GET("/campaigns/:id/report", s.report)
	api.GET("/campaigns/:id/rules", s.rules)
	for _, action := range []string{"launch", "pause", "resume", "cancel"} {
		api.POST("/campaigns/:id/"+action, s.action(action))
	}
}

func (s *Service) create(c echo.Context) error {
	var in Campaign
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	generated := in.Settings.Webhook != nil && in.Settings.Webhook.Secret == ""
	if err := s.Create(c.Request().Context(), &in); err != nil {
		return err
	}
	out := in.withRulesState(s.now())
	if generated { // shown this once, so the receiver can be told it
		out.Settings.Webhook.Secret = in.Settings.Webhook.Secret
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Service) update(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in Campaign
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	in.ID = id
	if err := s.Update(c.Request().Context(), &in); err != nil {
		return err
	}
	out, err := Get(c.Request().Context(), s.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out.withRulesState(s.now()))
}

func (s *Service) get(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	out, err := Get(c.Request().Context(), s.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out.withRulesState(s.now()))
}

func (s *Service) list(c echo.Context) error {
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	items, err := List(c.Request().Context(), s.Pool, after, limit)
	if err != nil {
		return err
	}
	for i := range items {
		items[i] = items[i].withRulesState(s.now())
	}
	out := httpapi.List[Campaign]{Items: items}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) action(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		var out Campaign
		if action == "launch" {
			out, err = s.Launch(c.Request().Context(), id)
		} else {
			out, err = s.Transition(c.Request().Context(), id, action)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out.withRulesState(s.now()))
	}
}

func (s *Service) report(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var o ReportOptions
	for _, q := range []struct {
		name string
		to   *time.Time
	}{{"from", &o.From}, {"to", &o.To}} {
		if v := c.QueryParam(q.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errs.Field(q.name, "%s must be an RFC 3339 time (2006-01-02T15:04:05Z), not %q", q.name, v)
			}
			*q.to = t
		}
	}
	o.Resolution = c.QueryParam("resolution")
	r, err := s.ReportWith(c.Request().Context(), id, o)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// RuleStats is how often a rule fired and failed.
type RuleStats struct {
	Name   string `json:"name"`
	On     string `json:"on"`
	Fired  int64  `json:"fired"`
	Failed int64  `json:"failed"`
	// LastError is the most recent failure's message, for the marketer.
	LastError string `json:"last_error,omitempty"`
}

// RulesStats reads per-rule firing counts.
func RulesStats(ctx context.Context, db DBTX, c Campaign) ([]RuleStats, error) {
	rows, err := db.Query(ctx, `SELECT rule_name, count(*) FILTER (WHERE status = 'fired'), count(*) FILTER (WHERE status = 'failed'),
			coalesce((array_agg(error ORDER BY fired_at DESC) FILTER (WHERE status = 'failed'))[1], '')
		FROM rule_firings WHERE campaign_id = $1 GROUP BY rule_name`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("rule stats: %w", err)
	}
	byName := map[string]RuleStats{}
	for rows.Next() {
		var s RuleStats
		if err := rows.Scan(&s.Name, &s.Fired, &s.Failed, &s.LastError); err != nil {
			rows.Close()
			return nil, err
		}
		byName[s.Name] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]RuleStats, 0, len(c.Rules))
	for _, r := range c.Rules {
		s := byName[r.Name]
		s.Name, s.On = r.Name, r.On
		out = append(out, s)
	}
	return out, nil
}

func (s *Service) rules(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	camp, err := Get(c.Request().Context(), s.Pool, id)
	if err != nil {
		return err
	}
	stats, err := RulesStats(c.Request().Context(), s.Pool, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": stats})
}
