package messages

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
	"github.com/peykar/peykar/templates"
)

// setup is a service over a fresh database (an insert-only River client:
// the jobs are what the engine works, not under test here) and a receipt
// template marked transactional, and a plain one.
func setup(t *testing.T, now func() time.Time) (*Service, templates.Template, templates.Template) {
	t.Helper()
	pool := pgtest.NewPool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	s := New(Config{Pool: pool, River: client, From: campaigns.Address{Name: "Shop", Email: "shop@example.com"}, Now: now})
	ctx := context.Background()
	receipt, err := templates.Create(ctx, pool, templates.Template{Name: "receipt", Subject: "Order {{ .Data.order_id }}",
		HTML: "<p>{{ .Data.order_id }}</p>", Transactional: true})
	require.NoError(t, err)
	news, err := templates.Create(ctx, pool, templates.Template{Name: "news", Subject: "News",
		HTML: `<p>Hi <a href="{{ unsubscribe_url }}">unsubscribe</a></p>`})
	require.NoError(t, err)
	return s, receipt, news
}

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, errs.Invalid, e.Code, err.Error())
	return e.Field
}

// TestSendValidation: each mistake is refused naming its field, and
// nothing is stored.
func TestSendValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, receipt, news := setup(t, nil)
	big := map[string]any{"order_id": "A-1", "blob": string(make([]byte, MaxData))}
	for _, c := range []struct {
		field string
		in    Input
	}{
		{"template_id", Input{To: "a@example.com"}},
		{"template_id", Input{TemplateID: 12345, To: "a@example.com"}},
		{"to", Input{TemplateID: news.ID}},
		{"to", Input{TemplateID: news.ID, To: "not an address"}},
		{"to", Input{TemplateID: news.ID, To: "a@example.com", ContactID: 1}},
		{"contact_id", Input{TemplateID: news.ID, ContactID: 999}},
		{"transactional", Input{TemplateID: news.ID, To: "a@example.com", Transactional: true}},
		{"data.order_id", Input{TemplateID: receipt.ID, To: "a@example.com"}},
		{"data", Input{TemplateID: receipt.ID, To: "a@example.com", Data: big}},
	} {
		_, err := s.Send(ctx, "", c.in)
		require.Equal(t, c.field, fieldOf(t, err), "%+v", c.in)
	}
	_, err := s.Send(ctx, "ключ", Input{TemplateID: news.ID, To: "a@example.com"})
	require.Equal(t, "Idempotency-Key", fieldOf(t, err))
	_, err = s.Send(ctx, "", Input{TemplateID: news.ID, To: "a@example.com", Transactional: true})
	require.ErrorContains(t, err, "not marked transactional: an admin marks it")
	var n int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&n))
	require.Zero(t, n)
}

// TestSendIdempotencyAndExpiry: a key answers its first answer; another
// body is refused; the sweep releases keys older than KeyTTL, after which
// the key sends anew. Each message is a delivery of the template's one
// transactional campaign, in its own round.
func TestSendIdempotencyAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, receipt, _ := setup(t, func() time.Time { return now })
	in := Input{TemplateID: receipt.ID, To: "sara@example.com", Data: map[string]any{"order_id": "A-1"}, Transactional: true}
	first, err := s.Send(ctx, "k1", in)
	require.NoError(t, err)
	require.False(t, first.Replayed)
	again, err := s.Send(ctx, "k1", Input{TemplateID: receipt.ID, To: " sara@EXAMPLE.com ", Data: map[string]any{"order_id": "A-1"}, Transactional: true})
	require.NoError(t, err, "the same request, differently spelt address")
	require.Equal(t, Answer{ID: first.ID, Status: StatusQueued, Replayed: true}, again)
	_, err = s.Send(ctx, "k1", Input{TemplateID: receipt.ID, To: "sara@example.com", Data: map[string]any{"order_id": "A-2"}, Transactional: true})
	require.Equal(t, "Idempotency-Key", fieldOf(t, err))

	second, err := s.Send(ctx, "k2", Input{TemplateID: receipt.ID, To: "sara@example.com", Data: map[string]any{"order_id": "A-2"}})
	require.NoError(t, err)
	m1, err := Get(ctx, s.cfg.Pool, first.ID)
	require.NoError(t, err)
	m2, err := Get(ctx, s.cfg.Pool, second.ID)
	require.NoError(t, err)
	require.Equal(t, m1.CampaignID, m2.CampaignID, "one transactional campaign per template")
	require.Equal(t, *m1.ContactID, *m2.ContactID)
	require.NotEqual(t, *m1.DeliveryID, *m2.DeliveryID, "a delivery per message")
	require.True(t, m1.ContactCreated)
	require.False(t, m2.ContactCreated)
	require.Equal(t, map[string]any{"order_id": "A-1"}, m1.Data)
	c, err := campaigns.Get(ctx, s.cfg.Pool, m1.CampaignID)
	require.NoError(t, err)
	require.True(t, c.IsTransactional())
	require.Equal(t, campaigns.StatusRunning, c.Status)
	require.Equal(t, "receipt", c.Name)
	require.Equal(t, []campaigns.Step{{Key: campaigns.TransactionalStep, TemplateID: receipt.ID}}, c.Steps)
	var jobs, sends int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(jsonb_array_length(args->'messages')), 0)
		FROM river_job WHERE kind = 'message_batch' AND queue = $1`, QueueMessages).Scan(&jobs, &sends))
	require.Equal(t, 2, jobs, "one request at a time: a job each")
	require.Equal(t, 2, sends)

	// A day on, the sweep releases k1 (not k2, a minute younger) and k1 sends anew.
	n, err := ExpireKeys(ctx, s.cfg.Pool, now.Add(KeyTTL-time.Minute), 100)
	require.NoError(t, err)
	require.Zero(t, n)
	now = now.Add(KeyTTL + time.Second)
	n, err = ExpireKeys(ctx, s.cfg.Pool, now, 100)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	third, err := s.Send(ctx, "k1", in)
	require.NoError(t, err)
	require.False(t, third.Replayed)
	require.NotEqual(t, first.ID, third.ID)
}

// TestReleasedOnUse: a key past KeyTTL is released by the request that
// brings it again, without waiting for the sweep.
func TestReleasedOnUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _, news := setup(t, func() time.Time { return now })
	in := Input{TemplateID: news.ID, To: "sara@example.com"}
	first, err := s.Send(ctx, "k", in)
	require.NoError(t, err)
	now = now.Add(KeyTTL + time.Second)
	second, err := s.Send(ctx, "k", in)
	require.NoError(t, err)
	require.NotEqual(t, first.ID, second.ID)
	require.False(t, second.Replayed)
	// The key moved to the new message.
	err = pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		id, _, err := byKey(ctx, tx, "k")
		require.Equal(t, second.ID, id)
		return err
	})
	require.NoError(t, err)
}
