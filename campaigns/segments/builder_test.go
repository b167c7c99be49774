package segments

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
)

// builderTexts are the text values random conditions take: quotes,
// escapes, Persian and bidi-sensitive characters included.
var builderTexts = []string{"Tehran", "", "تهران", `say "hi"`, `back\slash`, "a\nb", "x_y", "{{ .Contact.Name }}", "\u200f", "@example.com"}

var builderNumbers = []string{"0", "1", "-3", "1.5", "1000000", "0.25", "-0.5", "999999999999"}

var builderAttrs = []string{"city", "plan", "spend", "vip", "my key", "a.b", "شهر"}

func randomCondition(r *rand.Rand) Node {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	if r.IntN(5) == 0 {
		return randomEventCondition(r)
	}
	fields := append([]Field(nil), staticFields...)
	for _, k := range builderAttrs {
		fields = append(fields, Field{Field: attrPrefix + k, Kind: []string{KindText, KindNumber, KindBool}[r.IntN(3)]})
	}
	f := fields[r.IntN(len(fields))]
	op := pick(Ops[f.Kind])
	c := Node{Field: f.Field, Op: op}
	switch f.Kind {
	case KindText:
		if op == "one_of" {
			for range 1 + r.IntN(3) {
				c.Values = append(c.Values, pick(builderTexts))
			}
		} else {
			c.Value = pick(builderTexts)
		}
	case KindNumber:
		c.Value = pick(builderNumbers)
		if op == "between" {
			c.Value2 = pick(builderNumbers)
		}
	case KindDate:
		if op == "before" || op == "after" {
			c.Value = pick([]string{"2026-03-21", "2000-01-01", "2026-12-31"})
		} else {
			c.Value = pick([]string{"0", "7", "90", "365"})
		}
	case KindTags:
		c.Value = pick([]string{"vip", "مشتری", "a b", `q"t`})
	}
	return c
}

// randomEventCondition is an event or campaign condition.
func randomEventCondition(r *rand.Rand) Node {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	f := eventFields[r.IntN(len(eventFields))]
	if f.Kind == KindCampaign {
		return Node{Field: f.Field, Op: pick(Ops[KindCampaign]), Value: pick([]string{"12", "1", "Nowruz sale", "فروش نوروز", `say "hi"`, "2026 sale"})}
	}
	c := Node{Field: f.Field, Op: pick([]string{"eq", "ne", "gt", "ge", "lt", "le"}), Value: pick(builderNumbers),
		Event: pick([]string{"purchase", "cart_abandoned", "signup", "my event", "خرید", `q"t`})}
	if f.Window {
		c.Window = pick([]string{"7d", "24h", "30m", "2w", "365d"})
	}
	return c
}

// randomTree builds a canonical tree: groups alternate all/any, every
// subgroup has at least two items.
func randomTree(r *rand.Rand, match string, depth int) Node {
	g := Node{Match: match}
	n := 2 + r.IntN(3)
	if depth == 0 {
		n = r.IntN(5)
	}
	other := map[string]string{"all": "any", "any": "all"}[match]
	for range n {
		if depth < 2 && r.IntN(4) == 0 {
			g.Items = append(g.Items, randomTree(r, other, depth+1))
		} else {
			g.Items = append(g.Items, randomCondition(r))
		}
	}
	if depth == 0 && len(g.Items) == 1 && g.Items[0].Match != "" {
		return g.Items[0]
	}
	if depth == 0 && len(g.Items) <= 1 {
		g.Match = "all"
	}
	return g
}

// TestBuilderRoundTrip: builder JSON → expr → parsed back → the same JSON,
// and every rule the builder writes compiles.
func TestBuilderRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(18, 2026))
	for i := range 3000 {
		tree := randomTree(r, []string{"all", "any"}[r.IntN(2)], 0)
		want, err := json.Marshal(tree)
		require.NoError(t, err)
		canon, err := Normalize(tree)
		require.NoError(t, err)
		require.Equal(t, tree, canon, "tree %d is canonical: %s", i, want)
		rule, err := Rule(tree)
		require.NoError(t, err, "tree %d: %s", i, want)
		_, err = CompileSegment(rule)
		require.NoError(t, err, "tree %d: %s\nrule: %s", i, want, rule)
		back, err := ParseBuilder(rule)
		require.NoError(t, err, "tree %d: %s\nrule: %s", i, want, rule)
		got, err := json.Marshal(back)
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got), "tree %d\nrule: %s", i, rule)
	}
}

