package contacts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// hookLog is an EventHook (and ConversionRecorder) that notes the events it
// is handed and fails those of type "explode".
type hookLog struct {
	mu   sync.Mutex
	seen map[int64]int
	conv int
}

func (h *hookLog) EventRecorded(_ context.Context, _ pgx.Tx, t Transaction) error {
	if t.Type == "explode" {
		return errors.New("hook refuses explode")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[int64]int{}
	}
	h.seen[t.ID]++
	return nil
}

func (h *hookLog) RecordConversion(context.Context, pgx.Tx, Transaction) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conv++
	return nil
}

// heldWriter is an API whose event writer holds its first group's
// transaction (entered is closed then) until release is closed, so every
// later call queues behind it and the next group takes them all.
type heldWriter struct {
	api
	w                *EventWriter
	entered, release chan struct{}
}

func groupAPI(t *testing.T, hook *hookLog) heldWriter {
	t.Helper()
	h := heldWriter{entered: make(chan struct{}), release: make(chan struct{})}
	h.api = newAPI(t, func(d *Deps) {
		h.w = NewEventWriter(d.Pool, hook, hook)
		h.w.group.Writers = 1 // one group at a time, so the held one makes the next take all
		var once sync.Once
		h.w.beforeWrite = func(int) {
			once.Do(func() {
				close(h.entered)
				<-h.release
			})
		}
		d.EventWriter = h.w
	})
	return h
}

type eventCall struct {
	body map[string]any
	code int
	out  map[string]any
}

// postAll posts the first call, waits until its group is being written
// (and held), posts the rest concurrently, releases the first group once
// joining callers wait in the writer's queue, and returns when all have
// answered.
func postAll(t *testing.T, h heldWriter, calls []*eventCall, joining int) {
	t.Helper()
	var wg sync.WaitGroup
	post := func(c *eventCall) {
		defer wg.Done()
		c.code, c.out = h.do(http.MethodPost, "/events", c.body)
	}
	wg.Add(len(calls))
	go post(calls[0])
	select {
	case <-h.entered:
	case <-time.After(time.Minute):
		t.Fatal("the first group never started")
	}
	for _, c := range calls[1:] {
		go post(c)
	}
	require.Eventually(t, func() bool { return h.w.group.Waiting() == joining },
		time.Minute, 5*time.Millisecond, "callers joining the second group")
	close(h.release)
	wg.Wait()
}

