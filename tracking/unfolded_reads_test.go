package tracking

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// rowsEstimate is a plan line's estimate of its rows.
var rowsEstimate = regexp.MustCompile(`rows=(\d+)`)

// Every statement that reads followed events (migration 053) reads them by
// an index: the unfolded tail by events' key between the watermark and the
// sequence's last value, a delivery's history by events_delivery_idx.
// Each is planned generically (as a pooled connection plans it after five
// calls) over a month holding 200,000 folded clicks and a few unfolded
// ones; none may scan that month or expect more than 1% of its rows. A
// read of the tail bounded below only (id > the watermark, a value the
// planner cannot know) is expected to return a third of them (here a
// bitmap over the key, a ninth with clicked_deliveries' time bound: a
// plan a larger month or other statistics turn into a scan of the
// month); with the sequence's last value as its upper bound, 0.5%.
// clicked_deliveries, inbox_oldest and follower_drop_event were bounded
// below only in the prototype (wt-trk8); the test fails on each of them.
func TestUnfoldedReadsTakeAnIndex(t *testing.T) {
	const folded = 200_000
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, machine, user_agent, occurred_at, followed)
		SELECT nextval('events_id_seq'), g / 3 + 1, 1, 'main', g / 3 + 1, 'click', g % 2, false, 'ua', now() - interval '1 minute', true
		FROM generate_series(1, `+strconv.Itoa(folded)+`) g;
		UPDATE tracking_watermark SET id = (SELECT last_value FROM events_id_seq);
		INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, machine, user_agent, occurred_at, followed)
		SELECT nextval('events_id_seq'), g, 1, 'main', g, 'click', 0, false, 'ua', now(), true FROM generate_series(1, 5) g;
		ANALYZE events`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`)
	require.NoError(t, err)
	month := PartitionName(time.Now())

	for i, c := range []struct {
		name, args string
		index      string // the index the plan must use on the month
	}{
		{"clicked_deliveries", `7, now()`, month + "_pkey"},
		{"inbox_oldest", ``, month + "_pkey"},
		{"inbox_pending", `1000000`, month + "_pkey"},
		{"follower_take_events", `10, 2000, 40000`, month + "_pkey"},
		{"follower_drop_event", ``, month + "_pkey"},
		{"clicked_links", `ARRAY[7, 8]::bigint[], now() - interval '1 day', NULL`, "delivery"},
		{"clicked_links", `ARRAY[7, 8]::bigint[], now() - interval '1 day', 10`, "delivery"},
		{"clicked_links_each", `ARRAY[7]::bigint[], ARRAY[now() - interval '1 day'], NULL`, "delivery"},
		{"reclassify_clicks", `7, now() - interval '1 hour', now(), 'burst', NULL`, "delivery"},
		{"recount_clicks", `7, 10`, "delivery"},
	} {
		name := fmt.Sprintf("q%d", i)
		_, err = conn.Exec(ctx, `PREPARE `+name+` AS `+query(c.name))
		require.NoError(t, err, c.name)
		exec := `EXPLAIN EXECUTE ` + name
		if c.args != "" {
			exec += `(` + c.args + `)`
		}
		rows, err := conn.Query(ctx, exec)
		require.NoError(t, err, c.name)
		var lines []string
		for rows.Next() {
			var l string
			require.NoError(t, rows.Scan(&l))
			lines = append(lines, l)
		}
		require.NoError(t, rows.Err())
		plan := strings.Join(lines, "\n")
		require.NotContains(t, plan, "Seq Scan on "+month, "%s scans the month:\n%s", c.name, plan)
		require.Contains(t, plan, c.index, "%s:\n%s", c.name, plan)
		for _, l := range lines {
			if !strings.Contains(l, " on "+month) {
				continue
			}
			m := rowsEstimate.FindStringSubmatch(l)
			if m == nil {
				continue // a ModifyTable's target line: no estimate of its own
			}
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.LessOrEqual(t, n, folded/100, "%s expects %d of the month's %d rows:\n%s", c.name, n, folded, plan)
		}
	}
}
