package sqlq_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/sqlq"
)

func TestLoadNamesAndErrors(t *testing.T) {
	t.Parallel()
	s, err := sqlq.Load(fstest.MapFS{
		"a.sql": {Data: []byte("-- header\n\n-- name: one\n-- says why\nSELECT 1;\n\n-- name: two\nSELECT 2\n")},
		"b.sql": {Data: []byte("-- name: three\nSELECT 3\n")},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"one", "three", "two"}, s.Names())
	require.Equal(t, "-- says why\nSELECT 1;", s.Get("one"))
	require.Panics(t, func() { s.Get("four") })

	_, err = sqlq.Load(fstest.MapFS{
		"a.sql": {Data: []byte("-- name: one\nSELECT 1\n")},
		"b.sql": {Data: []byte("-- name: one\nSELECT 2\n")},
	})
	require.ErrorContains(t, err, "query one already defined in a.sql")

	_, err = sqlq.Parse("c.sql", "-- name: empty\n-- only a comment\n")
	require.ErrorContains(t, err, "query empty is empty")
}
