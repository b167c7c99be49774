package deliveries

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestClaimSaysWhoExited checks the claim's exit answer: no exit anywhere,
// an exit from another campaign only, and an exit from this campaign,
// which marks that contact's delivery and no other.
func TestClaimSaysWhoExited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var mine, other int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('mine', 'running') RETURNING id`).Scan(&mine))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('other', 'running') RETURNING id`).Scan(&other))
	rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'x' || i || '@example.com' FROM generate_series(1, 6) i RETURNING id`)
	require.NoError(t, err)
	contacts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	ids, err := Create(ctx, pool, mine, "main", contacts)
	require.NoError(t, err)
	exited := func(claimed []Delivery) map[int64]bool {
		m := map[int64]bool{}
		for _, d := range claimed {
			m[d.ContactID] = d.Exited
		}
		return m
	}

	claimed, err := Claim(ctx, pool, 1, ids[0:2], time.Hour)
	require.NoError(t, err)
	require.Equal(t, map[int64]bool{contacts[0]: false, contacts[1]: false}, exited(claimed), "no exit anywhere")

	_, err = pool.Exec(ctx, `INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, 'r')`, other, contacts[2])
	require.NoError(t, err)
	claimed, err = Claim(ctx, pool, 1, ids[2:4], time.Hour)
	require.NoError(t, err)
	require.Equal(t, map[int64]bool{contacts[2]: false, contacts[3]: false}, exited(claimed), "an exit from another campaign only")

	_, err = pool.Exec(ctx, `INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, 'r')`, mine, contacts[4])
	require.NoError(t, err)
	claimed, err = Claim(ctx, pool, 1, ids[4:6], time.Hour)
	require.NoError(t, err)
	require.Equal(t, map[int64]bool{contacts[4]: true, contacts[5]: false}, exited(claimed), "an exit from this campaign")
}