// TestBuilderNormalize: shapes that write the same rule read back as one
// canonical tree.
func TestBuilderNormalize(t *testing.T) {
	t.Parallel()
	a := Node{Field: "stats.opens", Op: "gt", Value: "1.0"}
	b := Node{Field: "contact.tags", Op: "has", Value: "vip"}
	in := Node{Match: "any", Items: []Node{{Match: "all", Items: []Node{a, {Match: "all", Items: []Node{b}}, {Match: "any"}}}}}
	got, err := Normalize(in)
	require.NoError(t, err)
	want := Node{Match: "all", Items: []Node{{Field: "stats.opens", Op: "gt", Value: "1"}, b}}
	require.Equal(t, want, got)
	rule, err := Rule(in)
	require.NoError(t, err)
	require.Equal(t, `stats.opens > 1 && has_tag("vip")`, rule)
	empty, err := Rule(Node{})
	require.NoError(t, err)
	require.Empty(t, empty)
}

// TestBuilderExample: the marketer's "city is Tehran and spent more than
// 1M in the last 90 days".
func TestBuilderExample(t *testing.T) {
	t.Parallel()
	tree := Node{Match: "all", Items: []Node{
		{Field: "contact.attributes.city", Op: "is", Value: "Tehran"},
		{Field: "stats.revenue", Op: "gt", Value: "1000000"},
		{Field: "stats.last_purchase_at", Op: "last_days", Value: "90"},
	}}
	rule, err := Rule(tree)
	require.NoError(t, err)
	require.Equal(t, `contact.attributes.city == "Tehran" && stats.revenue > 1000000 && days_since(stats.last_purchase_at) < 90`, rule)
	c, err := CompileSegment(rule)
	require.NoError(t, err)
	require.True(t, c.Translatable())
}

// TestBuilderDoesNotFit: rules the builder cannot show say so; the text
// stays the source of truth.
func TestBuilderDoesNotFit(t *testing.T) {
	t.Parallel()
	for _, rule := range []string{
		`!(stats.opens > 1)`,
		`stats.opens > stats.clicks`,
		`contact.email endsWith "@example.com"`,
		`contact.attributes.city in ["Tehran", 1]`,
		`contact.attributes.city in []`,
		`1 <= stats.sent`,
		`len(contact.tags) > 2`,
		`contact.email matches "^a"`,
		`stats.revenue * 2 > 10`,
		`days_since(stats.last_open_at) >= 90`,
		`contact.attributes.a.b == "x"`,
		`stats.opens > 0 && (stats.clicks == 1 || contact.name startsWith "S" || now.Year() > 2000)`,
	} {
		_, err := ParseBuilder(rule)
		var nf *NotFitError
		require.True(t, errors.As(err, &nf), "%s: %v", rule, err)
		require.NotEmpty(t, nf.Reason)
	}
	// A rule that does not compile is the compiler's error, with its position.
	_, err := ParseBuilder(`stats.nope > 1`)
	var e *errs.Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, errs.Invalid, e.Code)
	require.Positive(t, e.Position)
}

// TestBuilderRefusesBadTrees: a bad tree names the part at fault.
func TestBuilderRefusesBadTrees(t *testing.T) {
	t.Parallel()
	for field, tree := range map[string]Node{
		"tree.items[0].field":          {Match: "all", Items: []Node{{Field: "contact.password", Op: "is", Value: "x"}}},
		"tree.items[0].op":             {Match: "all", Items: []Node{{Field: "stats.opens", Op: "contains", Value: "x"}}},
		"tree.items[0].value":          {Match: "all", Items: []Node{{Field: "stats.opens", Op: "gt", Value: "many"}}},
		"tree.items[1].items[0].value": {Match: "all", Items: []Node{{Field: "stats.opens", Op: "gt", Value: "1"}, {Match: "any", Items: []Node{{Field: "contact.created_at", Op: "before", Value: "21/03/2026"}}}}},
		"tree.match":                   {Match: "some", Items: []Node{{Field: "stats.opens", Op: "gt", Value: "1"}}},
		"tree.items[0].values":         {Match: "all", Items: []Node{{Field: "rfm.segment", Op: "one_of"}}},
	} {
		_, err := Rule(tree)
		var e *errs.Error
		require.True(t, errors.As(err, &e), "%s: %v", field, err)
		require.Equal(t, field, e.Field, e.Message)
	}
}

