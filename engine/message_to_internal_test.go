package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"
)

// toCases are names and addresses around every edge of plainMailbox: the
// characters a quoted string escapes or refuses, RFC 2047 words that the
// parser decodes, invalid UTF-8, blanks the parser skips, dots it refuses,
// domain literals and quoted local parts it rewrites, and plain ones.
var toCases = [][2]string{
	{"User 1", "user1@example.com"},
	{"", "user1@example.com"},
	{"سارا", "sara@example.com"},
	{"رضا «تست» <b>", "reza@example.com"},
	{"Sara <Admin> & Co \"quoted\"", "sara@example.com"},
	{`back\slash`, "a@example.com"},
	{"=?utf-8?q?Sara?=", "a@example.com"},
	{"tab\there", "a@example.com"},
	{"  spaced  ", "a@example.com"},
	{"line\r\nbreak", "a@example.com"},
	{"nul\x00", "a@example.com"},
	{"bad \xff utf8", "a@example.com"},
	{"del\x7f", "a@example.com"},
	{"\ufffd", "a@example.com"},
	{"x", "a @example.com"},
	{"x", "a@ example.com"},
	{"x", ".a@example.com"},
	{"x", "a.@example.com"},
	{"x", "a..b@example.com"},
	{"x", "a@example..com"},
	{"x", "a@[127.0.0.1]"},
	{"x", `"quoted local"@example.com`},
	{"x", "a@b@example.com"},
	{"x", "no-at-sign"},
	{"x", "@example.com"},
	{"x", "a@"},
	{"x", "ünïcode@exämple.com"},
	{"x", "o'brien+tag@example.com"},
	{"x", "a(comment)@example.com"},
	{"x", "a@example.com>"},
	{"x", "a@example.com\xff"},
	{"x", ""},
}

// TestAddToMatchesAddToFormat holds addTo to go-mail's AddToFormat: the
// same recipient, the same To header, and an error exactly when
// AddToFormat gives one.
func TestAddToMatchesAddToFormat(t *testing.T) {
	t.Parallel()
	fast := 0
	for _, c := range toCases {
		if plainMailbox(c[0], c[1]) {
			fast++
		}
		requireSameTo(t, c[0], c[1])
	}
	require.GreaterOrEqual(t, fast, 6, "the plain cases take the fast path")
}

// FuzzAddTo is TestAddToMatchesAddToFormat over arbitrary names and
// addresses.
func FuzzAddTo(f *testing.F) {
	for _, c := range toCases {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, name, email string) {
		requireSameTo(t, name, email)
	})
}

func requireSameTo(t *testing.T, name, email string) {
	t.Helper()
	want, got := mail.NewMsg(), mail.NewMsg()
	wantErr := want.AddToFormat(name, email)
	gotErr := addTo(got, name, email)
	if wantErr != nil {
		require.Error(t, gotErr, "%q <%q>", name, email)
		require.False(t, plainMailbox(name, email), "%q <%q>: AddToFormat refuses it", name, email)
		return
	}
	require.NoError(t, gotErr, "%q <%q>", name, email)
	require.Equal(t, *want.GetTo()[0], *got.GetTo()[0], "%q <%q>", name, email)
	require.Equal(t, want.GetToString(), got.GetToString())
	wantRcpts, err := want.GetRecipients()
	require.NoError(t, err)
	gotRcpts, err := got.GetRecipients()
	require.NoError(t, err)
	require.Equal(t, wantRcpts, gotRcpts)
}
