package contacts

import (
	"strings"
	"testing"

	"github.com/peykar/peykar/migrations/pgtest"
)

func TestQueriesPrepare(t *testing.T) {
	t.Parallel()
	pgtest.CheckQueries(t, queries)
}

// The statements that return a whole contact list contactColumns (the
// order scanContact reads) word for word.
func TestContactQueriesReturnContactColumns(t *testing.T) {
	t.Parallel()
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, name := range []string{"create_contact", "get_contact", "get_contacts", "update_contact", "lock_contact", "patch_contact"} {
		if !strings.Contains(flat(queries.Get(name)), flat(contactColumns)) {
			t.Errorf("%s does not return contactColumns", name)
		}
	}
}
