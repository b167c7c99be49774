package contacts

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEventIdempotencySequential(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a := newAPI(t, func(d *Deps) { d.Conversions = rec })
	ev := map[string]any{"email": "Key@Example.com", "type": "purchase", "value": 30, "currency": "EUR",
		"attributes": map[string]any{"order": "A-1", "items": 2}, "idempotency_key": "order-A-1"}

	code, first := a.do("POST", "/events", ev)
	require.Equal(t, http.StatusAccepted, code, first)
	require.Equal(t, false, first["replayed"])
	require.Equal(t, "order-A-1", first["idempotency_key"])

	// The same body again (attributes in another order, email in another case).
	again := map[string]any{"email": "key@example.com", "type": "purchase", "value": 30, "currency": "eur",
		"attributes": map[string]any{"items": 2, "order": "A-1"}, "idempotency_key": "order-A-1"}
	code, second := a.do("POST", "/events", again)
	require.Equal(t, http.StatusOK, code, second)
	require.Equal(t, first["id"], second["id"])
	require.Equal(t, first["contact_id"], second["contact_id"])
	require.Equal(t, true, second["replayed"])
	require.Equal(t, false, second["contact_created"])

	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM transactions WHERE idempotency_key = 'order-A-1'`).Scan(&n))
	require.Equal(t, 1, n)
	require.Len(t, rec.seen, 1, "a replay hands nothing to the conversion recorder")
	c, err := Get(a.ctx, a.pool, int64(first["contact_id"].(float64)))
	require.NoError(t, err)
	require.Equal(t, 1, c.Stats.Conversions, "a replay does not count twice")
	require.InDelta(t, 30, c.Stats.Revenue, 1e-9)

	// Without a key, the same body is a second event.
	delete(ev, "idempotency_key")
	code, third := a.do("POST", "/events", ev)
	require.Equal(t, http.StatusAccepted, code, third)
	require.NotEqual(t, first["id"], third["id"])
}

func TestEventIdempotencyMismatch(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	code, first := a.do("POST", "/events", map[string]any{"email": "m@example.com", "type": "signup", "idempotency_key": "k-1"})
	require.Equal(t, http.StatusAccepted, code, first)
	for _, other := range []map[string]any{
		{"email": "m@example.com", "type": "purchase", "idempotency_key": "k-1"},
		{"email": "n@example.com", "type": "signup", "idempotency_key": "k-1"},
		{"email": "m@example.com", "type": "signup", "value": 3, "idempotency_key": "k-1"},
		{"email": "m@example.com", "type": "signup", "attributes": map[string]any{"plan": "pro"}, "idempotency_key": "k-1"},
	} {
		code, body := a.do("POST", "/events", other)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%v: %v", other, body)
		e := body["error"].(map[string]any)
		require.Equal(t, "idempotency_key", e["field"], body)
		require.Contains(t, e["message"], `"k-1"`, "the error names the key")
	}
	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM transactions`).Scan(&n))
	require.Equal(t, 1, n)
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM contacts WHERE email_key = 'n@example.com'`).Scan(&n))
	require.Equal(t, 0, n, "a refused event creates no contact")

	code, body := a.do("POST", "/events", map[string]any{"email": "m@example.com", "type": "signup", "idempotency_key": "x\x01"})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
}

func TestEventIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a := newAPI(t, func(d *Deps) { d.Conversions = rec })
	const posts = 8
	codes := make([]int, posts)
	ids := make([]any, posts)
	var wg sync.WaitGroup
	for i := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := a.do("POST", "/events", map[string]any{"email": "race@example.com", "type": "purchase",
				"value": 5, "idempotency_key": "race-1"})
			codes[i], ids[i] = code, body["id"]
		}()
	}
	wg.Wait()
	accepted := 0
	for i, code := range codes {
		require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, code)
		if code == http.StatusAccepted {
			accepted++
		}
		require.Equal(t, ids[0], ids[i], "every post answers the one stored event")
	}
	require.Equal(t, 1, accepted, "exactly one post stores the event")
	var n, conversions int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM transactions`).Scan(&n))
	require.Equal(t, 1, n)
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT conversions FROM contacts WHERE email_key = 'race@example.com'`).Scan(&conversions))
	require.Equal(t, 1, conversions)
}

func TestEventCustomTypes(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	for _, typ := range []string{"signup", "cart_abandoned", "plan_upgraded", "app.opened", "trial-ended", "x2"} {
		code, body := a.do("POST", "/events", map[string]any{"email": "types@example.com", "type": typ})
		require.Equal(t, http.StatusAccepted, code, "%s: %v", typ, body)
		require.Equal(t, typ, body["type"])
	}
	long := make([]byte, 65)
	for i := range long {
		long[i] = 'a'
	}
	for _, typ := range []string{"Signup", "cart abandoned", "_x", "", "ö", "a/b", string(long)} {
		code, body := a.do("POST", "/events", map[string]any{"email": "types@example.com", "type": typ})
		require.Equal(t, http.StatusUnprocessableEntity, code, "%q: %v", typ, body)
		e := body["error"].(map[string]any)
		require.Equal(t, "type", e["field"])
		require.Contains(t, e["message"], "lower-case letters, digits", "the message says the rule")
	}
}
