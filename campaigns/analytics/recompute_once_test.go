package analytics

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// stepwise is the reference the single-write recompute is held to: the
// three steps as their own transactions, each writing its columns.
func (f *fixture) stepwise(cfg Config) {
	f.t.Helper()
	_, err := ScoreContacts(f.ctx, f.pool, cfg)
	require.NoError(f.t, err)
	_, err = TrainResponse(f.ctx, f.pool, cfg)
	require.NoError(f.t, err)
	_, err = FitClusters(f.ctx, f.pool, cfg)
	require.NoError(f.t, err)
}

// analysis reads every stored result of a recompute as text: all
// contact_scores columns per contact, the clusters and the models.
func (f *fixture) analysis() []string {
	f.t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT s::text FROM contact_scores s ORDER BY contact_id`,
		`SELECT c::text FROM clusters c ORDER BY id`,
		`SELECT m::text FROM response_models m ORDER BY channel`,
	} {
		rows, err := f.pool.Query(f.ctx, q)
		require.NoError(f.t, err)
		for rows.Next() {
			var s string
			require.NoError(f.t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(f.t, rows.Err())
	}
	return out
}

// TestRecomputeWritesWhatTheStepsWrite: the single-write recompute stores
// exactly what ScoreContacts, TrainResponse and FitClusters store run one
// after the other — every score column, computed_at, the clusters and the
// response models — on a first run (every row inserted) and on a later run
// over changed data (a purchase, a click, a new contact, an erased one:
// rows updated, inserted and deleted) started from the same stored scores.
func TestRecomputeWritesWhatTheStepsWrite(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(240, 6, `(0.05 + 0.4 * (c.id % 4 = 0)::int)`)
	// Raw on purpose: engagement counters and purchases planted set-based.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at)
		SELECT id, 6, id % 7, id % 3, CASE WHEN id % 2 = 0 THEN $1::timestamptz - make_interval(days => (id % 50)::int) END FROM contacts`, now)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at)
		SELECT c.id, 'purchase', 10 + c.id % 37, $1::timestamptz - make_interval(days => (3 + (c.id * n) % 200)::int)
		FROM contacts c, generate_series(1, 3) n WHERE c.id % 5 < n`, now)
	require.NoError(t, err)
	cfg := Config{Now: now, Clusters: 4}

	f.stepwise(cfg)
	want := f.analysis()
	_, err = f.pool.Exec(f.ctx, `TRUNCATE contact_scores, clusters, response_models`)
	require.NoError(t, err)
	res, err := Recompute(f.ctx, f.pool, cfg, nil)
	require.NoError(t, err)
	require.Equal(t, want, f.analysis(), "first run")
	require.EqualValues(t, 240, res.Scored)
	require.Len(t, res.Clusters, 4)

	// Later: new data; both ways start from the same stored scores.
	_, err = f.pool.Exec(f.ctx, `CREATE TABLE saved_scores AS SELECT * FROM contact_scores`)
	require.NoError(t, err)
	rows, err := f.pool.Query(f.ctx, `SELECT id FROM contacts ORDER BY id LIMIT 3`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	f.purchases(ids[0], 500, 1)
	_, err = f.pool.Exec(f.ctx, `UPDATE deliveries SET first_click_at = sent_at + interval '1 hour' WHERE contact_id = $1`, ids[1])
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE contacts SET status = 'erased' WHERE id = $1`, ids[2])
	require.NoError(t, err)
	fresh := f.contact()
	later := Config{Now: now.Add(time.Hour), Clusters: 4}

	res, err = Recompute(f.ctx, f.pool, later, nil)
	require.NoError(t, err)
	got := f.analysis()
	require.Positive(t, res.Scored)
	_, err = f.pool.Exec(f.ctx, `TRUNCATE contact_scores, clusters, response_models;
		INSERT INTO contact_scores SELECT * FROM saved_scores`)
	require.NoError(t, err)
	f.stepwise(later)
	require.Equal(t, f.analysis(), got, "later run")
	var scored []int64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT array_agg(contact_id) FROM contact_scores WHERE contact_id IN ($1, $2)`,
		fresh, ids[2]).Scan(&scored))
	require.Equal(t, []int64{fresh}, scored, "the new contact is scored, the erased one's scores are gone")
}
