package demo

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestLoadAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	require.NoError(t, Empty(ctx, pool))

	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	a, err := LoadAudience(ctx, pool, rand.New(rand.NewPCG(1, 2)), 500, "", now)
	require.NoError(t, err)
	require.Equal(t, 500, a.Contacts)
	require.Positive(t, a.Purchases)

	err = Empty(ctx, pool)
	require.True(t, errs.Is(err, errs.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "--force")

	// Contacts carry the attributes, consent and stats the segments and
	// analytics read; stats agree with the transactions.
	var withCity, withConsent, persian, mismatched int
	require.NoError(t, pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE attributes ? 'city' AND attributes ? 'age_band' AND attributes ? 'lifecycle_stage'
				AND jsonb_typeof(attributes->'interests') = 'array'),
			count(*) FILTER (WHERE consent_source IS NOT NULL AND consent_at IS NOT NULL AND consent_ip IS NOT NULL),
			count(*) FILTER (WHERE name ~ '[\u0600-\u06FF]')
		FROM contacts`).Scan(&withCity, &withConsent, &persian))
	require.Equal(t, 500, withCity)
	require.Equal(t, 500, withConsent)
	var outside int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE NOT (consent_ip << '192.0.2.0/24'
		OR consent_ip << '198.51.100.0/24' OR consent_ip << '203.0.113.0/24')`).Scan(&outside))
	require.Zero(t, outside, "consent IPs are documentation addresses")
	require.Greater(t, persian, 100, "Persian names")
	require.Less(t, persian, 500, "and English ones")
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM contacts c LEFT JOIN (
			SELECT contact_id, count(*) AS n, sum(value) AS total, max(occurred_at) AS last FROM transactions GROUP BY contact_id) t
			ON t.contact_id = c.id
		WHERE c.conversions <> coalesce(t.n, 0) OR c.revenue <> coalesce(t.total, 0)
			OR c.last_purchase_at IS DISTINCT FROM t.last`).Scan(&mismatched))
	require.Zero(t, mismatched)

	// Seasonality: a Nowruz or November day sees more purchases than an
	// ordinary one.
	var season, other float64
	require.NoError(t, pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE (extract(month FROM occurred_at) = 3 AND extract(day FROM occurred_at) >= 10)
				OR extract(month FROM occurred_at) = 11)::float8,
			count(*) FILTER (WHERE extract(month FROM occurred_at) IN (1, 2, 5, 6, 7, 8, 9, 10))::float8
		FROM transactions`).Scan(&season, &other))
	seasonDays, otherDays := 22.0+30, 31.0+28+31+30+31+31+30+31
	require.Greater(t, season/seasonDays, 1.5*other/otherDays, "season %v, other %v", season, other)

	// A second run with another run tag adds new addresses; the same tag
	// skips the existing ones.
	b, err := LoadAudience(ctx, pool, rand.New(rand.NewPCG(1, 2)), 50, "", now)
	require.NoError(t, err)
	require.Zero(t, b.Contacts)
	b, err = LoadAudience(ctx, pool, rand.New(rand.NewPCG(1, 2)), 50, "r2.", now)
	require.NoError(t, err)
	require.Equal(t, 50, b.Contacts)
}
