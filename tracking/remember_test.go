package tracking

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// remember leaves an entry that is already right alone, but a delivery
// whose campaign settings changed (a new UTM) is remembered anew, and the
// cache still drops the oldest entries when full.
func TestRememberKeepsTheLatestMeta(t *testing.T) {
	t.Parallel()
	s := &Service{metas: mustLRU[int64, deliveryMeta](2)}
	a := deliveryMeta{campaignID: 1, step: "main", utm: UTM{Source: "peykar"}}
	s.remember(7, a)
	s.remember(7, a)
	got, ok := s.metas.Peek(7)
	require.True(t, ok)
	require.Equal(t, a, got)

	b := a
	b.utm.Source = "newsletter"
	s.remember(7, b)
	got, _ = s.metas.Peek(7)
	require.Equal(t, b, got, "a changed meta replaces the old one")

	s.remember(8, a)
	s.remember(9, a)
	require.False(t, s.metas.Contains(7), "the oldest entry goes when the cache is full")
	require.True(t, s.metas.Contains(9))
}
