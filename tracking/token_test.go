package tracking

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func testSigner() *Signer {
	return NewSigner(Keys{Current: []byte("0123456789abcdef0123456789abcdef-current")})
}

func tokenOf(t *testing.T, u, prefix string) string {
	t.Helper()
	i := strings.Index(u, prefix)
	require.GreaterOrEqual(t, i, 0, u)
	return strings.TrimSuffix(u[i+len(prefix):], ".gif")
}

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	s := testSigner()
	open := s.OpenURL("https://t.example/", 42)
	require.True(t, strings.HasPrefix(open, "https://t.example/t/o/"))
	require.True(t, strings.HasSuffix(open, ".gif"))
	tok, err := s.Verify(tokenOf(t, open, "/t/o/"))
	require.NoError(t, err)
	require.Equal(t, Token{Kind: KindOpen, DeliveryID: 42}, tok)

	click := s.ClickURL("https://t.example", 1<<40, 7, "")
	tok, err = s.Verify(tokenOf(t, click, "/t/c/"))
	require.NoError(t, err)
	require.Equal(t, Token{Kind: KindClick, DeliveryID: 1 << 40, LinkIdx: 7}, tok)
	require.Less(t, len(tokenOf(t, click, "/t/c/")), 32, "compact")

	p := s.ClickURL("https://t.example", 9, 2, "https://shop.example/u/abc?x=1")
	tok, err = s.Verify(tokenOf(t, p, "/t/c/"))
	require.NoError(t, err)
	require.Equal(t, Token{Kind: KindClickURL, DeliveryID: 9, LinkIdx: 2, URL: "https://shop.example/u/abc?x=1"}, tok)

	// A personalised URL that is not http(s) is tracked as a static link.
	j := s.ClickURL("https://t.example", 9, 2, "javascript:alert(1)")
	tok, err = s.Verify(tokenOf(t, j, "/t/c/"))
	require.NoError(t, err)
	require.Equal(t, KindClick, tok.Kind)
	require.Empty(t, tok.URL)

	tok, err = s.Verify(tokenOf(t, s.UnsubscribeURL("https://t.example", 5), "/t/u/"))
	require.NoError(t, err)
	require.Equal(t, Token{Kind: KindUnsubscribe, DeliveryID: 5}, tok)
	tok, err = s.Verify(tokenOf(t, s.HoneypotURL("https://t.example", 5), "/t/h/"))
	require.NoError(t, err)
	require.Equal(t, Token{Kind: KindHoneypot, DeliveryID: 5}, tok)

	addr := s.BounceAddress(77, "bounces.example")
	require.True(t, strings.HasPrefix(addr, "bounce+"))
	require.True(t, strings.HasSuffix(addr, "@bounces.example"))
	id, err := s.ParseBounceAddress("<" + strings.ToUpper(addr) + ">")
	require.NoError(t, err)
	require.Equal(t, int64(77), id)
}

func TestTokenRejects(t *testing.T) {
	t.Parallel()
	s := testSigner()
	good := tokenOf(t, s.ClickURL("https://t.example", 42, 1, ""), "/t/c/")
	other := NewSigner(Keys{Current: []byte("another secret another secret another")})
	forged := tokenOf(t, other.ClickURL("https://t.example", 42, 1, ""), "/t/c/")
	for name, tok := range map[string]string{
		"empty":     "",
		"truncated": good[:len(good)-2],
		"short":     good[:4],
		"forged":    forged,
		"garbage":   "not-a-token!!",
		"appended":  good + "AA",
	} {
		_, err := s.Verify(tok)
		require.ErrorIs(t, err, ErrBadToken, name)
	}
	// Flip every bit of the raw token in turn: none verifies.
	for i := range good {
		b := []byte(good)
		b[i] ^= 1
		_, err := s.Verify(string(b))
		require.Error(t, err, "flip %d", i)
	}
	_, err := s.ParseBounceAddress("bounce+aaaa@x")
	require.ErrorIs(t, err, ErrBadToken)
	// An open token is not a bounce address.
	_, err = s.ParseBounceAddress("bounce+" + tokenOf(t, s.OpenURL("", 1), "/t/o/") + "@x")
	require.ErrorIs(t, err, ErrBadToken)
}

func TestTokenKeyRotation(t *testing.T) {
	t.Parallel()
	old := NewSigner(Keys{Current: []byte("old secret old secret old secret old")})
	tok := tokenOf(t, old.OpenURL("", 3), "/t/o/")
	rotated := NewSigner(Keys{Current: []byte("new secret new secret new secret new"), Previous: []byte("old secret old secret old secret old")})
	got, err := rotated.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, int64(3), got.DeliveryID)
	// New tokens use the new key only.
	fresh := tokenOf(t, rotated.OpenURL("", 3), "/t/o/")
	_, err = old.Verify(fresh)
	require.ErrorIs(t, err, ErrBadToken)
	_, err = NewSigner(Keys{Current: []byte("new secret new secret new secret new")}).Verify(tok)
	require.ErrorIs(t, err, ErrBadToken)
}

func FuzzVerifyToken(f *testing.F) {
	s := testSigner()
	f.Add(tokenOf(&testing.T{}, s.ClickURL("", 1, 2, "https://a.example/x"), "/t/c/"))
	f.Add(tokenOf(&testing.T{}, s.OpenURL("", 99), "/t/o/"))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := s.Verify(tok)
		if err != nil {
			require.Equal(t, Token{}, got)
			return
		}
		// Anything that verifies must re-encode to itself and be sane.
		require.Equal(t, tok, s.Encode(got))
		require.Positive(t, got.DeliveryID)
		if got.Kind == KindClickURL {
			require.True(t, safeURL(got.URL))
		}
	})
}

// TestVerifyAllocatesNothing: verifying a click or open token (and
// refusing a forged one) allocates nothing, so the click path's cost does
// not grow with garbage collection.
func TestVerifyAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled states on purpose")
	}
	s := NewSigner(Keys{Current: []byte("current-secret"), Previous: []byte("previous-secret")})
	click := s.Encode(Token{Kind: KindClick, DeliveryID: 123456789, LinkIdx: 7})
	open := s.Encode(Token{Kind: KindOpen, DeliveryID: 123456789})
	forged := click[:len(click)-2] + "AA"
	old := NewSigner(Keys{Current: []byte("previous-secret")}).Encode(Token{Kind: KindClick, DeliveryID: 5, LinkIdx: 1})
	for _, tok := range []string{click, open, forged, old} {
		_, _ = s.Verify(tok) // fill the pool
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, tok := range []string{click, open, old} {
			if _, err := s.Verify(tok); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Verify(forged); err == nil {
			t.Fatal("a forged token verified")
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkVerifyClick(b *testing.B) {
	s := NewSigner(Keys{Current: []byte("current-secret")})
	tok := s.Encode(Token{Kind: KindClick, DeliveryID: 123456789, LinkIdx: 7})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