// TestBuilderKeepsMeaning: a hand-written rule that fits the builder, read
// into the builder and written back, selects the same contacts (the
// builder's normal form changes the text, never the meaning), and reads
// back to the same tree.
func TestBuilderKeepsMeaning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := rand.New(rand.NewPCG(17, 18))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	randomContacts(t, &b, r, now, 150)
	fits := 0
	for range 1500 {
		rule := randomRule(r, 3)
		if _, err := CompileSegment(rule); err != nil {
			continue
		}
		tree, err := ParseBuilder(rule)
		var nf *NotFitError
		if errors.As(err, &nf) {
			continue
		}
		require.NoError(t, err, rule)
		fits++
		written, err := Rule(tree)
		require.NoError(t, err, rule)
		again, err := ParseBuilder(written)
		require.NoError(t, err, written)
		require.Equal(t, tree, again, "%s\n→ %s", rule, written)
		want, err := CompileSegment(rule)
		require.NoError(t, err)
		got, err := CompileSegment(written)
		require.NoError(t, err, written)
		wantIDs, err := matchingIDs(b.ctx, b.pool, want, now, 0, 1000)
		require.NoError(t, err, rule)
		gotIDs, err := matchingIDs(b.ctx, b.pool, got, now, 0, 1000)
		require.NoError(t, err, written)
		require.Equal(t, wantIDs, gotIDs, "%s\n→ %s", rule, written)
	}
	t.Logf("%d random rules fit the builder and kept their meaning", fits)
	require.Greater(t, fits, 100)
}

// TestDateCompareSQLMatchesGo: the builder's before and after run as SQL
// and select exactly what Go selects, on timestamps around the date's
// midnight (UTC) and on a contact that never opened.
func TestDateCompareSQLMatchesGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	midnight := time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)
	for i, off := range []time.Duration{-time.Hour, -time.Second, -time.Microsecond, 0, time.Microsecond, time.Second, 25 * time.Hour} {
		id := b.mustCreate(t, contacts.ContactInput{Email: fmt.Sprintf("t%d@example.com", i)})
		_, err := b.pool.Exec(b.ctx, `WITH u AS (UPDATE contacts SET created_at = $2 WHERE id = $1)
			INSERT INTO contact_stats (contact_id, last_open_at) VALUES ($1, $2)`, id, midnight.Add(off))
		require.NoError(t, err)
	}
	b.mustCreate(t, contacts.ContactInput{Email: "never@example.com"})
	for _, field := range []string{"stats.last_open_at", "contact.created_at"} {
		for _, op := range []string{"<", "<=", ">", ">="} {
			rule := fmt.Sprintf(`%s %s date("2026-03-21")`, field, op)
			c, err := CompileSegment(rule)
			require.NoError(t, err)
			require.True(t, c.Translatable(), rule)
			sqlIDs, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
			require.NoError(t, err)
			goPath := *c
			goPath.tree = nil
			goIDs, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 1000)
			require.NoError(t, err)
			require.Equal(t, goIDs, sqlIDs, rule)
			require.NotEmpty(t, goIDs, rule)
		}
	}
}

// FuzzParseBuilder: any rule reads into the builder, is refused as not
// fitting, or is the compiler's error, never a panic; a tree it reads
// writes a rule that compiles and reads back to the same tree.
func FuzzParseBuilder(f *testing.F) {
	for _, s := range []string{
		``, `true`, `contact.attributes.city == "Tehran" && stats.revenue > 1000000 && days_since(stats.last_purchase_at) < 90`,
		`has_tag("vip") || !has_tag("x") && contact.name startsWith "S"`, `(1 <= stats.sent && stats.sent <= 5) || rfm.segment == "lost"`,
		`contact.created_at < date("2026-03-21") and contact.attributes["my key"] == false`, `stats.revenue >= -0.5`,
		`contact.attributes.a.b == 1`, `1 <= stats.sent`, `not (stats.opens > 1)`, `contact.email endsWith "x"`,
		`stats.opens > 1e20`, `days_since(stats.last_open_at) > 1000001`, `contact.attributes["شهر"] contains "تهران"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		tree, err := ParseBuilder(rule)
		if err != nil {
			var nf *NotFitError
			var e *errs.Error
			if !errors.As(err, &nf) && !errors.As(err, &e) {
				t.Fatalf("%q: unexpected error %v", rule, err)
			}
			return
		}
		written, err := Rule(tree)
		if err != nil {
			t.Fatalf("%q: its tree does not write: %v", rule, err)
		}
		if _, err := CompileSegment(written); err != nil {
			t.Fatalf("%q → %q does not compile: %v", rule, written, err)
		}
		again, err := ParseBuilder(written)
		if err != nil {
			t.Fatalf("%q → %q does not read back: %v", rule, written, err)
		}
		require.Equal(t, tree, again, "%q → %q", rule, written)
	})
}
