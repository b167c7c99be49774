package segments

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestGoPathDecoding checks the Go path's own decoding of every column it
// can read: the binary fast path (the pool's default) and pgx's decoding
// of the text format (a pool on the simple protocol) give the same
// answers, whether the plan reads only what the rule uses or everything.
func TestGoPathDecoding(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	consentAt := now.Add(-36 * time.Hour)
	for i := range 8 {
		in := contacts.ContactInput{Email: fmt.Sprintf("dec%d@example.com", i), Name: []string{"Sara", "Ali"}[i%2],
			Attributes: map[string]any{"age": float64(20 + 5*i), "city": []string{"Tehran", "Paris"}[i%2], "note": "a \"q\" é\n"},
			Tags:       []string{"vip", "news-" + fmt.Sprint(i%3)}[:1+i%2]}
		if i%3 != 0 {
			in.Consent = &contacts.Consent{Source: "form", At: &consentAt, IP: fmt.Sprintf("10.0.0.%d", i)}
		}
		id := b.mustCreate(t, in)
		_, err := b.pool.Exec(b.ctx, `WITH u AS (UPDATE contacts SET conversions = $5, revenue = $6, last_purchase_at = '1969-07-20 20:17:40.5+00',
			status = $8 WHERE id = $1)
			INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
			VALUES ($1, $2::int, $3::int, $4, $7, CASE WHEN $3::int > 2 THEN $7::timestamptz END)`,
			id, 10+i, i, i/2, i%2, 12.25*float64(i), now.Add(-time.Duration(i)*24*time.Hour), []string{"active", "bounced"}[i%2])
		require.NoError(t, err)
		if i%2 == 0 {
			_, err = b.pool.Exec(b.ctx, `INSERT INTO contact_scores (contact_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment,
				value, churn_risk, response_likelihood, cluster_id) VALUES ($1, $2::int, 3, 4, 'champions', $3, 0.75, 0.125, $2::int)`,
				id, i/2, 100.5*float64(i))
			require.NoError(t, err)
		}
	}
	cfg := b.pool.Config().Copy()
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	textPool, err := pgxpool.NewWithConfig(b.ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(textPool.Close)

	rules := map[string]int{ // rule → contacts it matches
		`contact.attributes.age + stats.opens > 40`:                                                                                   4,
		`contact.attributes.city == "Tehran" && contact.attributes.age < 30`:                                                          1,
		`contact.attributes.note endsWith "é\n"`:                                                                                      8,
		`any(contact.tags, {# startsWith "news-1"})`:                                                                                  2,
		`has_tag("vip") && len(contact.tags) == 2`:                                                                                    4,
		`contact.email endsWith "@example.com" && contact.name == "Ali"`:                                                              4,
		`contact.status == "bounced" && stats.sent >= 13`:                                                                             3,
		`contact.consent.source == "form" && contact.consent.ip != "10.0.0.1"`:                                                        4,
		`days_since(contact.consent.at) == 1`:                                                                                         5,
		`contact.created_at.Year() > 2000 && contact.id > 0`:                                                                          8,
		`stats.revenue > 24.5 && stats.conversions == 1`:                                                                              3,
		`stats.clicks == 1 && days_since(stats.last_open_at) >= 2`:                                                                    2,
		`stats.last_click_at.Year() > 1 || stats.last_purchase_at.Year() == 1969 && stats.last_purchase_at.Nanosecond() == 500000000`: 8,
		`rfm.segment == "champions" && rfm.recency + rfm.frequency + rfm.monetary >= 9`:                                               2,
		`rfm.value > 200 && churn.risk == 0.75 && response.likelihood < 0.2 && cluster.id >= 2`:                                       2,
	}
	for rule, want := range rules {
		c, err := CompileSegment(`(` + rule + `) || any([0], {# > 1})`) // never translatable, no SQL prefilter
		require.NoError(t, err, rule)
		require.False(t, c.Translatable())
		whole := *c
		whole.plan = goPlan{all: true, allAttrs: true}
		for _, v := range []struct {
			name string
			db   *pgxpool.Pool
			c    *Compiled
		}{{"binary", b.pool, c}, {"text", textPool, c}, {"binary, whole rows", b.pool, &whole}, {"text, whole rows", textPool, &whole}} {
			got, err := matchingIDs(b.ctx, v.db, v.c, now, 0, 100)
			require.NoError(t, err, "%s: %s", v.name, rule)
			require.Len(t, got, want, "%s: %s", v.name, rule)
			n, err := count(b.ctx, v.db, v.c, now)
			require.NoError(t, err, "%s: %s", v.name, rule)
			require.EqualValues(t, want, n, "%s: %s", v.name, rule)
			p, err := matchPage(b.ctx, v.db, v.c, now, 0, 100)
			require.NoError(t, err, "%s: %s", v.name, rule)
			require.Len(t, append(p.IDs, make([]int64, p.Suppressed)...), want, "%s: %s", v.name, rule)
		}
	}
}

// TestCountParallelBusyPool: a count on a pool with no connection to
// spare counts with fewer parts instead of waiting for one while holding
// another (which concurrent counts could turn into a deadlock).
func TestCountParallelBusyPool(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 30 {
		b.mustCreate(t, contacts.ContactInput{Email: fmt.Sprintf("busy%d@example.com", i), Tags: []string{"news"}})
	}
	cfg := b.pool.Config().Copy()
	cfg.MaxConns = 2
	small, err := pgxpool.NewWithConfig(b.ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(small.Close)
	held, err := small.Acquire(b.ctx) // another user of the pool
	require.NoError(t, err)
	defer held.Release()
	c, err := CompileSegment(`any(contact.tags, {# startsWith "news"})`)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	n, err := countParallel(ctx, small, c, time.Now(), 3, 0)
	require.NoError(t, err)
	require.EqualValues(t, 30, n)
	require.EqualValues(t, 1, small.Stat().AcquiredConns(), "the count gave its connection back")
}
