package contacts

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/errs"
)

// EventsQuery selects a page of a contact's events (GET
// /contacts/{id}/events).
type EventsQuery struct {
	// Type keeps only events of this type; "" keeps all.
	Type string
	// After is the previous page's next cursor ("" for the newest page).
	After string
	// Limit is the page size: 1–200, default 50.
	Limit int
}

// ContactEvents reads one page of a contact's events (transactions of
// every type), newest first, and the cursor of the next (older) page, ""
// at the end. An unknown contact gives errs.NotFound; a bad type or
// cursor errs.Invalid.
func ContactEvents(ctx context.Context, db DBTX, contactID int64, q EventsQuery) ([]Transaction, string, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		return nil, "", errs.Field("limit", "must be at most 200")
	}
	if q.Type != "" && !eventType.MatchString(q.Type) {
		return nil, "", errs.Field("type", "must be 1–64 lower-case letters, digits, _ . or - (e.g. purchase)")
	}
	at, id := timelineEnd, int64(math.MaxInt64)
	if q.After != "" {
		var ok bool
		if at, id, ok = parseEventCursor(q.After); !ok {
			return nil, "", errs.Field("after", "must be a cursor from a previous page")
		}
	}
	if _, err := Get(ctx, db, contactID); err != nil {
		return nil, "", err
	}
	rows, err := db.Query(ctx, query("contact_events"), contactID, q.Type, at, id, q.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("contact %d events: %w", contactID, err)
	}
	defer rows.Close()
	out := []Transaction{}
	for rows.Next() {
		var t Transaction
		if err := rows.Scan(&t.ID, &t.ContactID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.DeliveryID,
			&t.Attributes, &t.OccurredAt, &t.CreatedAt, &t.IdempotencyKey); err != nil {
			return nil, "", fmt.Errorf("contact %d events: %w", contactID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("contact %d events: %w", contactID, err)
	}
	next := ""
	if len(out) == q.Limit {
		last := out[len(out)-1]
		next = strconv.FormatInt(last.OccurredAt.UnixMicro(), 10) + "." + strconv.FormatInt(last.ID, 10)
	}
	return out, next, nil
}

func parseEventCursor(s string) (time.Time, int64, bool) {
	us, idText, ok := strings.Cut(s, ".")
	if !ok {
		return time.Time{}, 0, false
	}
	micros, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(idText, 10, 64)
	if err1 != nil || err2 != nil || id < 0 {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(micros), id, true
}
