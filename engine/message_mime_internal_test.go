package engine

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/templates"
)

// goMailAndBuilt writes one message both ways — messageFor then go-mail's
// WriteTo, and builtMessage — and returns each with its envelope. ok is
// false when builtMessage declines the message (go-mail's form is then
// the only one).
func goMailAndBuilt(t testing.TB, w *SendWorker, c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact, r *templates.Rendered, bulk bool) (want, got []byte, wantEnv, gotEnv []string, goErr error, ok bool) {
	t.Helper()
	b, release, ok := w.builtMessage(c, d, p, r, bulk)
	if ok {
		got = bytes.Clone(b.MIME)
		from, err := b.GetSender(false)
		require.NoError(t, err)
		rcpts, err := b.GetRecipients()
		require.NoError(t, err)
		gotEnv = append([]string{from}, rcpts...)
		release()
	}
	msg, err := w.messageFor(c, d, p, r, bulk)
	if err != nil {
		return nil, got, nil, gotEnv, err, ok
	}
	var buf bytes.Buffer
	_, err = msg.WriteTo(&buf)
	require.NoError(t, err)
	from, err := msg.GetSender(false)
	require.NoError(t, err)
	rcpts, err := msg.GetRecipients()
	require.NoError(t, err)
	return buf.Bytes(), got, append([]string{from}, rcpts...), gotEnv, nil, ok
}

// hexBoundaryRE is the form of the boundary both writers draw: 30 random
// bytes in hex.
var hexBoundaryRE = regexp.MustCompile(`boundary=[0-9a-f]{60}\r\n`)

// TestBuiltMatchesGoMail holds the campaign sender's own MIME writer to
// go-mail's, byte for byte once the random boundary (and the map order of
// go-mail's List-Unsubscribe pair) is set aside: every golden case, in bulk
// and transactional form, with and without a VERP bounce domain, with a
// Reply-To, and with the envelope (MAIL FROM, RCPT TO) the mailer takes
// from each. Cases builtMessage declines (names or addresses net/mail would
// rewrite) must be ones go-mail writes.
func TestBuiltMatchesGoMail(t *testing.T) {
	t.Parallel()
	w := goldenWorker()
	built := 0
	for _, mc := range messageCases(t) {
		compiled, err := templates.Compile(mc.tmpl)
		require.NoError(t, err)
		tr := &deliveryTracker{signer: w.Signer, base: mc.base, id: mc.d.ID, links: mc.links}
		r, err := compiled.RenderContext(context.Background(), templates.Data{Contact: mc.p.Profile(),
			Campaign: templates.Campaign{ID: mc.c.ID, Name: mc.c.Name}}, tr)
		require.NoError(t, err)
		for _, bounce := range []string{"", "bounce.shop.example"} {
			for _, bulk := range []bool{true, false} {
				for _, replyTo := range []string{mc.c.ReplyTo, "Help Desk <help@shop.example>"} {
					c := mc.c
					c.ReplyTo = replyTo
					w.BaseURL, w.BounceDomain = mc.base, bounce
					want, got, wantEnv, gotEnv, goErr, ok := goMailAndBuilt(t, w, &c, mc.d, mc.p, r, bulk)
					require.NoError(t, goErr, mc.name)
					if !ok {
						continue
					}
					built++
					require.Regexp(t, hexBoundaryRE, string(got), mc.name)
					require.Equal(t, string(normalise(want)), string(normalise(got)), "%s bulk=%v bounce=%q reply-to=%q", mc.name, bulk, bounce, replyTo)
					require.Equal(t, wantEnv, gotEnv, mc.name)
				}
			}
		}
	}
	require.Greater(t, built, 50, "most golden cases take the built path")
}

// TestBuiltDeclinesWhatItCannotWriteExactly: a recipient name net/mail
// would rewrite (a quote, a backslash), a quoted local part, or a From
// go-mail refuses is left to go-mail, which gives its header or its error.
func TestBuiltDeclinesWhatItCannotWriteExactly(t *testing.T) {
	t.Parallel()
	w := goldenWorker()
	w.BaseURL = "https://peykar.example"
	c := campaigns.Campaign{ID: 12, Name: "Spring", From: campaigns.Address{Name: "Shop", Email: "news@shop.example"}}
	d := deliveries.Delivery{ID: 1001, CampaignID: 12, Step: "main", ContactID: 1}
	r := &templates.Rendered{Subject: "Hi", Text: "hello", HTML: "<p>hello</p>"}
	for _, p := range []contacts.Contact{
		{ID: 1, Email: "user1@example.com", Name: `Sara "the boss"`},
		{ID: 1, Email: "user1@example.com", Name: `back\slash`},
		{ID: 1, Email: `"quoted local"@example.com`, Name: "Sara"},
	} {
		_, _, ok := w.builtMessage(&c, d, p, r, true)
		require.False(t, ok, p.Name+" "+p.Email)
	}
	bad := c
	bad.From.Email = "not an address"
	_, _, ok := w.builtMessage(&bad, d, contacts.Contact{ID: 1, Email: "user1@example.com", Name: "U"}, r, true)
	require.False(t, ok)
	_, err := w.messageFor(&bad, d, contacts.Contact{ID: 1, Email: "user1@example.com", Name: "U"}, r, true)
	require.Error(t, err, "go-mail gives the error")
}

