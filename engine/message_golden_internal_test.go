package engine

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

var updateMessages = flag.Bool("update", false, "rewrite the golden messages under testdata/messages/")

// messageCase is one whole message: a template rendered for a contact with
// real tracking, built into its MIME form by the send path (render then
// messageFor then Msg.WriteTo).
type messageCase struct {
	name   string
	tmpl   templates.Template
	c      campaigns.Campaign
	d      deliveries.Delivery
	p      contacts.Contact
	links  map[int]string
	base   string
	bounce string
	bulk   bool
}

// messageCases are the benchmark's template, testdata's welcome and Persian
// templates, every gallery template in both languages, and adversarial
// contact fields (quotes, markup, entities, a javascript: URL, RTL text,
// long names that fold), in bulk and transactional form.
func messageCases(t testing.TB) []messageCase {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "templates", "testdata", name))
		require.NoError(t, err)
		return string(b)
	}
	shop := campaigns.Campaign{ID: 12, Name: "Spring", From: campaigns.Address{Name: "Shop", Email: "news@shop.example"}}
	created := time.Date(2025, 3, 21, 9, 30, 0, 0, time.UTC)
	sara := contacts.Contact{ID: 42, Email: "sara@example.com", Name: "Sara <Admin> & Co \"quoted\"",
		Attributes: map[string]any{"city": "Tehran", "balance": 1234567.891, "site": "javascript:alert(1)"}, Tags: []string{"vip"}, CreatedAt: created}
	cases := []messageCase{
		{name: "bench", tmpl: templates.Template{Name: "bench", Subject: "Hello {{ .Contact.Name }}", HTML: `<html><body><h1>Spring sale</h1><p>Dear {{ .Contact.Name }}, the spring collection is here.</p>
		<p><a href="https://shop.example/new">New arrivals</a> · <a href="https://shop.example/pricing">Pricing</a></p>
		<p>{{ .Contact.Attributes.city | default "your city" }} store opens at 9.</p>
		<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`},
			c: shop, d: deliveries.Delivery{ID: 1001, CampaignID: 12, Step: "main", ContactID: 1},
			p:     contacts.Contact{ID: 1, Email: "user1@example.com", Name: "User 1", Attributes: map[string]any{"city": "Tehran"}},
			links: map[int]string{0: "https://shop.example/new", 1: "https://shop.example/pricing"}, base: "https://peykar.example", bulk: true},
		{name: "welcome-adversarial", tmpl: templates.Template{Name: "welcome", Subject: "Welcome to {{ .Campaign.Name }}, {{ .Contact.Name | default \"friend\" }}", HTML: read("welcome.html")},
			c: campaigns.Campaign{ID: 12, Name: "Spring <b>&</b>", From: campaigns.Address{Name: "Shop \"Best\" & Co", Email: "news@shop.example"}, ReplyTo: "help@shop.example"},
			d: deliveries.Delivery{ID: 77, CampaignID: 12, Step: "main", ContactID: 42}, p: sara,
			links: map[int]string{0: "https://shop.example/"}, base: "https://peykar.example", bounce: "bounce.shop.example", bulk: true},
		{name: "persian-http", tmpl: templates.Template{Name: "persian", Subject: "{{ .Contact.Name }} عزیز، حراج بهار شروع شد و این موضوع آن‌قدر بلند است که باید شکسته شود", HTML: read("persian.html")},
			c:    campaigns.Campaign{ID: 3, Name: "کمپین بهار", From: campaigns.Address{Name: "فروشگاه", Email: "news@shop.example"}},
			d:    deliveries.Delivery{ID: 9, CampaignID: 3, Step: "main", ContactID: 7},
			p:    contacts.Contact{ID: 7, Email: "sara@example.com", Name: "سارا", Attributes: map[string]any{"city": "اصفهان"}},
			base: "http://peykar.local:8080", bulk: true},
		{name: "transactional", tmpl: templates.Template{Name: "receipt", Subject: "Your receipt, {{ .Contact.Name }}", HTML: `<p>Hi {{ .Contact.Name }} & {{ attr "site" "none" }}</p><p><a href="https://shop.example/orders?id=1&x=<y>">Order</a></p>`},
			c: shop, d: deliveries.Delivery{ID: 5, CampaignID: 12, Step: "main", ContactID: 42}, p: sara,
			base: "https://peykar.example", bounce: "b.shop.example", bulk: false},
	}
	for _, it := range templates.Gallery() {
		tmpl, err := templates.FromGallery(it.Key, it.Lang, "https://peykar.example/admin/assets/email")
		require.NoError(t, err)
		p := sara
		if it.Lang == "fa" {
			p = contacts.Contact{ID: 8, Email: "reza@example.com", Name: "رضا «تست» <b>", Attributes: map[string]any{"city": "شیراز"}}
		}
		cases = append(cases, messageCase{name: "gallery-" + it.Key + "." + it.Lang, tmpl: tmpl, c: shop,
			d: deliveries.Delivery{ID: 500, CampaignID: 12, Step: "main", ContactID: p.ID}, p: p,
			base: "https://peykar.example", bulk: !it.Transactional})
	}
	return cases
}

