package forms

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTokenRoundTripAndRejects(t *testing.T) {
	t.Parallel()
	k := Keys{Current: []byte("secret one")}
	at := time.Unix(1_800_000_000, 0)
	tok := k.sign(kindRender, 42, at)
	id, got, ok := k.verify(kindRender, tok)
	require.True(t, ok)
	require.Equal(t, int64(42), id)
	require.True(t, at.Equal(got))

	_, _, ok = k.verify(kindConfirm, tok)
	require.False(t, ok, "a render token is no confirmation token")
	_, _, ok = k.verify(kindRender, strings.Replace(tok, ".42.", ".43.", 1))
	require.False(t, ok, "another id breaks the signature")
	_, _, ok = Keys{Current: []byte("secret two")}.verify(kindRender, tok)
	require.False(t, ok, "another secret")
	_, _, ok = Keys{Current: []byte("secret two"), Previous: []byte("secret one")}.verify(kindRender, tok)
	require.True(t, ok, "the previous secret still verifies during a rotation")
}

func FuzzVerifyToken(f *testing.F) {
	k := Keys{Current: []byte("secret")}
	f.Add(k.sign(kindConfirm, 7, time.Unix(1_800_000_000, 0)))
	f.Add("c.1.2.x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, _, ok := k.verify(kindConfirm, s)
		if ok && (id <= 0 || k.sign(kindConfirm, id, time.Unix(0, 0)) == "") {
			t.Fatalf("accepted %q with id %d", s, id)
		}
	})
}

func TestLimiterBucket(t *testing.T) {
	t.Parallel()
	l := NewLimiter(10*time.Second, 2, 2)
	now := time.Unix(1_800_000_000, 0)
	for range 2 {
		ok, _ := l.Allow("a", now)
		require.True(t, ok)
	}
	ok, wait := l.Allow("a", now)
	require.False(t, ok)
	require.Equal(t, 10*time.Second, wait)
	ok, _ = l.Allow("b", now)
	require.True(t, ok, "per client")
	ok, _ = l.Allow("a", now.Add(10*time.Second))
	require.True(t, ok, "refilled after one interval")
	l.Allow("c", now) // evicts the least recently used
	require.Equal(t, 2, l.clients.Len(), "bounded")
}
