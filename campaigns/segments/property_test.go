package segments

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// attrValues are the JSON values random contacts get (nil: JSON null).
var attrValues = []any{"x", "y", "", "Tehran", "tehran", "a\nb", "xyz", "b", "x_y", "xay", "a%b", `c\d`, 0.0, 1.0, 5.0, 1.5, -3.0, 1e20,
	true, false, nil, []any{"x"}, map[string]any{"k": 1.0}}

// literals are the constants random rules use, as expr source.
var literals = []string{`"x"`, `"y"`, `""`, `"Tehran"`, `"b"`, `0`, `1`, `5`, `-3`, `1.5`, `2.0`, `true`, `false`, `nil`}

var regexps = []string{`^x`, `x$`, `a.b`, `[a-c]+`, `(?i)x`, `^$`, `x|y`, `^(Teh|teh)ran$`, `[^x]`, `\d`, `x{2,3}`, `.*`}

func randomContactInput(r *rand.Rand, i int) contacts.ContactInput {
	attrs := map[string]any{}
	for _, k := range []string{"a", "b", "c"} {
		if r.IntN(5) > 0 {
			attrs[k] = attrValues[r.IntN(len(attrValues))]
		}
	}
	var tags []string
	for _, tg := range []string{"t1", "t2", "vip"} {
		if r.IntN(2) == 0 {
			tags = append(tags, tg)
		}
	}
	names := []string{"", "Sara", "sara", "Ali", "Zed", "x"}
	domains := []string{"a.example", "b.example", "gmail.com"}
	in := contacts.ContactInput{Email: fmt.Sprintf("u%d@%s", i, domains[r.IntN(len(domains))]), Name: names[r.IntN(len(names))],
		Attributes: attrs, Tags: tags}
	if r.IntN(2) == 0 {
		in.Consent = &contacts.Consent{Source: []string{"form", "import", ""}[r.IntN(3)]}
	}
	return in
}

func randomAtom(r *rand.Rand) string {
	attr := fmt.Sprintf("contact.attributes.%s", []string{"a", "b", "c", "d"}[r.IntN(4)])
	if r.IntN(5) == 0 {
		attr = `contact.attributes["a"]`
	}
	lit := literals[r.IntN(len(literals))]
	ops := []string{"==", "!=", "<", "<=", ">", ">="}
	op := ops[r.IntN(len(ops))]
	switch r.IntN(17) {
	case 0, 1, 2:
		if r.IntN(4) == 0 {
			return lit + " " + op + " " + attr
		}
		return attr + " " + op + " " + lit
	case 3:
		n := r.IntN(3)
		var xs []string
		strs := r.IntN(2) == 0
		for range n + 1 {
			if strs {
				xs = append(xs, []string{`"x"`, `""`, `"Tehran"`}[r.IntN(3)])
			} else {
				xs = append(xs, literals[r.IntN(len(literals))])
			}
		}
		if r.IntN(6) == 0 {
			xs = nil
		}
		return attr + " in [" + strings.Join(xs, ", ") + "]"
	case 4:
		sop := []string{"contains", "startsWith", "endsWith"}[r.IntN(3)]
		return attr + " " + sop + " " + []string{`"x"`, `""`, `"Teh"`, `"b"`, `"_y"`, `"%b"`, `"\\d"`, `"x_"`}[r.IntN(8)]
	case 5:
		field := []string{"contact.email", "contact.name", "contact.attributes.a", "contact.attributes.b"}[r.IntN(4)]
		return fmt.Sprintf("%s matches %q", field, regexps[r.IntN(len(regexps))])
	case 6:
		return []string{`contact.email endsWith "@gmail.com"`, `contact.email contains "u1"`, `contact.name == "Sara"`,
			`contact.name >= "Sara"`, `contact.status in ["active", "bounced"]`, `contact.status != "active"`,
			`contact.email startsWith "u2"`, `contact.name < "b"`}[r.IntN(8)]
	case 7:
		f := []string{"stats.sent", "stats.opens", "stats.clicks", "stats.conversions", "stats.revenue", "contact.id"}[r.IntN(6)]
		n := []string{"0", "1", "3", "2.5", "10.5", "-1"}[r.IntN(6)]
		return f + " " + op + " " + n
	case 8:
		f := []string{"stats.last_open_at", "stats.last_click_at", "stats.last_purchase_at", "contact.created_at", "contact.consent.at"}[r.IntN(5)]
		return fmt.Sprintf("days_since(%s) %s %d", f, op, []int{0, 1, 7, 30, 400}[r.IntN(5)])
	case 9:
		return fmt.Sprintf("has_tag(%q)", []string{"t1", "t2", "vip", "none"}[r.IntN(4)])
	case 10:
		return fmt.Sprintf("%q in contact.tags", []string{"t1", "t2", "vip", "none"}[r.IntN(4)])
	case 11:
		return []string{`contact.consent.source == "form"`, `contact.consent.source == ""`, `contact.consent.ip != ""`}[r.IntN(3)]
	case 12:
		return []string{"stats.sent in [0, 1, 2]", "contact.id in [1, 3, 5, 7]", "true", "false",
			"len(contact.tags) >= 2", "len(contact.tags) == 0",
			// not translatable: makes the rule run in Go, with a prefilter
			`any(contact.tags, {# startsWith "t"})`, `stats.opens + stats.clicks > 3`}[r.IntN(8)]
	case 13:
		return randomScoreAtom(r, op)
	case 14, 15:
		return randomEventAtom(r, op)
	default:
		return attr + " == nil"
	}
}