// buildMessage renders mc and writes its MIME form as the sender does.
func buildMessage(t testing.TB, w *SendWorker, mc messageCase) []byte {
	t.Helper()
	compiled, err := templates.Compile(mc.tmpl)
	require.NoError(t, err)
	tr := &deliveryTracker{signer: w.Signer, base: mc.base, id: mc.d.ID, links: mc.links}
	r, err := compiled.RenderContext(context.Background(), templates.Data{Contact: mc.p.Profile(),
		Campaign: templates.Campaign{ID: mc.c.ID, Name: mc.c.Name}}, tr)
	require.NoError(t, err)
	w.BaseURL, w.BounceDomain = mc.base, mc.bounce
	msg, err := w.messageFor(&mc.c, mc.d, mc.p, r, mc.bulk)
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = msg.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

// boundaryRE finds the multipart boundary, which go-mail draws at random
// per message: the golden files hold BOUNDARY in its place.
var boundaryRE = regexp.MustCompile(`boundary=([0-9A-Za-z'()+_,./:=?-]+)`)

// preformedRE finds the two List-Unsubscribe headers, which go-mail keeps
// as preformatted headers in a map and so writes in either order.
var preformedRE = regexp.MustCompile(`(List-Unsubscribe-Post: [^\r]*\r\n)(List-Unsubscribe: [^\r]*\r\n)`)

// normalise replaces what go-mail leaves to chance: the boundary, and the
// order of the preformatted headers.
func normalise(b []byte) []byte {
	b = preformedRE.ReplaceAll(b, []byte("$2$1"))
	m := boundaryRE.FindSubmatch(b)
	if m == nil {
		return b
	}
	return bytes.ReplaceAll(b, m[1], []byte("BOUNDARY"))
}

func goldenWorker() *SendWorker {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return &SendWorker{
		Signer: tracking.NewSigner(tracking.Keys{Current: []byte("message-golden-secret-message-golden-secret")}),
		Base:   baseservice.New(nil, func() time.Time { return at }),
	}
}

// TestMessageGolden holds the whole message the send path builds — every
// header (From, To, Subject encoding and folding, Message-ID, Date,
// List-Unsubscribe and its one-click header, Precedence, Reply-To, the
// VERP envelope's absence from the headers), the multipart/alternative
// structure and the quoted-printable text and HTML bodies with their signed
// tracking links — byte for byte to testdata/messages/NAME.eml (the random
// multipart boundary and the order of go-mail's preformatted headers
// aside). Run with -update to rewrite.
func TestMessageGolden(t *testing.T) {
	t.Parallel()
	w := goldenWorker()
	for _, mc := range messageCases(t) {
		got := normalise(buildMessage(t, w, mc))
		path := filepath.Join("testdata", "messages", mc.name+".eml")
		if *updateMessages {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -run TestMessageGolden -update to create it")
		require.Equal(t, string(want), string(got), mc.name)
	}
}

// BenchmarkMessage is the app's CPU per message outside I/O: render the
// benchmark's template with real token signing, build the go-mail message
// and write its MIME form.
func BenchmarkMessage(b *testing.B) {
	w := goldenWorker()
	mc := messageCases(b)[0]
	compiled, err := templates.Compile(mc.tmpl)
	require.NoError(b, err)
	w.BaseURL = mc.base
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		r := renderBench(b, w, mc, compiled)
		msg, err := w.messageFor(&mc.c, mc.d, mc.p, r, true)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := msg.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// renderBench renders the benchmarks' message case mc with real token
// signing, as the send worker does before building the message.
func renderBench(b *testing.B, w *SendWorker, mc messageCase, compiled *templates.Compiled) *templates.Rendered {
	tr := &deliveryTracker{signer: w.Signer, base: mc.base, id: mc.d.ID, links: mc.links}
	r, err := compiled.RenderContext(context.Background(), templates.Data{Contact: mc.p.Profile(),
		Campaign: templates.Campaign{ID: mc.c.ID, Name: mc.c.Name}}, tr)
	if err != nil {
		b.Fatal(err)
	}
	return r
}
