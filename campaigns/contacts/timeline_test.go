package contacts

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// timelineFixture gives a contact (and another one) a campaign with two
// deliveries, tracking events and contact events at known times.
func timelineFixture(t *testing.T, a api) (id, campaign int64, base time.Time) {
	t.Helper()
	id = a.mustCreate(t, ContactInput{Email: "tl@example.com"})
	other := a.mustCreate(t, ContactInput{Email: "tl-other@example.com"})
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO campaigns (name) VALUES ('Nowruz sale') RETURNING id`).Scan(&campaign))
	_, err := a.pool.Exec(a.ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/p', 'P')`, campaign)
	require.NoError(t, err)
	base = time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC)
	var d1, d2, theirs int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, queued_at, sent_at)
		VALUES ($1, 'main', $2, 'sent', $3, $3) RETURNING id`, campaign, id, base).Scan(&d1))
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, queued_at, bounced_at, last_error)
		VALUES ($1, 'reminder', $2, 'bounced', $3, $3, '550 no such user') RETURNING id`, campaign, id, base.Add(4*time.Hour)).Scan(&d2))
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'main', $2, 'sent', $3) RETURNING id`, campaign, other, base).Scan(&theirs))
	_, err = a.pool.Exec(a.ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, occurred_at) VALUES
		($1, $3, 'main', $4, 'open', NULL, $6::timestamptz + interval '1 hour'),
		($1, $3, 'main', $4, 'click', 0, $6::timestamptz + interval '2 hours'),
		($2, $3, 'main', $5, 'click', 0, $6::timestamptz + interval '2 hours')`, d1, theirs, campaign, id, other, base)
	require.NoError(t, err)
	for i, ev := range []EventInput{
		{ContactID: id, Type: "signup", OccurredAt: ptr(base.Add(-time.Hour))},
		{ContactID: id, Type: "cart_abandoned", Attributes: map[string]any{"cart": "c-9", "items": 3}, OccurredAt: ptr(base.Add(3 * time.Hour))},
		{ContactID: id, Type: "purchase", Value: 120, Currency: "EUR", OccurredAt: ptr(base.Add(5 * time.Hour))},
		{ContactID: other, Type: "purchase", Value: 1, OccurredAt: ptr(base)},
	} {
		_, _, err := RecordEvent(a.ctx, a.pool, nil, ev)
		require.NoError(t, err, "event %d", i)
	}
	return id, campaign, base
}

func ptr[T any](v T) *T { return &v }

func TestTimeline(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id, _, _ := timelineFixture(t, a)

	items, next, err := Timeline(a.ctx, a.pool, id, TimelineQuery{})
	require.NoError(t, err)
	require.Empty(t, next)
	var got []string
	for _, it := range items {
		got = append(got, it.Kind+":"+it.Type)
	}
	require.Equal(t, []string{"event:purchase", "delivery:bounced", "event:cart_abandoned", "tracking:click",
		"tracking:open", "delivery:sent", "event:signup"}, got, "merged, newest first, this contact only")
	require.Equal(t, "https://shop.example/p", items[3].URL)
	require.Equal(t, "550 no such user", items[1].Reason)
	require.Equal(t, "reminder", items[1].Step)
	require.Equal(t, "Nowruz sale", items[1].CampaignName)
	require.Equal(t, "EUR", items[0].Currency)
	require.Equal(t, "c-9", items[2].Attributes["cart"])

	// Pages of 2 walk the same order without gaps or repeats.
	var paged []string
	cursor := ""
	for range 10 {
		page, n, err := Timeline(a.ctx, a.pool, id, TimelineQuery{After: cursor, Limit: 2})
		require.NoError(t, err)
		for _, it := range page {
			paged = append(paged, it.Kind+":"+it.Type)
		}
		if n == "" {
			break
		}
		cursor = n
	}
	require.Equal(t, got, paged)

	only, _, err := Timeline(a.ctx, a.pool, id, TimelineQuery{Kinds: []string{TimelineTracking, TimelineDelivery}})
	require.NoError(t, err)
	require.Len(t, only, 4)
	for _, it := range only {
		require.NotEqual(t, TimelineEvent, it.Kind)
	}
	_, _, err = Timeline(a.ctx, a.pool, id, TimelineQuery{Kinds: []string{"nope"}})
	require.Error(t, err)
	_, _, err = Timeline(a.ctx, a.pool, id, TimelineQuery{After: "x.y"})
	require.Error(t, err)
}

func TestContactEventsHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id, _, base := timelineFixture(t, a)

	code, body := a.do("GET", fmt.Sprintf("/contacts/%d/events?limit=2", id), nil)
	require.Equal(t, http.StatusOK, code, body)
	items := body["items"].([]any)
	require.Len(t, items, 2)
	require.Equal(t, "purchase", items[0].(map[string]any)["type"])
	require.Equal(t, "cart_abandoned", items[1].(map[string]any)["type"])
	require.Equal(t, base.Add(3*time.Hour).Format(time.RFC3339), items[1].(map[string]any)["occurred_at"])
	next := body["next"].(string)
	code, body = a.do("GET", fmt.Sprintf("/contacts/%d/events?limit=2&after=%s", id, url.QueryEscape(next)), nil)
	require.Equal(t, http.StatusOK, code, body)
	items = body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, "signup", items[0].(map[string]any)["type"])
	require.Nil(t, body["next"])

	code, body = a.do("GET", fmt.Sprintf("/contacts/%d/events?type=purchase", id), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"].([]any), 1)

	code, body = a.do("GET", fmt.Sprintf("/contacts/%d/timeline?kind=tracking", id), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"].([]any), 2)

	for path, want := range map[string]int{
		fmt.Sprintf("/contacts/%d/events?type=Bad!", id):   http.StatusUnprocessableEntity,
		fmt.Sprintf("/contacts/%d/events?after=zz", id):    http.StatusUnprocessableEntity,
		fmt.Sprintf("/contacts/%d/timeline?kind=nope", id): http.StatusUnprocessableEntity,
		"/contacts/987654/events":                          http.StatusNotFound,
		"/contacts/987654/timeline":                        http.StatusNotFound,
	} {
		code, body := a.do("GET", path, nil)
		require.Equal(t, want, code, "%s: %v", path, body)
	}
}
