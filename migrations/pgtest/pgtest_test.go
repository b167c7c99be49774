package pgtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDatabasesAreMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.NewPool(t), pgtest.NewPool(t)
	require.NoError(t, migrations.Check(ctx, a))
	require.NoError(t, migrations.Check(ctx, b))

	_, err := a.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('k', '1')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(ctx, "SELECT count(*) FROM settings").Scan(&n))
	require.Zero(t, n, "a write in one test database is invisible in another")

	var nameA, nameB string
	require.NoError(t, a.QueryRow(ctx, "SELECT current_database()").Scan(&nameA))
	require.NoError(t, b.QueryRow(ctx, "SELECT current_database()").Scan(&nameB))
	require.NotEqual(t, nameA, nameB)
}

func TestManyDatabasesInParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			pool := pgtest.NewPool(t)
			_, err := pool.Exec(context.Background(), `INSERT INTO settings (key, value) VALUES ($1, '1')`, fmt.Sprint(i))
			require.NoError(t, err)
		})
	}
}