func TestEventsGroupCommit(t *testing.T) {
	t.Parallel()
	hook := &hookLog{}
	h := groupAPI(t, hook)
	a, w := h.api, h.w
	known := a.mustCreate(t, ContactInput{Email: "known@example.com"})
	old, _, err := RecordEvent(a.ctx, a.pool, nil, EventInput{ContactID: known, Type: "signup", IdempotencyKey: "k-old"})
	require.NoError(t, err)

	// The first call leads a group of its own (held); the rest queue.
	calls := []*eventCall{{body: map[string]any{"email": "lead@example.com", "type": "signup"}}}
	add := func(body map[string]any) *eventCall {
		c := &eventCall{body: body}
		calls = append(calls, c)
		return c
	}
	var fresh []*eventCall
	for i := range 40 {
		fresh = append(fresh, add(map[string]any{"email": fmt.Sprintf("g%d@example.com", i), "type": "signup"}))
	}
	var repeats []*eventCall
	for i := range 10 {
		repeats = append(repeats, add(map[string]any{"email": fmt.Sprintf("G%d@Example.com", i), "type": "cart_abandoned"}))
	}
	var purchases []*eventCall
	for i := range 5 {
		purchases = append(purchases, add(map[string]any{"contact_id": known, "type": "purchase", "value": 10 + i, "currency": "EUR"}))
	}
	var sameKey []*eventCall
	for range 4 {
		sameKey = append(sameKey, add(map[string]any{"email": "keyed@example.com", "type": "signup", "idempotency_key": "k-new"}))
	}
	oldReplay := add(map[string]any{"contact_id": known, "type": "signup", "idempotency_key": "k-old"})
	oldMismatch := add(map[string]any{"contact_id": known, "type": "signup", "value": 2, "idempotency_key": "k-old"})
	noContact := add(map[string]any{"contact_id": 987654321, "type": "signup"})
	noCampaign := add(map[string]any{"email": "camp@example.com", "type": "signup", "campaign_id": 987654321})
	badType := add(map[string]any{"email": "bad@example.com", "type": "Not A Type!"})
	badEmail := add(map[string]any{"email": "not-an-address", "type": "signup"})

	// Everything but the leader and the two refused before the group joins it.
	postAll(t, h, calls, len(calls)-3)

	require.Equal(t, http.StatusAccepted, calls[0].code, calls[0].out)
	created := map[any]int{}
	for _, c := range append(fresh, repeats...) {
		require.Equal(t, http.StatusAccepted, c.code, c.out)
		if c.out["contact_created"] == true {
			created[c.out["contact_id"]]++
		}
	}
	for i, c := range repeats {
		require.Equal(t, fresh[i].out["contact_id"], c.out["contact_id"], "the same contact, by its address in any case")
	}
	require.Len(t, created, 40, "each new address makes one contact")
	for id, n := range created {
		require.Equal(t, 1, n, "contact %v created once", id)
	}
	for _, c := range purchases {
		require.Equal(t, http.StatusAccepted, c.code, c.out)
	}
	var stored, replayed int
	var keyedID any
	for _, c := range sameKey {
		switch c.code {
		case http.StatusAccepted:
			stored++
		case http.StatusOK:
			replayed++
			require.Equal(t, true, c.out["replayed"])
		default:
			t.Fatalf("same key: %d %v", c.code, c.out)
		}
		if keyedID == nil {
			keyedID = c.out["id"]
		}
		require.Equal(t, keyedID, c.out["id"], "one event for one key")
	}
	require.Equal(t, 1, stored)
	require.Equal(t, 3, replayed)
	require.Equal(t, http.StatusOK, oldReplay.code, oldReplay.out)
	require.EqualValues(t, old.ID, oldReplay.out["id"])
	requireRefused(t, oldMismatch, "idempotency_key", "already used for a different event")
	requireRefused(t, noContact, "contact_id", "no such contact")
	requireRefused(t, noCampaign, "campaign_id", "no such campaign")
	requireRefused(t, badType, "type", "lower-case")
	requireRefused(t, badEmail, "email", "")

	// Every valid event exactly once: lead, 40 + 10, 5 purchases, one keyed,
	// and the earlier k-old.
	var n, keyed, campContacts int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*), count(*) FILTER (WHERE idempotency_key IS NOT NULL),
		(SELECT count(*) FROM contacts WHERE email_key = 'camp@example.com') FROM transactions`).Scan(&n, &keyed, &campContacts))
	require.Equal(t, 1+40+10+5+1+1, n)
	require.Equal(t, 2, keyed)
	require.Zero(t, campContacts, "a refused event creates no contact")
	hook.mu.Lock()
	require.Len(t, hook.seen, n-1, "the hook hears each event stored through the writer")
	for id, times := range hook.seen {
		require.Equal(t, 1, times, "event %d handed to the hook once", id)
	}
	require.Equal(t, 5, hook.conv)
	hook.mu.Unlock()
	c, err := Get(a.ctx, a.pool, known)
	require.NoError(t, err)
	require.Equal(t, 5, c.Stats.Conversions)

	// Two transactions for the calls: the held leader's and everyone else's.
	s := w.Stats()
	require.Equal(t, int64(2), s.Commits)
	require.Equal(t, int64(len(calls)-2), s.Grouped)
	// The two k-old posts join the group in the order their goroutines
	// ran: when the refused mismatch comes first, the replay after it is
	// stored alone (answerDup), otherwise nothing is.
	require.LessOrEqual(t, s.Alone, int64(1))
}

// TestEventsGroupFailsAlone: when a group's transaction fails as a whole,
// each of its events is stored alone, so only the failing one fails.
func TestEventsGroupFailsAlone(t *testing.T) {
	t.Parallel()
	hook := &hookLog{}
	h := groupAPI(t, hook)
	calls := []*eventCall{{body: map[string]any{"email": "lead@example.com", "type": "signup"}}}
	for i := range 20 {
		calls = append(calls, &eventCall{body: map[string]any{"email": fmt.Sprintf("n%d@example.com", i), "type": "signup",
			"idempotency_key": fmt.Sprintf("n-%d", i)}})
	}
	boom := &eventCall{body: map[string]any{"email": "boom@example.com", "type": "explode"}}
	calls = append(calls, boom)
	postAll(t, h, calls, len(calls)-1)

	for _, c := range calls[:len(calls)-1] {
		require.Equal(t, http.StatusAccepted, c.code, c.out)
		require.Equal(t, false, c.out["replayed"], c.out)
	}
	require.Equal(t, http.StatusInternalServerError, boom.code, boom.out)
	var n, boomContacts int
	require.NoError(t, h.pool.QueryRow(h.ctx, `SELECT (SELECT count(*) FROM transactions),
		(SELECT count(*) FROM contacts WHERE email_key = 'boom@example.com')`).Scan(&n, &boomContacts))
	require.Equal(t, 21, n, "every event but the failing one, once")
	require.Zero(t, boomContacts)
	s := h.w.Stats()
	require.Equal(t, int64(1), s.Commits, "the leader's group; the failed group's events were stored alone")
	require.Equal(t, int64(21), s.Alone)
}

func requireRefused(t *testing.T, c *eventCall, field, text string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, c.code, "%v → %v", c.body, c.out)
	e, ok := c.out["error"].(map[string]any)
	require.True(t, ok, c.out)
	require.Equal(t, field, e["field"], e)
	require.Contains(t, e["message"], text)
}

// TestEventsConcurrentWriters: with the writer's own settings (groups
// stored side by side), concurrent posts naming the same new addresses
// in different orders make one contact per address and store every event.
func TestEventsConcurrentWriters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	const posts, people = 120, 30
	calls := make([]*eventCall, posts)
	var wg sync.WaitGroup
	for i := range calls {
		n := i % people
		if (i/people)%2 == 1 {
			n = people - 1 - n // every other round in reverse order
		}
		calls[i] = &eventCall{body: map[string]any{"email": fmt.Sprintf("w%d@example.com", n), "type": "signup"}}
		wg.Go(func() { calls[i].code, calls[i].out = a.do(http.MethodPost, "/events", calls[i].body) })
	}
	wg.Wait()
	created := 0
	for _, c := range calls {
		require.Equal(t, http.StatusAccepted, c.code, c.out)
		if c.out["contact_created"] == true {
			created++
		}
	}
	require.Equal(t, people, created, "one contact_created per new address")
	var events, contacts int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT (SELECT count(*) FROM transactions),
		(SELECT count(*) FROM contacts WHERE email_key LIKE 'w%@example.com')`).Scan(&events, &contacts))
	require.Equal(t, posts, events)
	require.Equal(t, people, contacts)
}
