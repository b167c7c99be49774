package contacts

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBuilderDiscovery: the keys with their usual JSON type, the tags and
// the common text values come from the newest contacts only.
func TestBuilderDiscovery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, ContactInput{Email: "old@example.com", Attributes: map[string]any{"old": "x"}, Tags: []string{"old"}})
	for i := range 6 {
		attrs := map[string]any{"city": []string{"Tehran", "Shiraz", "Tehran"}[i%3], "spend": i, "vip": i%2 == 0}
		if i == 0 {
			attrs["spend"] = "unknown" // one text among numbers: still a number
		}
		b.mustCreate(t, ContactInput{Email: fmt.Sprintf("n%d@example.com", i), Attributes: attrs, Tags: []string{"t" + fmt.Sprint(i%2)}})
	}

	kinds, err := AttributeKinds(b.ctx, b.pool, 6)
	require.NoError(t, err)
	require.Equal(t, []AttributeKind{{"city", "string"}, {"spend", "number"}, {"vip", "boolean"}}, kinds)

	tags, err := TagValues(b.ctx, b.pool, 6)
	require.NoError(t, err)
	require.Equal(t, []string{"t0", "t1"}, tags)

	values, err := AttributeValues(b.ctx, b.pool, 6)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"city": {"Tehran", "Shiraz"}, "spend": {"unknown"}}, values)

	all, err := TagValues(b.ctx, b.pool, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"old", "t0", "t1"}, all)
}
