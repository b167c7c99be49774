package tracking

import (
	"testing"

	"github.com/peykar/peykar/migrations/pgtest"
)

func TestQueriesPrepare(t *testing.T) {
	t.Parallel()
	pgtest.CheckQueries(t, queries)
}
