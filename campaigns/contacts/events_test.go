package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// recorder is a ConversionRecorder that checks it runs inside the
// transaction that inserted the row.
type recorder struct{ seen []Transaction }

func (r *recorder) RecordConversion(ctx context.Context, tx pgx.Tx, t Transaction) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE id = $1`, t.ID).Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return io.ErrUnexpectedEOF
	}
	r.seen = append(r.seen, t)
	return nil
}

func TestEventsHTTP(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a := newAPI(t, func(d *Deps) { d.Conversions = rec })
	var campaign int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO campaigns (name) VALUES ('Spring') RETURNING id`).Scan(&campaign))

	code, body := a.do("POST", "/events", map[string]any{"email": "A@B.example", "type": "purchase", "value": 49.5,
		"currency": "eur", "campaign_id": campaign, "attributes": map[string]any{"order": "o-1"}})
	require.Equal(t, http.StatusAccepted, code, body)
	txID, contactID := idOf(t, body), int64(body["contact_id"].(float64))
	require.Equal(t, true, body["contact_created"])
	require.Len(t, rec.seen, 1)
	require.Equal(t, txID, rec.seen[0].ID)
	require.Equal(t, "EUR", rec.seen[0].Currency)
	require.Equal(t, campaign, *rec.seen[0].CampaignID)

	code, body = a.do("POST", "/events", map[string]any{"contact_id": contactID, "type": "purchase", "value": 10})
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, false, body["contact_created"])
	code, body = a.do("POST", "/events", map[string]any{"email": "a@b.example", "type": "signup"})
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, float64(contactID), body["contact_id"])
	require.Len(t, rec.seen, 2, "custom events are not conversions")

	c, err := Get(a.ctx, a.pool, contactID)
	require.NoError(t, err)
	require.Equal(t, 2, c.Stats.Conversions)
	require.InDelta(t, 59.5, c.Stats.Revenue, 1e-9)
	require.NotNil(t, c.Stats.LastPurchaseAt)

	for _, bad := range []map[string]any{
		{"type": "purchase"},
		{"email": "a@b.example"},
		{"email": "a@b.example", "type": "Purchase!"},
		{"email": "nope", "type": "purchase"},
		{"contact_id": 999999, "type": "purchase"},
		{"email": "a@b.example", "type": "purchase", "currency": "euro"},
		{"email": "a@b.example", "type": "purchase", "campaign_id": 999999},
		{"contact_id": contactID, "email": "other@b.example", "type": "purchase"},
	} {
		code, body = a.do("POST", "/events", bad)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%v: %v", bad, body)
	}
	c, _ = Get(a.ctx, a.pool, contactID)
	require.Equal(t, 2, c.Stats.Conversions, "rejected events change nothing")
}

