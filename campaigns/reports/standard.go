package reports

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// maxRangeDays bounds a standard report's date range.
const maxRangeDays = 366

// Standard is a standard report over a date range, for all contacts and
// campaigns or for one segment (its contacts, and the campaigns sent to it).
type Standard struct {
	From      string `json:"from"` // first day, YYYY-MM-DD (UTC)
	To        string `json:"to"`   // last day, inclusive
	SegmentID *int64 `json:"segment_id"`
	// Campaigns are the campaigns counted (all, or those sent to the segment).
	Campaigns      []int64        `json:"campaigns"`
	Audience       Audience       `json:"audience"`
	Deliverability Deliverability `json:"deliverability"`
	Engagement     Engagement     `json:"engagement"`
	Unsubscribes   Unsubscribes   `json:"unsubscribes"`
	Revenue        Revenue        `json:"revenue"`
	Days           []Day          `json:"days"`
}

// Audience is the size of the audience and its growth.
type Audience struct {
	// Size is how many contacts (of the segment) may be sent to now, by the
	// definition a launch applies: active, neither address nor domain
	// suppressed.
	Size int64 `json:"size"`
	// Created is how many contacts (of the segment) were created in the
	// period, whatever their status now (erased ones aside).
	Created int64 `json:"created"`
}

// Deliverability is how much mail got through.
type Deliverability struct {
	Sent          int64   `json:"sent"`
	Bounced       int64   `json:"bounced"`
	Complaints    int64   `json:"complaints"`
	BounceRate    float64 `json:"bounce_rate"`    // bounced / sent
	ComplaintRate float64 `json:"complaint_rate"` // complaints / delivered
}

// Engagement is what recipients did (human traffic).
type Engagement struct {
	Delivered        int64   `json:"delivered"`
	Opens            int64   `json:"opens"`
	Clicks           int64   `json:"clicks"`
	UniqueOpens      int64   `json:"unique_opens"`  // first opens in the period
	UniqueClicks     int64   `json:"unique_clicks"` // first clicks in the period
	OpensPerContact  float64 `json:"opens_per_contact"`
	ClicksPerContact float64 `json:"clicks_per_contact"`
}

// Unsubscribes in the period.
type Unsubscribes struct {
	Count int64   `json:"count"`
	Rate  float64 `json:"rate"` // unsubscribes / delivered
}

// Revenue in the period.
type Revenue struct {
	Conversions int64   `json:"conversions"` // attributed to campaigns
	Attributed  float64 `json:"attributed"`
	// Total is every transaction's value in the period (for a segment: of
	// its contacts), attributed or not, in whatever currencies they came:
	// a sum across currencies, kept for API clients; pages show
	// TotalByCurrency.
	Total float64 `json:"total"`
	// TotalByCurrency is Total per currency ("" for transactions posted
	// without one); it is the sum of the days' revenue_total_by_currency.
	TotalByCurrency map[string]float64 `json:"total_by_currency"`
	// AttributedByCurrency is the value of the transactions in the period
	// attributed to a campaign in scope, per currency; it is the sum of the
	// days' revenue_by_currency.
	AttributedByCurrency map[string]float64 `json:"attributed_by_currency"`
}

// Day is one day of the period.
type Day struct {
	Date         string  `json:"date"`
	Created      int64   `json:"created"`
	Sent         int64   `json:"sent"`
	Bounced      int64   `json:"bounced"`
	Complaints   int64   `json:"complaints"`
	Opens        int64   `json:"opens"`
	Clicks       int64   `json:"clicks"`
	Unsubscribes int64   `json:"unsubscribes"`
	Conversions  int64   `json:"conversions"`
	Revenue      float64 `json:"revenue"`
	// RevenueByCurrency is the day's attributed transactions per currency,
	// RevenueTotalByCurrency all of the day's transactions per currency
	// (the days add up to Revenue.AttributedByCurrency and
	// Revenue.TotalByCurrency).
	RevenueByCurrency      map[string]float64 `json:"revenue_by_currency"`
	RevenueTotalByCurrency map[string]float64 `json:"revenue_total_by_currency"`
}

