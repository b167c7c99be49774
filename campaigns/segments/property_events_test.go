package segments

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// eventTypes are the types random events get ("none" never happens).
var eventTypes = []string{"purchase", "cart_abandoned", "signup", "none"}

// randomEventAtom is an event condition: counts, sums and the last event
// (translatable), engagement with the two campaigns randomEvents makes,
// and forms only the Go path runs.
func randomEventAtom(r *rand.Rand, op string) string {
	typ := fmt.Sprintf("%q", eventTypes[r.IntN(len(eventTypes))])
	win := fmt.Sprintf("%q", []string{"1d", "7d", "30d", "12h", "2w", "90m"}[r.IntN(6)])
	camp := []string{"1", "2", `"Nowruz sale"`, `"Spring"`}[r.IntN(4)]
	switch r.IntN(12) {
	case 0, 1:
		return fmt.Sprintf("events.count(%s, %s) %s %s", typ, win, op, []string{"0", "1", "2", "1.5"}[r.IntN(4)])
	case 2:
		return fmt.Sprintf("events.count(%s, %s) in [%s]", typ, win, []string{"0", "1, 2", "2, 3"}[r.IntN(3)])
	case 3:
		f := fmt.Sprintf("%q", []string{"value", "items", "sku"}[r.IntN(3)])
		return fmt.Sprintf("events.sum(%s, %s, %s) %s %s", typ, f, win, op, []string{"0", "50", "100.5", "2"}[r.IntN(4)])
	case 4:
		return fmt.Sprintf("events.last(%s).value %s %s", typ, op, []string{"0", "50", "100", "99.5"}[r.IntN(4)])
	case 5:
		return fmt.Sprintf("events.last(%s) %s nil", typ, []string{"==", "!="}[r.IntN(2)])
	case 6:
		return []string{
			fmt.Sprintf("events.last(%s)?.value > 100", typ),
			fmt.Sprintf("events.last(%s).currency == \"EUR\"", typ),
			fmt.Sprintf("events.last(%s).currency startsWith \"J\"", typ),
			fmt.Sprintf("days_since(events.last(%s).at) %s %d", typ, op, []int{0, 1, 7, 30}[r.IntN(4)]),
			fmt.Sprintf("events.last(%s).at < date(\"2026-02-20\")", typ),
		}[r.IntN(5)]
	case 7, 8:
		return fmt.Sprintf("%s(%s)", []string{"opened", "clicked"}[r.IntN(2)], camp)
	default:
		// Go only (with the event terms as columns of its pages).
		return []string{
			fmt.Sprintf("events.count(%s, %s) > stats.opens", typ, win),
			fmt.Sprintf("events.last(%s).attributes.items > 1", typ),
			fmt.Sprintf("events.last(%s).attributes.sku == \"A\"", typ),
			fmt.Sprintf("events.sum(%s, \"value\", %s) + events.count(%s, %s) > 100", typ, win, typ, win),
		}[r.IntN(4)]
	}
}

// randomEvents gives about two thirds of the contacts random events
// (some on window edges, some after now, some at equal times) and
// deliveries of two campaigns (1 "Nowruz sale", 2 "Spring") with opens and
// clicks before and after now.
func randomEvents(t *testing.T, b *bundle, r *rand.Rand, now time.Time, ids []int64) {
	t.Helper()
	// Campaigns and deliveries are set-based plants of states only a
	// launch, a send and the tracking writer produce.
	_, err := b.pool.Exec(b.ctx, `INSERT INTO campaigns (id, name) VALUES (1, 'Nowruz sale'), (2, 'Spring') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	at := func() time.Time {
		switch r.IntN(6) {
		case 0: // on an edge of a window
			return now.Add(-[]time.Duration{0, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour}[r.IntN(5)])
		case 1: // not yet
			return now.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		}
		return now.Add(-time.Duration(r.Int64N(int64(40*24*time.Hour))) / time.Second * time.Second)
	}
	var rows []contacts.TransactionRow
	for _, id := range ids {
		if r.IntN(3) == 0 {
			continue
		}
		var last time.Time
		for range 1 + r.IntN(4) {
			attrs := map[string]any{}
			switch r.IntN(4) {
			case 0:
				attrs["items"] = float64(r.IntN(4))
			case 1:
				attrs["items"] = "two"
			case 2:
				attrs["sku"] = []string{"A", "B"}[r.IntN(2)]
			}
			when := at()
			if !last.IsZero() && r.IntN(4) == 0 {
				when = last // a tie: the higher id is the last
			}
			last = when
			rows = append(rows, contacts.TransactionRow{ContactID: id, Type: eventTypes[r.IntN(3)],
				Value: []float64{0, 49.5, 50, 100, 120.25}[r.IntN(5)], Currency: []string{"EUR", "JPY", ""}[r.IntN(3)],
				Attributes: attrs, OccurredAt: when})
		}
	}
	_, err = contacts.InsertTransactions(b.ctx, b.pool, rows)
	require.NoError(t, err)
	maybe := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		x := at()
		return &x
	}
	for _, id := range ids {
		for _, camp := range []int64{1, 2} {
			if r.IntN(3) != 0 {
				continue
			}
			_, err := b.pool.Exec(b.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, first_open_at, first_click_at)
				VALUES ($1, 'main', $2, 'sent', $3, $4)`, camp, id, maybe(), maybe())
			require.NoError(t, err)
		}
	}
}
