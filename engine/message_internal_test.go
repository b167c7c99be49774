package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/tracking"
)

func TestClickTokensCarryTheURLUnlessTheRecordedLinkMatches(t *testing.T) {
	t.Parallel()
	signer := tracking.NewSigner(tracking.Keys{Current: []byte("message-test-secret-message-test-secret")})
	tr := &deliveryTracker{signer: signer, base: "https://p.test", id: 42, links: map[int]string{0: "https://shop.example/pricing"}}
	verify := func(u string) tracking.Token {
		tok, err := signer.Verify(strings.TrimPrefix(u, "https://p.test/t/c/"))
		require.NoError(t, err)
		return tok
	}

	static := verify(tr.ClickURL(0, "https://shop.example/pricing"))
	require.Equal(t, int64(42), static.DeliveryID)
	require.Empty(t, static.URL, "the click endpoint redirects to the recorded link")

	// The template changed since launch (or the link is personalised): the
	// token carries the URL, so the redirect goes where the message said.
	edited := verify(tr.ClickURL(0, "https://shop.example/new-pricing"))
	require.Equal(t, "https://shop.example/new-pricing", edited.URL)
	unknown := verify(tr.ClickURL(3, "https://shop.example/extra"))
	require.Equal(t, "https://shop.example/extra", unknown.URL)
	require.Equal(t, 3, unknown.LinkIdx)
}