func TestEraseAndExport(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id := a.mustCreate(t, ContactInput{Email: "erase.me@example.com", Name: "Erin", Attributes: map[string]any{"city": "Tabriz"},
		Tags: []string{"vip"}, Consent: &Consent{Source: "form", IP: "198.51.100.4"}})
	var campaign, delivery int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO campaigns (name) VALUES ('C') RETURNING id`).Scan(&campaign))
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'main', $2, 'sent', now()) RETURNING id`, campaign, id).Scan(&delivery))
	_, err := a.pool.Exec(a.ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, user_agent, ip)
		VALUES ($1, $2, 'main', $3, 'open', 'Mozilla/5.0 (Erin''s phone)', '203.0.113.9')`, delivery, campaign, id)
	require.NoError(t, err)
	_, _, err = RecordEvent(a.ctx, a.pool, nil, EventInput{ContactID: id, Type: "purchase", Value: 20, Attributes: map[string]any{"address": "1 Main St"}})
	require.NoError(t, err)
	require.NoError(t, BumpSent(a.ctx, a.pool, []int64{id}, time.Now()))

	// Export: everything, as JSON.
	res, err := http.Get(a.url + "/contacts/" + strconv.FormatInt(id, 10) + "/export")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var doc map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&doc))
	contact := doc["contact"].(map[string]any)
	require.Equal(t, "erase.me@example.com", contact["email"])
	require.Equal(t, "198.51.100.4", contact["consent"].(map[string]any)["ip"])
	require.Len(t, doc["deliveries"], 1)
	require.Len(t, doc["transactions"], 1)
	events := doc["events"].([]any)
	require.Len(t, events, 1)
	require.Equal(t, "203.0.113.9", events[0].(map[string]any)["ip"])
	require.Equal(t, []any{}, doc["suppressions"])

	code, _ := a.do("DELETE", "/contacts/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = a.do("DELETE", "/contacts/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusNoContent, code, "erasing twice is harmless")
	code, _ = a.do("DELETE", "/contacts/987654", nil)
	require.Equal(t, http.StatusNotFound, code)

	c, err := Get(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.Equal(t, "erased-"+strconv.FormatInt(id, 10)+"@erased.invalid", c.Email)
	require.Equal(t, StatusErased, c.Status)
	require.Empty(t, c.Name)
	require.Empty(t, c.Attributes)
	require.Empty(t, c.Tags)
	require.Nil(t, c.Consent)
	require.Equal(t, 1, c.Stats.Sent, "anonymous counts stay")
	require.Equal(t, 1, c.Stats.Conversions)

	// The events' IP address and user agent are cleared by their owner,
	// tracking (tracking.TestEraseClearsEvents); here the events stay.
	require.Equal(t, 1, func() (n int) {
		require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM events WHERE contact_id = $1`, id).Scan(&n))
		return n
	}())
	var attrs map[string]any
	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT attributes, (SELECT count(*) FROM deliveries WHERE contact_id = $1)
		FROM transactions WHERE contact_id = $1`, id).Scan(&attrs, &n))
	require.Empty(t, attrs)
	require.Equal(t, 1, n, "rows stay for reports")

	// Never sent to again, never revived.
	ok, err := IsSendable(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, Suppress(a.ctx, a.pool, id, StatusUnsubscribed))
	c, _ = Get(a.ctx, a.pool, id)
	require.Equal(t, StatusErased, c.Status)
	code, _ = a.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), map[string]any{"email": "erase.me@example.com"})
	require.Equal(t, http.StatusConflict, code)
	code, _ = a.do("POST", "/events", map[string]any{"contact_id": id, "type": "purchase"})
	require.Equal(t, http.StatusConflict, code)
	// That an erased contact is in no segment is campaigns/segments'
	// TestErasedInNoSegment.
}

// eventsNotHeld is the test API's EventEraser: this package's tests do not
// run tracking (which imports contacts), so it checks it runs inside the
// erasing transaction and leaves the events to tracking's own test.
var eventsNotHeld = EventEraserFunc(func(ctx context.Context, tx pgx.Tx, contactID int64) error {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM contacts WHERE id = $1`, contactID).Scan(&status); err != nil {
		return err
	}
	if status != StatusErased {
		return fmt.Errorf("event eraser called outside the erasing transaction: status %q", status)
	}
	return nil
})

// TestEraseNeedsEventsErased: a failing event eraser rolls the whole
// erasure back, and no eraser at all is refused.
func TestEraseNeedsEventsErased(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.mustCreate(t, ContactInput{Email: "keep.me@example.com", Name: "Kim"})
	boom := errors.New("boom")
	err := Erase(b.ctx, b.pool, EventEraserFunc(func(context.Context, pgx.Tx, int64) error { return boom }), id)
	require.ErrorIs(t, err, boom)
	c, err := Get(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.Equal(t, "keep.me@example.com", c.Email, "rolled back")
	require.ErrorIs(t, Erase(b.ctx, b.pool, nil, id), ErrNoEventEraser)
	require.NoError(t, Erase(b.ctx, b.pool, eventsNotHeld, id))
	c, err = Get(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.Equal(t, StatusErased, c.Status)
}
