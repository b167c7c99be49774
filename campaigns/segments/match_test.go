package segments

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// TestMatchPageSendable: an everyone segment returns the sendable contacts
// and counts, without returning them, those whose address or domain is
// suppressed.
func TestMatchPageSendable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, contacts.ContactInput{Email: "Someone@Blocked.example"})
	b.mustCreate(t, contacts.ContactInput{Email: "x@spam.example"})
	ok := b.mustCreate(t, contacts.ContactInput{Email: "fine@example.com"})
	_, err := contacts.AddSuppression(b.ctx, b.pool, contacts.SuppressionInput{Value: "someone@BLOCKED.example", Reason: "asked by phone"})
	require.NoError(t, err)
	_, err = contacts.AddSuppression(b.ctx, b.pool, contacts.SuppressionInput{Value: "@Spam.example"})
	require.NoError(t, err)

	compiled, err := CompileSegment("")
	require.NoError(t, err)
	p, err := MatchPage(b.ctx, b.pool, compiled, 0, 100)
	require.NoError(t, err)
	require.Equal(t, []int64{ok}, p.IDs)
	require.Equal(t, 2, p.Suppressed)
	require.True(t, p.Done)
}

// TestErasedInNoSegment: an erased contact matches no segment, on either
// the walk or the count.
func TestErasedInNoSegment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.mustCreate(t, contacts.ContactInput{Email: "erase.me@example.com", Name: "Erin"})
	require.NoError(t, contacts.Erase(b.ctx, b.pool, tracking.EventEraser{}, id))
	all, err := CompileSegment("")
	require.NoError(t, err)
	p, err := MatchPage(b.ctx, b.pool, all, 0, 10)
	require.NoError(t, err)
	require.Empty(t, p.IDs)
	n64, err := Count(b.ctx, b.pool, all)
	require.NoError(t, err)
	require.Zero(t, n64, "erased contacts are in no segment")
}

// TestMatchPageWalk walks a segment page by page on both paths and checks
// that every matching sendable contact is seen exactly once.
func TestMatchPageWalk(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want := map[int64]bool{}
	suppressed := 0
	for i := range 57 {
		city := "Tehran"
		if i%3 == 0 {
			city = "Shiraz"
		}
		id := b.mustCreate(t, contacts.ContactInput{Email: "p" + string(rune('a'+i%26)) + time.Duration(i).String() + "@example.com",
			Attributes: map[string]any{"city": city}})
		if city == "Tehran" {
			if i%10 == 1 {
				require.NoError(t, contacts.Suppress(b.ctx, b.pool, id, contacts.StatusUnsubscribed))
				suppressed++
			} else {
				want[id] = true
			}
		}
	}
	for _, rule := range []string{`contact.attributes.city == "Tehran"`, `contact.attributes.city == "Tehran" && len(contact.tags) == 0`} {
		compiled, err := CompileSegment(rule)
		require.NoError(t, err)
		seen := map[int64]bool{}
		sup, after, pages := 0, int64(0), 0
		for {
			p, err := MatchPage(b.ctx, b.pool, compiled, after, 7)
			require.NoError(t, err)
			pages++
			require.Less(t, pages, 100)
			for _, id := range p.IDs {
				require.False(t, seen[id])
				seen[id] = true
			}
			sup += p.Suppressed
			require.GreaterOrEqual(t, p.Last, after)
			after = p.Last
			if p.Done {
				break
			}
		}
		require.Equal(t, want, seen, rule)
		require.Equal(t, suppressed, sup, rule)
	}
}

func TestCompileSegmentErrors(t *testing.T) {
	t.Parallel()
	for rule, pos := range map[string]int{
		`contact.nope == 1`:               9,
		`  stats.sent >`:                  14,
		`has_tag(1)`:                      9,
		"contact.email == \"a\" &&\n 1 +": 0,
		// expr's own check misses a missing field passed to a function: it
		// would read nothing and match nobody.
		`days_since(contact.last_open_at) > 60`: 20,
		`days_since(stats.last_opened) > 60`:    18,
	} {
		_, err := CompileSegment(rule)
		var de *errs.Error
		require.ErrorAs(t, err, &de, rule)
		require.Equal(t, errs.Invalid, de.Code)
		require.Equal(t, "rule", de.Field)
		if pos > 0 {
			require.Equal(t, pos, de.Position, "%s: %s", rule, de.Message)
		}
	}
	for _, rule := range []string{"", "  ", "true", `contact.attributes.city == "Tehran"`, `days_since(stats.last_open_at) > 60`, `days_since(contact.consent.at) > 1`} {
		c, err := CompileSegment(rule)
		require.NoError(t, err, rule)
		require.True(t, c.Translatable(), rule)
	}
	c, err := CompileSegment(`any(contact.tags, {# startsWith "x"})`)
	require.NoError(t, err)
	require.False(t, c.Translatable())

	_, err = GetSegment(t.Context(), setup(t).pool, 12345)
	require.True(t, errs.Is(err, errs.NotFound))
}
