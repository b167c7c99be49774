package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/reports"
)

// Deliverability thresholds of the dashboard's health card, over the last
// 30 days. A bounce rate above 2% says the list needs cleaning, above 5%
// providers start to throttle or block; a complaint rate above 0.1% is
// Google's and Yahoo's "keep below" for bulk senders, 0.3% their limit.
const (
	BounceWarn    = 0.02
	BounceBad     = 0.05
	ComplaintWarn = 0.001
	ComplaintBad  = 0.003
)

// dashboardRecent is how many finished campaigns the results card shows.
const dashboardRecent = 5

// dashboard is what the landing page shows; every number is defined in
// docs/metrics.md terms (see each field). The audience's growth and the
// deliverability health cover the standard report's default window: the
// last 30 UTC days, today included.
type dashboard struct {
	// Running are the campaigns sending now (running or paused), with their
	// progress: sent of total deliveries, and the send rate.
	Running []runningRow
	// Recent are the last campaigns to finish (or be cancelled), with their
	// goals met or not and the numbers behind them.
	Recent []campaignResult
	// dashAudience: the audience, deliverability and churn cards, which
	// aggregate whole tables and are computed at most every dashboardTTL.
	dashAudience
}

// dashAudience is the dashboard's whole-table part: each field is an
// aggregate over contacts, deliveries or scores, so it is computed at most
// once every dashboardTTL and shown with the time it was computed (At).
type dashAudience struct {
	// At is when these numbers were computed.
	At time.Time
	// Audience: Contacts held (all but erased), Sendable now (the
	// standard report's audience size), New7 and New30 created in the last
	// 7 and 30 days (not erased since), Days the 30 days' new contacts.
	Contacts, Sendable, New7, New30 int64
	Days                            []reports.Day
	From, To                        string // the 30 days, YYYY-MM-DD (UTC)
	// Health is the standard report's deliverability over the 30 days:
	// messages sent, bounced and complained about, and their rates.
	Health                      reports.Deliverability
	Delivered                   int64  // Health.Sent − Health.Bounced: the complaint rate's denominator
	BounceLevel, ComplaintLevel string // ok, warn, bad; "" with nothing sent
	// Churn is the customers the last scoring put at churn risk.
	Churn analytics.ChurnAtRisk
}

// dashboardTTL is how long the dashboard's whole-table numbers are kept:
// at 100,000 contacts they cost 0.2–0.8 s a view (bench/admin), which every
// person opening Peykar would otherwise pay.
const dashboardTTL = 30 * time.Second

// dashCache keeps the last dashAudience. One computation runs at a time;
// viewers who arrive meanwhile wait for it and share it. A failed
// computation is not kept.
type dashCache struct {
	mu sync.Mutex
	v  dashAudience
}

// get returns the kept numbers when they were computed less than
// dashboardTTL before now, else computes, keeps and returns new ones.
func (c *dashCache) get(now time.Time, compute func() (dashAudience, error)) (dashAudience, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.v.At.IsZero() && now.Sub(c.v.At) < dashboardTTL && !now.Before(c.v.At) {
		return c.v, nil
	}
	v, err := compute()
	if err != nil {
		return dashAudience{}, err
	}
	v.At = now
	c.v = v
	return v, nil
}

// runningRow is a campaign sending now.
type runningRow struct {
	campaignRow
	// PerMinute is the progress's send rate (messages per second over the
	// last one to two minutes, docs/metrics.md) per minute; 0 when paused.
	PerMinute float64
}

// campaignResult is a finished campaign and its goals.
type campaignResult struct {
	campaigns.Campaign
	Metrics campaigns.Metrics
	Goals   []campaigns.GoalResult
}

// level judges rate against its warn and bad thresholds; "" when nothing
// was sent (no rate to judge).
func level(rate, warn, bad float64, sent int64) string {
	switch {
	case sent == 0:
		return ""
	case rate > bad:
		return "bad"
	case rate > warn:
		return "warn"
	}
	return "ok"
}

// loadDashboard reads the dashboard at now through the owner packages:
// campaigns (and their reports, read from the rollups), the standard
// report (audience growth and deliverability), contacts (the count) and
// analytics (churn, from the stored scores). Each read is an aggregate in
// SQL; nothing loads a table. The campaigns are read on every view; the
// whole-table part (dashAudience) is kept for dashboardTTL.
func (u *UI) loadDashboard(ctx context.Context, now time.Time) (dashboard, error) {
	var d dashboard
	running, err := campaigns.ListByStatus(ctx, u.Pool, []string{campaigns.StatusRunning, campaigns.StatusPaused}, campaignsPerPage)
	if err != nil {
		return d, err
	}
	for _, cp := range running {
		r, err := u.Campaigns.Report(ctx, cp.ID)
		if err != nil {
			return d, err
		}
		row := runningRow{campaignRow: campaignRow{Campaign: cp, Metrics: r.Metrics, Progress: r.Progress}}
		if cp.Status == campaigns.StatusRunning {
			row.PerMinute = r.Progress.Rate * 60
		}
		d.Running = append(d.Running, row)
	}
	recent, err := campaigns.ListByStatus(ctx, u.Pool, []string{campaigns.StatusFinished, campaigns.StatusCancelled}, dashboardRecent)
	if err != nil {
		return d, err
	}
	for _, cp := range recent {
		r, err := u.Campaigns.Report(ctx, cp.ID)
		if err != nil {
			return d, err
		}
		d.Recent = append(d.Recent, campaignResult{Campaign: cp, Metrics: r.Metrics, Goals: r.Goals})
	}
	d.dashAudience, err = u.dash.get(now, func() (dashAudience, error) { return u.loadAudience(ctx, now) })
	return d, err
}

// loadAudience computes the whole-table part of the dashboard at now.
func (u *UI) loadAudience(ctx context.Context, now time.Time) (dashAudience, error) {
	var d dashAudience
	q, err := reports.ParseStandardQuery("", "", "", now)
	if err != nil {
		return d, err
	}
	db := u.readDB(ctx)
	std, err := reports.BuildStandard(ctx, db, q)
	if err != nil {
		return d, fmt.Errorf("dashboard: %w", err)
	}
	d.From, d.To, d.Days = std.From, std.To, std.Days
	d.Sendable, d.New30 = std.Audience.Size, std.Audience.Created
	for i, day := range std.Days {
		if i >= len(std.Days)-7 {
			d.New7 += day.Created
		}
	}
	d.Health = std.Deliverability
	d.Delivered = d.Health.Sent - d.Health.Bounced
	d.BounceLevel = level(d.Health.BounceRate, BounceWarn, BounceBad, d.Health.Sent)
	d.ComplaintLevel = level(d.Health.ComplaintRate, ComplaintWarn, ComplaintBad, d.Health.Sent)
	if d.Contacts, err = contacts.CountHeld(ctx, db); err != nil {
		return d, err
	}
	if d.Churn, err = analytics.AtRisk(ctx, db); err != nil {
		return d, err
	}
	return d, nil
}

func (u *UI) dashboardRoutes(g *echo.Group) {
	g.GET("", u.dashboardPage)
	g.GET("/", u.dashboardPage)
}

func (u *UI) dashboardPage(c echo.Context) error {
	d, err := u.loadDashboard(c.Request().Context(), time.Now())
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.render(c, http.StatusOK, "dashboard", pageData{Nav: "dashboard", Data: map[string]any{
		"D": d, "Bars": growthBars(u.lang(c).msg, d.Days),
		"BounceWarn": BounceWarn, "BounceBad": BounceBad, "ComplaintWarn": ComplaintWarn, "ComplaintBad": ComplaintBad,
	}})
}
