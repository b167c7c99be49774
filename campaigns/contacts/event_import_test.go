package contacts

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// uploadEvents posts an events file to /events/import.
func (a api) uploadEvents(csv string, fields map[string]string) (int, map[string]any) {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(a.t, w.WriteField(k, v))
	}
	f, err := w.CreateFormFile("file", "events.csv")
	require.NoError(a.t, err)
	_, err = f.Write([]byte(csv))
	require.NoError(a.t, err)
	require.NoError(a.t, w.Close())
	req, err := http.NewRequestWithContext(a.ctx, "POST", a.url+"/events/import", &body)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return a.send(req)
}

// eventsCSV has good lines (2, 3, 4, 6, 9, 10) and bad ones, each bad for
// one reason.
const eventsCSV = "email,type,occurred_at,value,currency,idempotency_key,attr.order,attr.items\n" +
	"sara@example.com,purchase,2025-11-02T10:30:00Z,49.90,eur,order-1,A-1,2\n" + // 2
	"SARA@example.com,signup,2025-10-01,,,,,\n" + // 3: a date, midnight UTC
	"sara@example.com,cart_abandoned,1404/08/10,,,,C-9,3\n" + // 4: Jalali = 2025-11-01
	"nobody@example.com,purchase,2025-11-03T00:00:00Z,10,EUR,,,\n" + // 5: unknown email
	"ali@example.com,purchase,2025-11-04T08:00:00+03:30,۱۲۰,EUR,order-2,B-2,1\n" + // 6: Persian digits
	"ali@example.com,Bad Type,2025-11-04T08:00:00Z,,,,,\n" + // 7: bad type
	"ali@example.com,purchase,yesterday,,,,,\n" + // 8: bad date
	"ali@example.com,page_viewed,2025-11-05 12:00:00,,,,,\n" + // 9: no zone: UTC
	"ali@example.com,purchase,2025-11-06T00:00:00Z,5,EUR,order-1,A-1,2\n" + // 10: order-1 again, another body
	"ali@example.com,purchase,2025-11-07T00:00:00Z,abc,EUR,,,\n" // 11: bad value

func TestImportEventsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	sara := a.mustCreate(t, ContactInput{Email: "sara@example.com"})
	ali := a.mustCreate(t, ContactInput{Email: "ali@example.com"})

	code, body := a.uploadEvents(eventsCSV, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	got := a.waitImport(idOf(t, body))
	require.Equal(t, ImportFinished, got["status"], got)
	require.Equal(t, ImportEvents, got["kind"])
	require.Equal(t, false, got["create_contacts"])
	for k, want := range map[string]float64{"total": 10, "inserted": 5, "skipped": 0, "rejected_count": 5} {
		require.Equal(t, want, got[k], k)
	}
	reasons := map[int]string{}
	for _, r := range got["rejected"].([]any) {
		m := r.(map[string]any)
		reasons[int(m["line"].(float64))] = m["reason"].(string)
	}
	require.Contains(t, reasons[5], "no contact with email nobody@example.com")
	require.Contains(t, reasons[7], "lower-case letters, digits")
	require.Contains(t, reasons[8], "RFC 3339")
	require.Contains(t, reasons[10], `idempotency_key "order-1" was already used for a different event`)
	require.Contains(t, reasons[11], "not a number")
	require.Len(t, reasons, 5)

	// Good lines are stored with their own times, types and attributes.
	rows, err := a.pool.Query(a.ctx, `SELECT contact_id, type, value::float8, currency, occurred_at, attributes
		FROM transactions ORDER BY occurred_at`)
	require.NoError(t, err)
	type stored struct {
		contact int64
		typ     string
		value   float64
		cur     string
		at      time.Time
		attrs   map[string]any
	}
	var all []stored
	for rows.Next() {
		var s stored
		require.NoError(t, rows.Scan(&s.contact, &s.typ, &s.value, &s.cur, &s.at, &s.attrs))
		all = append(all, s)
	}
	require.NoError(t, rows.Err())
	require.Len(t, all, 5)
	require.Equal(t, sara, all[0].contact)
	require.Equal(t, "signup", all[0].typ)
	require.Equal(t, time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), all[0].at.UTC(), "a date is midnight UTC")
	require.Empty(t, all[0].attrs)
	require.Equal(t, "cart_abandoned", all[1].typ)
	require.Equal(t, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), all[1].at.UTC(), "1404/08/10 is 2025-11-01")
	require.Equal(t, map[string]any{"order": "C-9", "items": 3.0}, all[1].attrs)
	require.Equal(t, "purchase", all[2].typ)
	require.Equal(t, "EUR", all[2].cur)
	require.Equal(t, time.Date(2025, 11, 4, 4, 30, 0, 0, time.UTC), all[3].at.UTC())
	require.InDelta(t, 120, all[3].value, 1e-9)
	require.Equal(t, time.Date(2025, 11, 5, 12, 0, 0, 0, time.UTC), all[4].at.UTC())

	// Purchases count as RecordEvent counts them.
	s, err := Get(a.ctx, a.pool, sara)
	require.NoError(t, err)
	require.Equal(t, 1, s.Stats.Conversions)
	require.InDelta(t, 49.9, s.Stats.Revenue, 1e-9)
	require.Equal(t, time.Date(2025, 11, 2, 10, 30, 0, 0, time.UTC), s.Stats.LastPurchaseAt.UTC())
	l, err := Get(a.ctx, a.pool, ali)
	require.NoError(t, err)
	require.Equal(t, 1, l.Stats.Conversions)
	require.InDelta(t, 120, l.Stats.Revenue, 1e-9)
	var contacts int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM contacts`).Scan(&contacts))
	require.Equal(t, 2, contacts, "an unknown email is refused, not created")

	// The same keyed lines again are skipped, and count nothing twice;
	// with create_contacts the unknown email becomes a contact.
	again := "email,type,occurred_at,value,currency,idempotency_key,attr.order,attr.items\n" +
		"sara@example.com,purchase,2025-11-02T10:30:00Z,49.90,EUR,order-1,A-1,2\n" +
		"nobody@example.com,purchase,2025-11-03T00:00:00Z,10,EUR,order-3,,\n"
	code, body = a.uploadEvents(again, map[string]string{"create_contacts": "true"})
	require.Equal(t, http.StatusAccepted, code, body)
	got = a.waitImport(idOf(t, body))
	require.Equal(t, ImportFinished, got["status"], got)
	for k, want := range map[string]float64{"total": 2, "inserted": 1, "skipped": 1, "rejected_count": 0} {
		require.Equal(t, want, got[k], k)
	}
	s, err = Get(a.ctx, a.pool, sara)
	require.NoError(t, err)
	require.Equal(t, 1, s.Stats.Conversions, "a skipped line counts nothing")
	var nobody int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT conversions FROM contacts WHERE email_key = 'nobody@example.com'`).Scan(&nobody))
	require.Equal(t, 1, nobody)

	// A file the import cannot read fails with a message that says why.
	for csv, want := range map[string]string{
		"email,kind,occurred_at\n":         `unknown column "kind"`,
		"type,occurred_at\n":               "no email or contact_id column",
		"email,type\nsara@example.com,x\n": "no occurred_at column",
	} {
		code, body = a.uploadEvents(csv, nil)
		require.Equal(t, http.StatusAccepted, code, body)
		got = a.waitImport(idOf(t, body))
		require.Equal(t, ImportFailed, got["status"], csv)
		require.Contains(t, got["error"], want, csv)
	}
	code, body = a.uploadEvents("email,type,occurred_at\n", map[string]string{"create_contacts": "maybe"})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
}

// TestImportEventsRetry runs one import twice, as a retried job does: the
// second run stores nothing more and counts no purchase twice.
func TestImportEventsRetry(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id := a.mustCreate(t, ContactInput{Email: "retry@example.com"})
	file := "contact_id,type,occurred_at,value,currency\n" +
		itoa(id) + ",purchase,2025-01-02T00:00:00Z,10,EUR\n" +
		itoa(id) + ",purchase,2025-01-03T00:00:00Z,10,EUR\n" +
		itoa(id) + ",app_opened,2025-01-04T00:00:00Z,,\n"
	var importID int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO imports (kind) VALUES ('events') RETURNING id`).Scan(&importID))
	for range 2 {
		res, err := ImportEventsCSV(context.Background(), a.pool, strings.NewReader(file), EventImportOptions{ImportID: importID}, nil)
		require.NoError(t, err)
		require.Equal(t, int64(3), res.Total)
		require.Equal(t, int64(3), res.Inserted, "lines stored by the earlier attempt count as this import's")
		require.Zero(t, res.RejectedCount)
	}
	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM transactions`).Scan(&n))
	require.Equal(t, 3, n)
	c, err := Get(a.ctx, a.pool, id)
	require.NoError(t, err)
	require.Equal(t, 2, c.Stats.Conversions)
	require.InDelta(t, 20, c.Stats.Revenue, 1e-9)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
