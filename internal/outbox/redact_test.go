package outbox_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/tracking"
)

// trackedMessage builds a message the way the send worker does, with real
// signed tokens, in the given transfer encoding, and returns it with its
// tokens.
func trackedMessage(t testing.TB, enc mail.Encoding) ([]byte, []string) {
	t.Helper()
	s := tracking.NewSigner(tracking.Keys{Current: []byte("a test key that is long enough to sign tokens")})
	// A long base URL makes quoted-printable wrap the links mid-token.
	base := "https://tracking.a-rather-long-subdomain-of-the-shop.example/some/prefix"
	click, open, unsub := s.ClickURL(base, 7, 0, ""), s.OpenURL(base, 7), s.UnsubscribeURL(base, 7)
	bounce := s.BounceAddress(7, "bounces.shop.example")
	m := mail.NewMsg(mail.WithEncoding(enc))
	require.NoError(t, m.From("news@shop.example"))
	require.NoError(t, m.To("sara@example.com"))
	require.NoError(t, m.EnvelopeFrom(bounce))
	m.Subject("Hello Sara — سلام")
	m.SetListUnsubscribe(unsub)
	m.SetListUnsubscribePost()
	m.SetGenHeader("Return-Path", "<"+bounce+">")
	m.SetBodyString(mail.TypeTextPlain, "Hi Sara, see "+click+"\nUnsubscribe: "+unsub+"\nUntracked: https://shop.example/pricing\n")
	m.AddAlternativeString(mail.TypeTextHTML, `<p>Hi Sara</p><a href="`+click+`">Pricing</a> <a href="https://shop.example/about">About</a><img src="`+open+`" alt=""><a href="`+unsub+`">Unsubscribe</a>`)
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	var tokens []string
	for _, u := range []string{click, open, unsub} {
		tok := u[strings.LastIndex(u, "/")+1:]
		tokens = append(tokens, strings.TrimSuffix(tok, ".gif"))
	}
	local := strings.TrimPrefix(bounce[:strings.Index(bounce, "@")], "bounce+")
	return buf.Bytes(), append(tokens, local)
}

func TestRedactRawRemovesEveryToken(t *testing.T) {
	t.Parallel()
	for _, enc := range []mail.Encoding{mail.EncodingQP, mail.EncodingB64, mail.NoEncoding} {
		t.Run(string(enc), func(t *testing.T) {
			t.Parallel()
			raw, tokens := trackedMessage(t, enc)
			before, err := outbox.Parse(raw)
			require.NoError(t, err)
			for _, tok := range tokens[:3] {
				require.Contains(t, before.HTML, tok, "the message carries its tokens")
			}

			out, err := outbox.RedactRaw(raw)
			require.NoError(t, err)
			after, err := outbox.Parse(out)
			require.NoError(t, err)
			for _, tok := range tokens {
				require.NotContains(t, string(out), tok)
				require.NotContains(t, after.HTML+after.Text, tok)
				for _, vs := range after.Headers {
					require.NotContains(t, strings.Join(vs, " "), tok)
				}
			}
			base := "https://tracking.a-rather-long-subdomain-of-the-shop.example/some/prefix"
			require.Contains(t, after.HTML, `<a href="`+base+`/t/c/[redacted]">Pricing</a>`)
			require.Contains(t, after.HTML, `<img src="`+base+`/t/o/[redacted]" alt="">`)
			require.Contains(t, after.HTML, `<a href="https://shop.example/about">About</a>`, "untracked links are kept")
			require.Contains(t, after.Text, "Unsubscribe: "+base+"/t/u/[redacted]")
			require.Contains(t, after.Text, "Untracked: https://shop.example/pricing")
			require.Equal(t, []string{"<" + base + "/t/u/[redacted]>"}, after.Headers["List-Unsubscribe"])
			require.Equal(t, []string{"<bounce+[redacted]@bounces.shop.example>"}, after.Headers["Return-Path"])
			require.Equal(t, outbox.RedactText(before.HTML), after.HTML, "only the tokens change")
			require.Equal(t, outbox.RedactText(before.Text), after.Text, "only the tokens change")
			require.Equal(t, before.Subject, after.Subject)
			require.Equal(t, before.Headers["Message-Id"], after.Headers["Message-Id"])

			again, err := outbox.RedactRaw(out)
			require.NoError(t, err)
			require.Equal(t, string(out), string(again), "nothing is left to redact")
		})
	}
}

