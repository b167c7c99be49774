package deliveries

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestClaimSaysWhoExited checks the claim's exit answer around its guard:
// no exit anywhere, an exit from another campaign only, and an exit from
// this campaign, which marks that contact's delivery and no other.
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

// TestClaimProbesExitsOnlyWhenThereAreAny runs the claim under EXPLAIN
// ANALYZE: with campaign_exits empty, the per-row probe of its index is
// never executed (the guard's InitPlan answered once); with a row in it,
// it runs once per claimed row.
func TestClaimProbesExitsOnlyWhenThereAreAny(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var cid int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('c', 'running') RETURNING id`).Scan(&cid))
	rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'p' || i || '@example.com' FROM generate_series(1, 40) i RETURNING id`)
	require.NoError(t, err)
	contacts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	ids, err := Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)

	probes := func(job int64, batch []int64) int {
		t.Helper()
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		var doc []map[string]any
		require.NoError(t, tx.QueryRow(ctx, "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) "+queries.Get("claim"),
			job, batch, time.Hour.String()).Scan(&doc))
		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		return exitProbeLoops(t, doc[0]["Plan"].(map[string]any), string(raw))
	}

	require.Equal(t, 0, probes(1, ids[:20]), "no exits: the per-row probe never runs")
	_, err = pool.Exec(ctx, `INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, 'r')`, cid, contacts[39])
	require.NoError(t, err)
	require.Equal(t, 20, probes(2, ids[:20]), "an exit: one probe per claimed row")
}

// exitProbeLoops finds the plan node that probes campaign_exits per row
// (a scan of it in a correlated SubPlan) and returns how many times it
// ran (0 when never executed).
func exitProbeLoops(t *testing.T, node map[string]any, raw string) int {
	t.Helper()
	var found []map[string]any
	var walk func(n map[string]any, inSubPlan bool)
	walk = func(n map[string]any, inSubPlan bool) {
		name, _ := n["Subplan Name"].(string)
		sub := inSubPlan || (len(name) >= 7 && name[:7] == "SubPlan")
		if rel, _ := n["Relation Name"].(string); rel == "campaign_exits" && sub {
			found = append(found, n)
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			walk(k.(map[string]any), sub)
		}
	}
	walk(node, false)
	require.Len(t, found, 1, "one per-row probe of campaign_exits in %s", raw)
	loops, _ := found[0]["Actual Loops"].(float64)
	return int(loops)
}
