package reports

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
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
	// its contacts), attributed or not.
	Total float64 `json:"total"`
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

// standardQuery reads and checks from, to and segment_id; to defaults to
// today and from to 29 days before to.
func standardQuery(c echo.Context) (from, to time.Time, seg *int64, err error) {
	now := time.Now().UTC()
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if s := c.QueryParam("to"); s != "" {
		if to, err = parseDay("to", s); err != nil {
			return
		}
	}
	from = to.AddDate(0, 0, -29)
	if s := c.QueryParam("from"); s != "" {
		if from, err = parseDay("from", s); err != nil {
			return
		}
	}
	if from.After(to) {
		err = errs.Field("from", "must not be after to")
		return
	}
	if to.Sub(from) > maxRangeDays*24*time.Hour {
		err = errs.Field("from", "the range is longer than %d days", maxRangeDays)
		return
	}
	if s := c.QueryParam("segment_id"); s != "" {
		id, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || id <= 0 {
			err = errs.Field("segment_id", "must be a positive integer")
			return
		}
		seg = &id
	}
	return
}

// Standard is GET /reports/standard?from=&to=&segment_id=.
func (h *Handler) Standard(c echo.Context) error {
	from, to, seg, err := standardQuery(c)
	if err != nil {
		return err
	}
	r, err := h.standard(c.Request().Context(), from, to, seg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// StandardCSV is GET /reports/standard.csv: the standard report's days.
func (h *Handler) StandardCSV(c echo.Context) error {
	from, to, seg, err := standardQuery(c)
	if err != nil {
		return err
	}
	r, err := h.standard(c.Request().Context(), from, to, seg)
	if err != nil {
		return err
	}
	out, err := h.startCSV(c, fmt.Sprintf("standard-%s-%s.csv", r.From, r.To),
		[]string{"date", "created", "sent", "bounced", "complaints", "opens", "clicks", "unsubscribes", "conversions", "revenue"})
	if err != nil {
		return nil
	}
	for _, d := range r.Days {
		if err := out.row([]string{d.Date, formatInt(d.Created), formatInt(d.Sent), formatInt(d.Bounced), formatInt(d.Complaints),
			formatInt(d.Opens), formatInt(d.Clicks), formatInt(d.Unsubscribes), formatInt(d.Conversions), formatFloat(d.Revenue)}); err != nil {
			return h.abort(c, "standard", err)
		}
	}
	if err := out.close(); err != nil {
		return h.abort(c, "standard", err)
	}
	return nil
}

func (h *Handler) standard(ctx context.Context, from, to time.Time, seg *int64) (Standard, error) {
	end := to.AddDate(0, 0, 1)
	r := Standard{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), SegmentID: seg, Campaigns: []int64{}}
	days := map[string]*Day{}
	for d := from; d.Before(end); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		days[k] = &Day{Date: k}
		r.Days = append(r.Days, Day{Date: k})
	}
	if err := h.audience(ctx, from, end, seg, &r, days); err != nil {
		return r, err
	}
	if err := h.campaignDays(ctx, from, end, seg, &r, days); err != nil {
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
func (h *Handler) audience(ctx context.Context, from, end time.Time, seg *int64, r *Standard, days map[string]*Day) error {
	count := func(ids []int64) error {
		rows, err := h.cfg.Pool.Query(ctx, `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM contacts
			WHERE ($1::bigint[] IS NULL OR id = ANY($1)) AND status <> 'erased' AND created_at >= $2 AND created_at < $3 GROUP BY 1`, ids, from, end)
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
		n, err := contacts.CountSendable(ctx, h.cfg.Pool)
		if err != nil {
			return fmt.Errorf("standard report audience: %w", err)
		}
		r.Audience.Size = n
		return count(nil)
	}
	s, err := contacts.GetSegment(ctx, h.cfg.Pool, *seg)
	if err != nil {
		return err
	}
	rule, err := contacts.CompileRule(s.Rule)
	if err != nil {
		return errs.New(errs.Conflict, "segment %q has an invalid rule: %v", s.Name, err)
	}
	var after int64
	for {
		page, err := contacts.MatchPage(ctx, h.cfg.Pool, rule, after, segmentPage)
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
func (h *Handler) campaignDays(ctx context.Context, from, end time.Time, seg *int64, r *Standard, days map[string]*Day) error {
	rows, err := h.cfg.Pool.Query(ctx, `SELECT id FROM campaigns WHERE ($1::bigint IS NULL OR segment_id = $1) AND launched_at IS NOT NULL ORDER BY id`, seg)
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
	rows, err = h.cfg.Pool.Query(ctx, `SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD'), metric, sum(count)::bigint, sum(value)::float8
		FROM rollups
		WHERE campaign_id = ANY($1) AND bucket >= $2 AND bucket < $3 AND NOT machine
			AND metric IN ('sent', 'send_bounced', 'bounces', 'complaints', 'opens', 'unique_opens', 'clicks', 'unique_clicks', 'unsubscribes', 'conversions', 'revenue')
		GROUP BY 1, 2`, r.Campaigns, from, end)
	if err != nil {
		return fmt.Errorf("standard report rollups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, metric string
		var n int64
		var v float64
		if err := rows.Scan(&day, &metric, &n, &v); err != nil {
			return fmt.Errorf("standard report rollups: %w", err)
		}
		d := days[day]
		if d == nil {
			continue
		}
		switch metric {
		case "sent":
			d.Sent += n
			r.Deliverability.Sent += n
		case "send_bounced":
			d.Sent += n
			d.Bounced += n
			r.Deliverability.Sent += n
			r.Deliverability.Bounced += n
		case "bounces":
			d.Bounced += n
			r.Deliverability.Bounced += n
		case "complaints":
			d.Complaints += n
			r.Deliverability.Complaints += n
		case "opens":
			d.Opens += n
			r.Engagement.Opens += n
		case "unique_opens":
			r.Engagement.UniqueOpens += n
		case "clicks":
			d.Clicks += n
			r.Engagement.Clicks += n
		case "unique_clicks":
			r.Engagement.UniqueClicks += n
		case "unsubscribes":
			d.Unsubscribes += n
			r.Unsubscribes.Count += n
		case "conversions":
			d.Conversions += n
			r.Revenue.Conversions += n
		case "revenue":
			d.Revenue += v
			r.Revenue.Attributed += v
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("standard report rollups: %w", err)
	}
	err = h.cfg.Pool.QueryRow(ctx, `SELECT coalesce(sum(t.value), 0)::float8 FROM transactions t
		WHERE t.occurred_at >= $1 AND t.occurred_at < $2
			AND ($3::bigint IS NULL OR t.campaign_id = ANY($4) OR t.contact_id IN (SELECT contact_id FROM deliveries WHERE campaign_id = ANY($4)))`,
		from, end, seg, r.Campaigns).Scan(&r.Revenue.Total)
	if err != nil {
		return fmt.Errorf("standard report revenue: %w", err)
	}
	return nil
}
