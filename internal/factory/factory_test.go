package factory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestFixturesAreTheRowsAsked: each builder stores what its options say,
// with the defaults of the owner's own create, and a backdated contact and
// dated transactions keep their dates.
func TestFixturesAreTheRowsAsked(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	joined := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	c := factory.Contact(t, pool, factory.Email("A@Example.com"), factory.Name("Ali"), factory.Attr("city", "Tehran"),
		factory.Tags("vip"), factory.CreatedAt(joined))
	got, err := contacts.Get(ctx, pool, c.ID)
	require.NoError(t, err)
	require.Equal(t, "A@example.com", got.Email, "the domain is normalised")
	require.Equal(t, "Ali", got.Name)
	require.Equal(t, "Tehran", got.Attributes["city"])
	require.Equal(t, []string{"vip"}, got.Tags)
	require.Equal(t, contacts.StatusActive, got.Status)
	require.True(t, joined.Equal(got.CreatedAt), "created_at %v", got.CreatedAt)
	other := factory.Contact(t, pool)
	require.NotEqual(t, c.Email, other.Email, "default emails differ")

	first := factory.Transaction(t, pool, c.ID, factory.Value(50), factory.Currency("EUR"), factory.OccurredAt(joined))
	second := factory.Transaction(t, pool, c.ID, factory.Type("signup"), factory.OccurredAt(joined.Add(time.Hour)))
	require.Less(t, first, second)
	var typ, cur string
	var value float64
	var at time.Time
	var conversions int
	require.NoError(t, pool.QueryRow(ctx, `SELECT type, value::float8, currency, occurred_at FROM transactions WHERE id = $1`, first).
		Scan(&typ, &value, &cur, &at))
	require.Equal(t, "purchase", typ)
	require.Equal(t, 50.0, value)
	require.Equal(t, "EUR", cur)
	require.True(t, joined.Equal(at))
	require.NoError(t, pool.QueryRow(ctx, `SELECT conversions FROM contacts WHERE id = $1`, c.ID).Scan(&conversions))
	require.Zero(t, conversions, "a loaded transaction does not count as a conversion")

	seg := factory.Segment(t, pool)
	require.Equal(t, "true", seg.Rule)
	tpl := factory.Template(t, pool, factory.Subject("Hello {{ .Contact.Name }}"))
	require.Equal(t, "Hello {{ .Contact.Name }}", tpl.Subject)
	require.Equal(t, "t", tpl.Name)
}

// TestBadFixtureFailsTheTest: a fixture its owner refuses fails the test
// rather than returning a half-made row.
func TestBadFixtureFailsTheTest(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		factory.Segment(ft, pool, factory.Rule("no_such_field > 1"))
	}()
	require.True(t, ft.failed, "an invalid segment rule fails the test")
}

// fakeTB records a failure instead of ending the real test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Errorf(string, ...any) { f.failed = true }
func (f *fakeTB) FailNow()              { f.failed = true; panic("FailNow") }
func (f *fakeTB) Helper()               {}
