package segments

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestStatsComparisonsMatchGoWithoutARow: a comparison over a
// contact_stats counter or timestamp selects what Go selects for a contact
// without a contact_stats row, one whose row holds zeros and NULLs, and
// ones with counts, alone, negated and under ||; the comparisons false at
// zero are written over the bare column (see bareStat), whose NULL must
// read as false, never as NULL, for `not` to keep its meaning.
func TestStatsComparisonsMatchGoWithoutARow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	b.mustCreate(t, contacts.ContactInput{Email: "norow@example.com"})
	for i, s := range []struct {
		sent, opens, clicks int
		open, click         *time.Time
	}{
		{},
		{1, 1, 1, new(now.Add(-2 * time.Hour)), new(now.Add(-40 * 24 * time.Hour))},
		{5, 3, 0, nil, new(now.Add(-8 * 24 * time.Hour))},
		{20, 7, 3, new(time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)), new(now)},
	} {
		id := b.mustCreate(t, contacts.ContactInput{Email: fmt.Sprintf("s%d@example.com", i)})
		_, err := b.pool.Exec(b.ctx, `INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, s.sent, s.opens, s.clicks, s.open, s.click)
		require.NoError(t, err)
	}
	var atoms []string
	for _, f := range []string{"stats.sent", "stats.opens", "stats.clicks"} {
		for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
			for _, n := range []string{"-1", "0", "1", "2.5", "3", "0.0"} {
				atoms = append(atoms, f+" "+op+" "+n)
			}
		}
	}
	for _, f := range []string{"stats.last_open_at", "stats.last_click_at"} {
		for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
			for _, n := range []int{-1, 0, 7, 30, 1_000_000} {
				atoms = append(atoms, fmt.Sprintf("days_since(%s) %s %d", f, op, n))
			}
		}
		for _, op := range []string{"<", "<=", ">", ">="} {
			atoms = append(atoms, fmt.Sprintf(`%s %s date("2026-03-21")`, f, op), fmt.Sprintf(`%s %s date("0001-01-01")`, f, op))
		}
	}
	bare := 0
	for _, a := range atoms {
		for _, rule := range []string{a, "not (" + a + ")", "(" + a + ") || contact.email == \"s2@example.com\""} {
			c, err := CompileSegment(rule)
			require.NoError(t, err, rule)
			require.True(t, c.Translatable(), rule)
			if w, _ := translate(c.tree, now, 0); !strings.Contains(w.sql, "COALESCE(st.") && strings.Contains(w.sql, "st.") {
				bare++
			}
			sqlIDs, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
			require.NoError(t, err, rule)
			goPath := *c
			goPath.tree, goPath.all, goPath.pre = nil, false, nil
			goIDs, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 1000)
			require.NoError(t, err, rule)
			if !slices.Equal(sqlIDs, goIDs) {
				w, _ := translate(c.tree, now, 0)
				t.Fatalf("rule %s\nSQL %s\nSQL path %v, Go path %v", rule, w.sql, sqlIDs, goIDs)
			}
			n, err := count(b.ctx, b.pool, c, now)
			require.NoError(t, err, rule)
			require.Equal(t, int64(len(goIDs)), n, rule)
		}
	}
	t.Logf("%d rules, %d read a bare contact_stats column", 3*len(atoms), bare)
	require.Greater(t, bare, 100)
}

// TestStatsComparisonFalseAtZeroJoinsInner: PostgreSQL turns the
// LEFT JOIN to contact_stats into an inner join when the rule's
// comparison over a counter is false at zero, so a selective rule can
// start from contact_stats' matching rows; one true at zero keeps the
// LEFT JOIN (a contact without a row matches it).
func TestStatsComparisonFalseAtZeroJoinsInner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rule  string
		outer bool
	}{
		{"stats.opens >= 3", false},
		{"stats.clicks > 0", false},
		{`contact.attributes.city == "Tehran" && stats.opens >= 3`, false},
		{`days_since(stats.last_open_at) <= 30 && has_tag("vip")`, false},
		{`stats.last_click_at > date("2026-03-21")`, false},
		{"stats.opens < 3", true},
		{"not (stats.opens >= 3)", true},
		{"days_since(stats.last_open_at) > 30", true},
	} {
		c, err := CompileSegment(tc.rule)
		require.NoError(t, err, tc.rule)
		w, ok := translate(c.tree, now, 0)
		require.True(t, ok, tc.rule)
		rows, err := b.pool.Query(b.ctx, `EXPLAIN SELECT count(*) FROM contacts c`+contacts.StatsJoin+` WHERE `+w.sql, w.args...)
		require.NoError(t, err, tc.rule)
		var plan strings.Builder
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan.WriteString(line + "\n")
		}
		require.NoError(t, rows.Err())
		require.Equal(t, tc.outer, strings.Contains(plan.String(), "Left Join") || strings.Contains(plan.String(), "Right Join"),
			"%s\n%s\n%s", tc.rule, w.sql, plan.String())
	}
}