func TestRedactRawLeavesUntrackedMessagesAlone(t *testing.T) {
	t.Parallel()
	m := mail.NewMsg()
	require.NoError(t, m.From("peykar@localhost"))
	require.NoError(t, m.To("me@example.com"))
	m.Subject("[test] Hello")
	m.SetBodyString(mail.TypeTextPlain, "Hi https://shop.example/t/pricing")
	m.AddAlternativeString(mail.TypeTextHTML, `<a href="https://shop.example/t/pricing">Pricing</a>`)
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	out, err := outbox.RedactRaw(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, buf.String(), string(out), "byte for byte")
}

func TestRedactRawRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	for name, raw := range map[string]string{
		"no boundary":   "Content-Type: multipart/alternative\r\n\r\nhttps://x/t/u/AAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"bad base64":    "Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
		"bad type":      "Content-Type: text/\r\n\r\nhttps://x/t/u/AAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		"boundary lost": "Content-Type: multipart/mixed; boundary=b\r\n\r\nhttps://x/t/u/AAAAAAAAAAAAAAAAAAAAAAAA\r\n",
	} {
		_, err := outbox.RedactRaw([]byte(raw))
		require.Error(t, err, name)
	}
}

func TestMessageRedacted(t *testing.T) {
	t.Parallel()
	m := outbox.Message{
		From:    "bounce+abcdefghijklmnopqrstuvwxyz234567@bounces.shop.example",
		To:      []string{"sara@example.com"},
		Subject: "Hi",
		Headers: map[string][]string{"List-Unsubscribe": {"<https://t.example/t/u/QUJDREVGR0hJSktMTU5PUFFSU1RVVldY>"}},
		HTML:    `<a href="https://t.example/t/c/QUJDREVGR0hJSktMTU5PUFFSU1RVVldY">x</a><img src="https://t.example/t/o/QUJDREVGR0hJSktMTU5PUFFSU1RVVldY.gif">`,
		Text:    "https://t.example/t/u/QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",
	}
	r := m.Redacted()
	require.Equal(t, "bounce+[redacted]@bounces.shop.example", r.From)
	require.Equal(t, []string{"<https://t.example/t/u/[redacted]>"}, r.Headers["List-Unsubscribe"])
	require.Equal(t, `<a href="https://t.example/t/c/[redacted]">x</a><img src="https://t.example/t/o/[redacted]">`, r.HTML)
	require.Equal(t, "https://t.example/t/u/[redacted]", r.Text)
	require.Contains(t, m.Headers["List-Unsubscribe"][0], "QUJD", "the original is not changed")
}

// FuzzRedactRaw feeds RedactRaw arbitrary messages: it must not panic, and
// what it returns must have nothing left to redact.
func FuzzRedactRaw(f *testing.F) {
	for _, enc := range []mail.Encoding{mail.EncodingQP, mail.EncodingB64} {
		raw, _ := trackedMessage(f, enc)
		f.Add(raw)
	}
	f.Add([]byte("Subject: x\n\nhttps://x/t/u/AAAAAAAAAAAAAAAAAAAAAAAA\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nList-Unsubscribe: <https://x/t/u/AAAAAAAAAAAAAAAAAAAAAAAA>\r\n\r\nbody\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := outbox.RedactRaw(raw)
		if err != nil {
			return
		}
		again, err := outbox.RedactRaw(out)
		require.NoError(t, err)
		require.Equal(t, string(out), string(again))
	})
}