func rate(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// parseDay reads YYYY-MM-DD (or RFC 3339, whose UTC day counts).
func parseDay(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, errs.Field(field, "%q is not a date (YYYY-MM-DD)", s)
}

// StandardQuery is a standard report's scope: the days From to To (UTC,
// inclusive) and, optionally, one segment.
type StandardQuery struct {
	From, To  time.Time
	SegmentID *int64
}

// ParseStandardQuery reads a standard report's scope as the API and the
// pages take it: from and to (YYYY-MM-DD; to defaults to today at now,
// from to 29 days before to) and segment_id (optional). A bad value is an
// errs.Invalid error naming its field.
func ParseStandardQuery(from, to, segmentID string, now time.Time) (StandardQuery, error) {
	var q StandardQuery
	now = now.UTC()
	q.To = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var err error
	if to != "" {
		if q.To, err = parseDay("to", to); err != nil {
			return q, err
		}
	}
	q.From = q.To.AddDate(0, 0, -29)
	if from != "" {
		if q.From, err = parseDay("from", from); err != nil {
			return q, err
		}
	}
	if q.From.After(q.To) {
		return q, errs.Field("from", "must not be after to")
	}
	if q.To.Sub(q.From) > maxRangeDays*24*time.Hour {
		return q, errs.Field("from", "the range is longer than %d days", maxRangeDays)
	}
	if segmentID != "" {
		id, perr := strconv.ParseInt(segmentID, 10, 64)
		if perr != nil || id <= 0 {
			return q, errs.Field("segment_id", "must be a positive integer")
		}
		q.SegmentID = &id
	}
	return q, nil
}

// standardQuery reads and checks the request's from, to and segment_id,
// the default range ending at the handler's clock.
func (h *Handler) standardQuery(c echo.Context) (StandardQuery, error) {
	return ParseStandardQuery(c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("segment_id"), h.cfg.Now())
}

// Standard is GET /reports/standard?from=&to=&segment_id=.
func (h *Handler) Standard(c echo.Context) error {
	q, err := h.standardQuery(c)
	if err != nil {
		return err
	}
	r, err := BuildStandard(c.Request().Context(), h.readDB(c), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// StandardCSV is GET /reports/standard.csv: the standard report's days.
func (h *Handler) StandardCSV(c echo.Context) error {
	q, err := h.standardQuery(c)
	if err != nil {
		return err
	}
	r, err := BuildStandard(c.Request().Context(), h.readDB(c), q)
	if err != nil {
		return err
	}
	out, err := h.startCSV(c, fmt.Sprintf("standard-%s-%s.csv", r.From, r.To),
		[]string{"date", "created", "sent", "bounced", "complaints", "opens", "clicks", "unsubscribes", "conversions", "revenue",
			"revenue_by_currency", "revenue_total_by_currency"})
	if err != nil {
		return nil
	}
	for _, d := range r.Days {
		if err := out.row([]string{d.Date, formatInt(d.Created), formatInt(d.Sent), formatInt(d.Bounced), formatInt(d.Complaints),
			formatInt(d.Opens), formatInt(d.Clicks), formatInt(d.Unsubscribes), formatInt(d.Conversions), formatFloat(d.Revenue),
			FormatAmounts(d.RevenueByCurrency), FormatAmounts(d.RevenueTotalByCurrency)}); err != nil {
			return h.abort(c, "standard", err)
		}
	}
	if err := out.close(); err != nil {
		return h.abort(c, "standard", err)
	}
	return nil
}

// BuildStandard computes the standard report for q over db (the same
// value GET /reports/standard answers).
func BuildStandard(ctx context.Context, db contacts.DBTX, q StandardQuery) (Standard, error) {
	from, to, seg := q.From, q.To, q.SegmentID
	end := to.AddDate(0, 0, 1)
	r := Standard{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), SegmentID: seg, Campaigns: []int64{}}
	r.Revenue.TotalByCurrency, r.Revenue.AttributedByCurrency = map[string]float64{}, map[string]float64{}
	days := map[string]*Day{}
	for d := from; d.Before(end); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		days[k] = &Day{Date: k, RevenueByCurrency: map[string]float64{}, RevenueTotalByCurrency: map[string]float64{}}
		r.Days = append(r.Days, Day{Date: k})
	}
	if err := audience(ctx, db, from, end, seg, &r, days); err != nil {
		return r, err
	}
	if err := campaignDays(ctx, db, from, end, seg, &r, days); err != nil {
		return r, err
	}
	if err := revenueDays(ctx, db, from, end, seg, &r, days); err != nil {
		return r, err
	}
	for i := range r.Days {
		r.Days[i] = *days[r.Days[i].Date]
	}
	e := &r.Engagement
	dl := &r.Deliverability
	e.Delivered = dl.Sent - dl.Bounced
	dl.BounceRate = rate(dl.Bounced, dl.Sent)
	dl.ComplaintRate = rate(dl.Complaints, e.Delivered)
	e.OpensPerContact = rate(e.Opens, e.Delivered)
	e.ClicksPerContact = rate(e.Clicks, e.Delivered)
	r.Unsubscribes.Rate = rate(r.Unsubscribes.Count, e.Delivered)
	return r, nil
}

// audience counts the audience and contacts created per day. A segment is
// walked in pages (its rule may not translate to SQL).
func audience(ctx context.Context, db contacts.DBTX, from, end time.Time, seg *int64, r *Standard, days map[string]*Day) error {
	count := func(ids []int64) error {
		rows, err := db.Query(ctx, query("daily_new_contacts"), ids, from, end)
		if err != nil {
			return fmt.Errorf("standard report audience: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var day string
			var n int64
			if err := rows.Scan(&day, &n); err != nil {
				return fmt.Errorf("standard report audience: %w", err)
			}
			if d := days[day]; d != nil {
				d.Created += n
				r.Audience.Created += n
			}
		}
		return rows.Err()
	}
	if seg == nil {
		n, err := contacts.CountSendable(ctx, db)
		if err != nil {
			return fmt.Errorf("standard report audience: %w", err)
		}
		r.Audience.Size = n
		return count(nil)
	}
	s, err := segments.GetSegment(ctx, db, *seg)
	if err != nil {
		return err
	}
	rule, err := segments.CompileSegment(s.Rule)
	if err != nil {
		return errs.New(errs.Conflict, "segment %q has an invalid rule: %v", s.Name, err)
	}
	var after int64
	for {
		page, err := segments.MatchPage(ctx, db, rule, after, segmentPage)
		if err != nil {
			return err
		}
		r.Audience.Size += int64(len(page.IDs))
		if members := slices.Concat(page.IDs, page.SuppressedIDs); len(members) > 0 {
			if err := count(members); err != nil {
				return err
			}
		}
		if page.Done {
			return nil
		}
		after = page.Last
	}
}

// campaignDays sums the rollups of the campaigns in scope per day.
func campaignDays(ctx context.Context, db contacts.DBTX, from, end time.Time, seg *int64, r *Standard, days map[string]*Day) error {
	rows, err := db.Query(ctx, query("campaign_ids"), seg)
	if err != nil {
		return fmt.Errorf("standard report campaigns: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("standard report campaigns: %w", err)
		}
		r.Campaigns = append(r.Campaigns, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("standard report campaigns: %w", err)
	}
	totals, err := tracking.DayTotals(ctx, db, r.Campaigns, from, end)
	if err != nil {
		return fmt.Errorf("standard report rollups: %w", err)
	}
	for _, t := range totals {
		if d := days[t.Day]; d != nil {
			addDayTotal(r, d, t)
		}
	}
	return nil
}

// addDayTotal adds rollup total t to its day d and to the cards of r.
func addDayTotal(r *Standard, d *Day, t tracking.DayTotal) {
	var c tracking.Counts // human rows only
	c.Add(t.Metric, false, t.Count, t.Value)
	d.Sent += c.AllSent()
	d.Bounced += c.AllBounced()
	d.Complaints += c.Complaints
	d.Opens += c.Opens.Total
	d.Clicks += c.Clicks.Total
	d.Unsubscribes += c.Unsubscribes
	d.Conversions += c.Conversions
	d.Revenue += c.Revenue
	r.Deliverability.Sent += c.AllSent()
	r.Deliverability.Bounced += c.AllBounced()
	r.Deliverability.Complaints += c.Complaints
	r.Engagement.Opens += c.Opens.Total
	r.Engagement.UniqueOpens += c.UniqueOpens.Total
	r.Engagement.Clicks += c.Clicks.Total
	r.Engagement.UniqueClicks += c.UniqueClicks.Total
	r.Unsubscribes.Count += c.Unsubscribes
	r.Revenue.Conversions += c.Conversions
	r.Revenue.Attributed += c.Revenue
}

// revenueDays sums the period's transactions (for a segment: those
// attributed to its campaigns or made by their recipients) per day and
// currency, all of them and those attributed to a campaign in scope, so the
// cards are the sums of the days.
func revenueDays(ctx context.Context, db contacts.DBTX, from, end time.Time, seg *int64, r *Standard, days map[string]*Day) error {
	rows, err := db.Query(ctx, query("daily_revenue"), from, end, seg, r.Campaigns)
	if err != nil {
		return fmt.Errorf("standard report revenue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, currency string
		var total, attributed float64
		if err := rows.Scan(&day, &currency, &total, &attributed); err != nil {
			return fmt.Errorf("standard report revenue: %w", err)
		}
		d := days[day]
		if d == nil {
			continue
		}
		r.Revenue.Total += total
		d.RevenueTotalByCurrency[currency] += total
		r.Revenue.TotalByCurrency[currency] += total
		if attributed != 0 {
			d.RevenueByCurrency[currency] += attributed
			r.Revenue.AttributedByCurrency[currency] += attributed
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("standard report revenue: %w", err)
	}
	return nil
}

// FormatAmounts shows amounts per currency as "EUR 590.00; JPY 10000.00",
// by currency code ("" shows as "?": posted without a currency); no
// amounts is "".
func FormatAmounts(m map[string]float64) string {
	codes := make([]string, 0, len(m))
	for k := range m {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	parts := make([]string, 0, len(codes))
	for _, k := range codes {
		code := k
		if code == "" {
			code = "?"
		}
		parts = append(parts, code+" "+strconv.FormatFloat(m[k], 'f', 2, 64))
	}
	return strings.Join(parts, "; ")
}
