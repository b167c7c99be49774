package contacts

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"sara@example.com":              "sara@example.com",
		"  Sara.K@Example.COM ":         "Sara.K@example.com",
		"a+tag@sub.domain.co":           "a+tag@sub.domain.co",
		"o'brien@shop.ie":               "o'brien@shop.ie",
		"user@xn--mgbh0fb.xn--kgbechtv": "user@xn--mgbh0fb.xn--kgbechtv",
	}
	for in, want := range good {
		got, err := NormalizeEmail(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	bad := []string{
		"", "plain", "@example.com", "a@", "a@b", "Sara <sara@example.com>", "sara@example.com (Sara)",
		`"a b"@example.com`, "a..b@example.com", ".a@example.com", "a.@example.com", "a@[127.0.0.1]",
		"a@127.0.0.1", "a@localhost", "a@example.invalid", "a@host.local", "a@-bad.com", "a@bad-.com",
		"a@exa mple.com", "a b@example.com", "a@example..com", "a@@example.com", "a@example.com\x00",
		string(make([]byte, 300)) + "@example.com", "\xff@example.com",
	}
	for _, in := range bad {
		_, err := NormalizeEmail(in)
		require.Error(t, err, in)
		require.True(t, errs.Is(err, errs.Invalid), in)
	}
}
