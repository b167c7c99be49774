package errs

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInUseNamesTheUsers: the message names up to five users with their
// status and counts the rest; the users travel with the error.
func TestInUseNamesTheUsers(t *testing.T) {
	t.Parallel()
	e := InUse("segment 3", []User{{1, "Nowruz sale", "running"}, {2, "Welcome", "draft"}})
	require.Equal(t, Conflict, e.Code)
	require.Equal(t, "segment 3 is used by campaigns 'Nowruz sale' (running), 'Welcome' (draft): archive it to hide it, or change those campaigns first", e.Message)
	require.Len(t, UsedBy(fmt.Errorf("wrapped: %w", e)), 2)

	var many []User
	for i := range 8 {
		many = append(many, User{int64(i), fmt.Sprintf("c%d", i), "finished"})
	}
	e = InUse("template 9", many)
	require.Contains(t, e.Message, "'c4' (finished), and 3 more:")
	require.NotContains(t, e.Message, "'c5'")
	require.Nil(t, UsedBy(New(Conflict, "other")))
}
