package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// now is the reference time of the tests.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

type fixture struct {
	t    *testing.T
	pool *pgxpool.Pool
	ctx  context.Context
	n    int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, pool: pgtest.NewPool(t), ctx: context.Background()}
}

// contact inserts a contact created a year before now.
func (f *fixture) contact() int64 {
	f.t.Helper()
	f.n++
	return factory.Contact(f.t, f.pool, factory.Email(fmt.Sprintf("c%d@example.com", f.n)), factory.CreatedAt(now.Add(-days(365)))).ID
}

// purchases records a purchase of value at each of the given days before now.
func (f *fixture) purchases(id int64, value float64, daysAgo ...float64) {
	f.t.Helper()
	for _, d := range daysAgo {
		factory.Transaction(f.t, f.pool, id, factory.Value(value), factory.OccurredAt(now.Add(-days(d))))
	}
}

type score struct {
	R, F, M          int
	Segment          string
	Value, Churn     float64
	Purchases        int
	Monetary         float64
	Response         float64
	Cluster          int
	LastActivityDays float64
}

func (f *fixture) score(id int64) score {
	f.t.Helper()
	var s score
	require.NoError(f.t, f.pool.QueryRow(f.ctx, `SELECT rfm_recency, rfm_frequency, rfm_monetary, rfm_segment, value, churn_risk,
		purchases, monetary, response_likelihood, cluster_id, extract(epoch FROM $2 - last_activity_at)::float8 / 86400
		FROM contact_scores WHERE contact_id = $1`, id, now).
		Scan(&s.R, &s.F, &s.M, &s.Segment, &s.Value, &s.Churn, &s.Purchases, &s.Monetary, &s.Response, &s.Cluster, &s.LastActivityDays))
	return s
}
