package tracking

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// The arrays that write their own binary form reach the database as the
// plain Go slices pgx encodes would: the same values, NULLs where an int
// is not Valid, "" kept as "" (not NULL), times to the microsecond
// (before 2000 and before 1970 too), empty arrays empty. Every array goes
// through one statement with reserve, as the click path sends them, and
// the same connection still encodes and decodes plain slices (the wrapped
// codecs hand them on).
func TestBinaryArraysEncodeLikePlainSlices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	useBinaryArrays(conn.Conn().TypeMap())
	useBinaryArrays(conn.Conn().TypeMap()) // twice: wrapped once

	times := []time.Time{
		time.Date(2026, 12, 7, 4, 30, 1, 123456789, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.FixedZone("IRST", 12600)),
		time.Date(1969, 7, 20, 20, 17, 40, 500, time.UTC),
	}
	one, seven := int32(1), int32(-7)
	strs := []string{"click", "", "Mozilla/5.0 (X11) «ü» 👍", "203.0.113.7"}
	bigs := []int64{1 << 40, 0, -1, math.MaxInt64, math.MinInt64}

	var textsEq, intsEq, bigsEq, boolsEq, timesEq, emptyEq bool
	var nulls int
	require.NoError(t, conn.QueryRow(ctx, `SELECT $1::text[] IS NOT DISTINCT FROM $7::text[], $2::int[] IS NOT DISTINCT FROM $8::int[],
			$3::bigint[] = $9::bigint[], $4::bool[] = $10::bool[], $5::timestamptz[] = $11::timestamptz[],
			$6::text[] = '{}'::text[] AND cardinality($6::text[]) = 0 AND $6::text[] IS NOT NULL,
			(SELECT count(*) FROM unnest($2::int[]) l WHERE l IS NULL)`,
		append(reserve(texts(strs), int4s{{Int32: 1, Valid: true}, {}, {Int32: -7, Valid: true}}, int8s(bigs),
			bools{true, false}, timestamptzs(times), texts{}),
			strs, []*int32{&one, nil, &seven}, bigs, []bool{true, false}, times)...,
	).Scan(&textsEq, &intsEq, &bigsEq, &boolsEq, &timesEq, &emptyEq, &nulls))
	require.True(t, textsEq, "text[]")
	require.True(t, intsEq, "int[] with a NULL")
	require.Equal(t, 1, nulls, "the invalid int is NULL")
	require.True(t, bigsEq, "bigint[]")
	require.True(t, boolsEq, "bool[]")
	require.True(t, timesEq, "timestamptz[]")
	require.True(t, emptyEq, "an empty array is an empty array")

	// Without reserve, each array alone.
	var eq []bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT ARRAY[$1::text[] = $6::text[], $2::int[] IS NOT DISTINCT FROM $7::int[],
			$3::bigint[] = $8::bigint[], $4::bool[] = $9::bool[], $5::timestamptz[] = $10::timestamptz[]]`,
		texts(strs), int4s{{Int32: 1, Valid: true}, {}, {Int32: -7, Valid: true}}, int8s(bigs), bools{true, false}, timestamptzs(times),
		strs, []*int32{&one, nil, &seven}, bigs, []bool{true, false}, times,
	).Scan(&eq))
	require.Equal(t, []bool{true, true, true, true, true}, eq)

	// Read back: the values themselves, times truncated to microseconds.
	var gotTexts []string
	var gotTimes []time.Time
	var gotInts []*int32
	require.NoError(t, conn.QueryRow(ctx, `SELECT $1::text[], $2::timestamptz[], $3::int[]`,
		texts(strs), timestamptzs(times), int4s{{Int32: 1, Valid: true}, {}}).Scan(&gotTexts, &gotTimes, &gotInts))
	require.Equal(t, strs, gotTexts)
	require.Len(t, gotTimes, len(times))
	for i, at := range times {
		require.True(t, at.Truncate(time.Microsecond).Equal(gotTimes[i]), "time %d: %v, got %v", i, at, gotTimes[i])
	}
	require.Equal(t, []*int32{&one, nil}, gotInts)

	// An array passed for another array type is not sent with its own
	// element type: pgx's plans take it, as they take the plain slice.
	var parsed []int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT $1::bigint[]`, texts{"12"}).Scan(&parsed))
	require.Equal(t, []int64{12}, parsed)

	// A NULL array (a nil slice) is NULL, as pgx sends it.
	var isNull bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT $1::bigint[] IS NULL`, int8s(nil)).Scan(&isNull))
	require.True(t, isNull)
}

// binArrays' room is never less than what they append: the reservation
// that makes pgx's buffer grow once holds.
func TestBinaryArraysRoom(t *testing.T) {
	t.Parallel()
	for _, a := range []binArray{
		int8s{1, 2, 3}, int8s{}, int4s{{Int32: 1, Valid: true}, {}}, texts{"", "abc", "«ü»"}, texts{},
		bools{true, false, true}, timestamptzs{time.Now(), time.Unix(0, 0)},
	} {
		got := len(a.appendBinary(nil))
		require.LessOrEqual(t, got, a.room(), "%T %v", a, a)
	}
	args := reserve(int8s{1}, texts{"abc"})
	require.Equal(t, int8s{1}.room()+texts{"abc"}.room(), args[0].(binArray).room())
}