// TestBuiltFoldsLikeGoMail: header values around the folding width, with
// runs of spaces, leading and trailing spaces and words longer than a line,
// in the subject (plain and RFC 2047-encoded), the sender's and the
// recipient's names.
func TestBuiltFoldsLikeGoMail(t *testing.T) {
	t.Parallel()
	w := goldenWorker()
	w.BaseURL = "http://peykar.local"
	d := deliveries.Delivery{ID: 7, CampaignID: 3, Step: "main", ContactID: 1}
	long := strings.Repeat("x", 90)
	subjects := []string{"", " ", "  ", "a  b", " lead", "trail ", long, "short " + long + " end",
		"سلام " + strings.Repeat("دنیا ", 20), "tab\there", "new\r\nline", "ünïcödé " + long}
	for n := 40; n < 80; n++ {
		subjects = append(subjects, strings.Repeat("w", n), "Subject "+strings.Repeat("ab ", n/3)+strings.Repeat("z", n%7))
	}
	names := []string{"", "User", " spaced  name ", strings.Repeat("Name ", 16), "نام " + strings.Repeat("بلند ", 12), long}
	for _, subj := range subjects {
		for _, name := range names {
			c := campaigns.Campaign{ID: 3, From: campaigns.Address{Name: name, Email: "news@shop.example"}}
			p := contacts.Contact{ID: 1, Email: "u@example.com", Name: name}
			r := &templates.Rendered{Subject: subj, Text: "text " + subj, HTML: "<p>" + subj + "</p>"}
			want, got, wantEnv, gotEnv, goErr, ok := goMailAndBuilt(t, w, &c, d, p, r, true)
			require.NoError(t, goErr)
			require.True(t, ok, "%q %q", subj, name)
			require.Equal(t, string(normalise(want)), string(normalise(got)), "subject %q name %q", subj, name)
			require.Equal(t, wantEnv, gotEnv)
		}
	}
}

// FuzzBuiltMatchesGoMail: for any subject, names, addresses and parts,
// builtMessage either declines or writes go-mail's bytes and envelope; and
// when go-mail refuses the message, builtMessage declines it.
func FuzzBuiltMatchesGoMail(f *testing.F) {
	f.Add("Hello User 1", "User 1", "user1@example.com", "Shop", "news@shop.example", "", "text", "<p>html</p>", true, false)
	f.Add("سلام "+strings.Repeat("دنیا ", 20), "سارا", "sara@example.com", "فروشگاه", "news@shop.example", "Help <help@shop.example>", "a\n.b\r\nc", "=3D\t \n", false, true)
	f.Add(strings.Repeat("x ", 50), "", "a.b@c.d", "", "n@s.e", "bad reply", strings.Repeat("long line ", 30), "", true, true)
	f.Fuzz(func(t *testing.T, subject, name, email, fromName, fromEmail, replyTo, text, html string, bulk, bounce bool) {
		if !strings.Contains(fromEmail, "@") {
			return // campaigns validate the sender's address on save
		}
		w := goldenWorker()
		w.BaseURL = "https://peykar.example"
		if bounce {
			w.BounceDomain = "bounce.shop.example"
		}
		c := campaigns.Campaign{ID: 12, From: campaigns.Address{Name: fromName, Email: fromEmail}, ReplyTo: replyTo}
		d := deliveries.Delivery{ID: 1001, CampaignID: 12, Step: "main", ContactID: 1}
		p := contacts.Contact{ID: 1, Email: email, Name: name}
		r := &templates.Rendered{Subject: subject, Text: text, HTML: html}
		want, got, wantEnv, gotEnv, goErr, ok := goMailAndBuilt(t, w, &c, d, p, r, bulk)
		if goErr != nil {
			require.False(t, ok, "go-mail refused it (%v): built must not send it", goErr)
			return
		}
		if !ok {
			return
		}
		require.Equal(t, string(normalise(want)), string(normalise(got)))
		require.Equal(t, wantEnv, gotEnv)
	})
}

// BenchmarkBuiltMessage is BenchmarkMessage with the campaign sender's own
// MIME writer: render the benchmark's template with real token signing
// and write the message's MIME form.
func BenchmarkBuiltMessage(b *testing.B) {
	w := goldenWorker()
	mc := messageCases(b)[0]
	compiled, err := templates.Compile(mc.tmpl)
	require.NoError(b, err)
	w.BaseURL = mc.base
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		r := renderBench(b, w, mc, compiled)
		msg, release, ok := w.builtMessage(&mc.c, mc.d, mc.p, r, true)
		if !ok {
			b.Fatal("declined")
		}
		buf.Reset()
		if _, err := msg.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
		release()
	}
}
