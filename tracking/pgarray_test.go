package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// The inbox's arrays read through pointers reach the database as the plain
// Go slices they replaced would: the same values, NULLs where Valid is
// false, "" kept as "" (not NULL), times to the microsecond.
func TestPtrArrayEncodesLikePlainSlices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	at := time.Date(2026, 12, 7, 4, 30, 1, 123456000, time.UTC)
	one := int32(1)

	var texts, ints, bigs, bools, times bool
	var nulls int
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::text[] IS NOT DISTINCT FROM $2::text[], $3::int[] IS NOT DISTINCT FROM $4::int[],
			$5::bigint[] = $6::bigint[], $7::bool[] = $8::bool[], $9::timestamptz[] = $10::timestamptz[],
			(SELECT count(*) FROM unnest($3::int[]) l WHERE l IS NULL)`,
		ptrArray[pgtype.Text]{text("click"), text(""), text("Mozilla/5.0 (X11) «ü»")}, []string{"click", "", "Mozilla/5.0 (X11) «ü»"},
		ptrArray[pgtype.Int4]{{Int32: 1, Valid: true}, {}}, []*int32{&one, nil},
		ptrArray[pgtype.Int8]{{Int64: 1 << 40, Valid: true}}, []int64{1 << 40},
		ptrArray[pgtype.Bool]{{Bool: true, Valid: true}, {Bool: false, Valid: true}}, []bool{true, false},
		ptrArray[pgtype.Timestamptz]{{Time: at, Valid: true}}, []time.Time{at},
	).Scan(&texts, &ints, &bigs, &bools, &times, &nulls))
	require.True(t, texts, "text[]")
	require.True(t, ints, "int[] with a NULL")
	require.Equal(t, 1, nulls, "the invalid int is NULL")
	require.True(t, bigs, "bigint[]")
	require.True(t, bools, "bool[]")
	require.True(t, times, "timestamptz[]")

	var empty []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::text[]`, ptrArray[pgtype.Text]{}).Scan(&empty))
	require.Empty(t, empty, "an empty array is an empty array")
}
