package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

var deliveryHeader = []string{"delivery_id", "step", "contact_id", "email", "status", "attempts",
	"queued_at", "sent_at", "bounced_at", "first_open_at", "first_click_at", "unsubscribed_at", "complained_at",
	"opens", "total_opens", "clicks", "total_clicks", "conversions", "revenue", "last_error"}

// DeliveriesCSV is GET /campaigns/:id/deliveries.csv: every delivery of
// the campaign with a summary of its events (opens and clicks human and
// total, conversions, revenue), streamed row by row in delivery id order.
func (h *Handler) DeliveriesCSV(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.cfg.Report(ctx, id); err != nil {
		return err
	}
	// One read-only transaction: a consistent snapshot. Its plan: one hash
	// aggregate of the campaign's events joined to the deliveries, without
	// JIT or parallel workers (which each rescanned the events) and with
	// the memory to keep the aggregate off disk; measured about 2.5 times
	// faster than the default plan (docs/benchmarks.md, Reports).
	tx, err := h.cfg.Pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fmt.Errorf("export deliveries: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, set := range []string{`SET LOCAL jit = off`, `SET LOCAL max_parallel_workers_per_gather = 0`, `SET LOCAL work_mem = '64MB'`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return fmt.Errorf("export deliveries: %w", err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT d.id, d.step, d.contact_id, coalesce(ct.email, ''), d.status, d.attempts,
			d.queued_at, d.sent_at, d.bounced_at, d.first_open_at, d.first_click_at, d.unsubscribed_at, d.complained_at,
			coalesce(e.opens, 0), coalesce(e.total_opens, 0), coalesce(e.clicks, 0), coalesce(e.total_clicks, 0),
			coalesce(e.conversions, 0), coalesce(e.revenue, 0), d.last_error
		FROM deliveries d
		LEFT JOIN contacts ct ON ct.id = d.contact_id
		LEFT JOIN (
			SELECT delivery_id,
				count(*) FILTER (WHERE type = 'open' AND NOT machine) AS opens,
				count(*) FILTER (WHERE type = 'open') AS total_opens,
				count(*) FILTER (WHERE type = 'click' AND NOT machine) AS clicks,
				count(*) FILTER (WHERE type = 'click') AS total_clicks,
				count(*) FILTER (WHERE type = 'conversion') AS conversions,
				sum(value) FILTER (WHERE type = 'conversion')::float8 AS revenue
			FROM events WHERE campaign_id = $1 GROUP BY delivery_id
		) e ON e.delivery_id = d.id
		WHERE d.campaign_id = $1 ORDER BY d.id`, id)
	if err != nil {
		return fmt.Errorf("export deliveries: %w", err)
	}
	defer rows.Close()
	out, err := h.startCSV(c, fmt.Sprintf("campaign-%d-deliveries.csv", id), deliveryHeader)
	if err != nil {
		return nil
	}
	var (
		did, contact                                  int64
		step, email, status, lastError                string
		attempts                                      int32
		queued                                        time.Time
		sent, bounced, open, click, unsub, complained *time.Time
		opens, tOpens, clicks, tClicks, conversions   int64
		revenue                                       float64
	)
	rec := make([]string, len(deliveryHeader))
	for rows.Next() {
		if err := rows.Scan(&did, &step, &contact, &email, &status, &attempts, &queued, &sent, &bounced, &open, &click,
			&unsub, &complained, &opens, &tOpens, &clicks, &tClicks, &conversions, &revenue, &lastError); err != nil {
			return h.abort(c, "deliveries", err)
		}
		rec = append(rec[:0], formatInt(did), step, formatInt(contact), email, status, formatInt(int64(attempts)),
			formatTime(&queued), formatTime(sent), formatTime(bounced), formatTime(open), formatTime(click),
			formatTime(unsub), formatTime(complained), formatInt(opens), formatInt(tOpens), formatInt(clicks),
			formatInt(tClicks), formatInt(conversions), formatFloat(revenue), lastError)
		if err := out.row(rec); err != nil {
			return h.abort(c, "deliveries", err)
		}
	}
	if err := rows.Err(); err != nil {
		return h.abort(c, "deliveries", err)
	}
	if err := out.close(); err != nil {
		return h.abort(c, "deliveries", err)
	}
	return nil
}