// randomScoreAtom is a condition on the analytics scores (contact_scores).
func randomScoreAtom(r *rand.Rand, op string) string {
	switch r.IntN(4) {
	case 0:
		return []string{`rfm.segment == "champions"`, `rfm.segment == ""`, `rfm.segment in ["at_risk", "lost"]`,
			`rfm.segment startsWith "c"`, `rfm.segment != "lost"`, `rfm.segment < "m"`, `rfm.segment matches "^(lost|new)$"`}[r.IntN(7)]
	case 1:
		return []string{"cluster.id in [0, 2]", "rfm.recency in [1, 5]", "rfm.frequency in [0]"}[r.IntN(3)]
	default:
		f := []string{"rfm.recency", "rfm.frequency", "rfm.monetary", "rfm.value", "churn.risk", "response.likelihood", "cluster.id"}[r.IntN(7)]
		n := []string{"0", "1", "3", "0.5", "2.5", "100", "0.25"}[r.IntN(7)]
		return f + " " + op + " " + n
	}
}

// randomScores gives contact id analytics scores, or none (a third of the
// time: such contacts read segment "" and zeros in both paths).
func randomScores(t *testing.T, b *bundle, r *rand.Rand, id int64) {
	t.Helper()
	if r.IntN(3) == 0 {
		return
	}
	segments := []string{"", "champions", "loyal", "at_risk", "lost", "new", "cannot_lose"}
	score := func() int { return r.IntN(6) }
	fraction := func() float64 { return []float64{0, 0.25, 0.5, 0.9, float64(r.IntN(1000)) / 1000}[r.IntN(5)] }
	_, err := b.pool.Exec(b.ctx, `INSERT INTO contact_scores (contact_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment,
		value, churn_risk, response_likelihood, cluster_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, score(), score(), score(), segments[r.IntN(len(segments))], []float64{0, 0.5, 100, float64(r.IntN(50000)) / 100}[r.IntN(4)],
		fraction(), fraction(), r.IntN(4))
	require.NoError(t, err)
}

func randomRule(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return randomAtom(r)
	}
	switch r.IntN(4) {
	case 0:
		return "not (" + randomRule(r, depth-1) + ")"
	case 1:
		return "(" + randomRule(r, depth-1) + " || " + randomRule(r, depth-1) + ")"
	default:
		return "(" + randomRule(r, depth-1) + " && " + randomRule(r, depth-1) + ")"
	}
}

// randomContacts stores n random contacts with random stats, dates
// (around now) and scores.
func randomContacts(t *testing.T, b *bundle, r *rand.Rand, now time.Time, n int) {
	t.Helper()
	ids := make([]int64, 0, n)
	defer func() { randomEvents(t, b, r, now, ids) }()
	for i := range n {
		id := b.mustCreate(t, randomContactInput(r, i))
		ids = append(ids, id)
		ts := func() *time.Time {
			if r.IntN(3) == 0 {
				return nil
			}
			x := now.Add(-time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
			return &x
		}
		_, err := b.pool.Exec(b.ctx, `WITH u AS (UPDATE contacts SET conversions = $5, revenue = $6,
			last_purchase_at = $9, created_at = $10, status = $11 WHERE id = $1)
			INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
			SELECT $1, $2, $3, $4, $7, $8 WHERE $12`,
			id, r.IntN(4), r.IntN(4), r.IntN(3), r.IntN(2), float64(r.IntN(3000))/100, ts(), ts(), ts(),
			now.Add(-time.Duration(r.Int64N(int64(400*24*time.Hour)))), []string{"active", "active", "bounced", "unsubscribed"}[r.IntN(4)],
			// a contact nothing was counted for has no contact_stats row: zero counts
			r.IntN(5) != 0)
		require.NoError(t, err)
		randomScores(t, b, r, id)
	}
}

// TestRuleSQLMatchesGo is the property that justifies the translation:
// on random contacts, every translatable random rule selects exactly the
// same contacts in SQL as in Go.
func TestRuleSQLMatchesGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seed := uint64(42)
	if v, err := strconv.ParseUint(os.Getenv("RULE_SEED"), 10, 64); err == nil {
		seed = v // RULE_SEED=n explores other cases
	}
	r := rand.New(rand.NewPCG(seed, 7))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	randomContacts(t, &b, r, now, 300)
	translated, fallback, withEvents := 0, 0, 0
	for range 1000 {
		rule := randomRule(r, 3)
		c, err := CompileSegment(rule)
		if err != nil {
			continue
		}
		if !c.Translatable() {
			fallback++
			// The SQL prefilter never changes the Go path's answer.
			plain := *c
			plain.pre = nil
			want, err := matchingIDs(b.ctx, b.pool, &plain, now, 0, 1000)
			require.NoError(t, err, rule)
			got, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
			require.NoError(t, err, rule)
			require.Equal(t, want, got, rule)
			n, err := count(b.ctx, b.pool, c, now)
			require.NoError(t, err, rule)
			require.Equal(t, int64(len(want)), n, rule)
			continue
		}
		translated++
		if len(c.plan.terms) > 0 {
			withEvents++
		}
		sqlIDs, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
		require.NoError(t, err, rule)
		goPath := *c
		goPath.tree, goPath.all, goPath.pre = nil, false, nil
		goIDs, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 1000)
		require.NoError(t, err, rule)
		if !slices.Equal(sqlIDs, goIDs) {
			w, _ := translate(c.tree, now, 0)
			t.Fatalf("rule %s\nSQL %s\nSQL path %d ids, Go path %d ids\nonly SQL: %v\nonly Go: %v", rule, w, len(sqlIDs), len(goIDs),
				diff(sqlIDs, goIDs), diff(goIDs, sqlIDs))
		}
		n, err := count(b.ctx, b.pool, c, now)
		require.NoError(t, err)
		require.Equal(t, int64(len(goIDs)), n, rule)
		// The Go path reading whole rows, and counting in parallel parts,
		// agrees too.
		whole := goPath
		whole.plan = goPlan{all: true, allAttrs: true, terms: c.plan.terms}
		wholeIDs, err := matchingIDs(b.ctx, b.pool, &whole, now, 0, 1000)
		require.NoError(t, err, rule)
		require.Equal(t, goIDs, wholeIDs, rule)
		n, err = countParallel(b.ctx, b.pool, &goPath, now, 3, 0) // three parts, however small the table
		require.NoError(t, err)
		require.Equal(t, int64(len(goIDs)), n, rule)
	}
	t.Logf("%d translated rules agreed (%d with event conditions); %d compiled rules ran in Go only", translated, withEvents, fallback)
	require.Greater(t, translated, 400)
	require.Greater(t, withEvents, 100)
}

func diff(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestDaysSinceBoundaries puts timestamps on and around whole-day and
// whole-second boundaries, where the SQL instants and Go's arithmetic
// would first disagree.
func TestDaysSinceBoundaries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	for d := -1; d <= 3; d++ {
		base := time.Unix(now.Unix()-int64(d)*86400, 0)
		for _, off := range []time.Duration{-time.Second, -time.Microsecond, 0, time.Microsecond, 500 * time.Millisecond, time.Second} {
			id := b.mustCreate(t, contacts.ContactInput{Email: fmt.Sprintf("d%d_%d@example.com", d+1, off.Microseconds()+2_000_000)})
			_, err := b.pool.Exec(b.ctx, `INSERT INTO contact_stats (contact_id, last_open_at) VALUES ($1, $2)`, id, base.Add(off))
			require.NoError(t, err)
		}
	}
	b.mustCreate(t, contacts.ContactInput{Email: "never@example.com"})
	for _, op := range []string{"<", "<=", ">", ">=", "==", "!="} {
		for n := -1; n <= 3; n++ {
			rule := fmt.Sprintf("days_since(stats.last_open_at) %s %d", op, n)
			c, err := CompileSegment(rule)
			require.NoError(t, err)
			require.True(t, c.Translatable())
			sqlIDs, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
			require.NoError(t, err)
			goPath := *c
			goPath.tree = nil
			goIDs, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 1000)
			require.NoError(t, err)
			require.Equal(t, goIDs, sqlIDs, rule)
		}
	}
}
