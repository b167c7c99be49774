package templates

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinkRewritingEdgeCases(t *testing.T) {
	t.Parallel()
	src := `<p>
<a href="mailto:shop@example.com">Mail us</a>
<a href="tel:+982112345678">Call</a>
<a href="#top">Top</a>
<a href="https://shop.example/skip" data-peykar-notrack>Not tracked</a>
<a href="https://shop.example/sale">Sale</a>
<a href="https://shop.example/sale">Sale again</a>
<a title="Our logo" href='https://shop.example/'><img src="https://shop.example/logo.png" alt="Logo"></a>
<a href=https://shop.example/unquoted data-peykar-name="Footer link">x</a>
<A HREF="HTTPS://SHOP.EXAMPLE/UPPER">Upper</A>
<a href="https://shop.example/q?a=1&amp;b=2">Amp</a>
<a href="https://shop.example/u/{{ .Contact.ID }}?n={{ .Contact.Name }}">Your page</a>
<a href="{{ attr "link" "https://shop.example/default" }}">Attr link</a>
<a href="mailto:{{ .Contact.Email }}">Me</a>
<a href="{{ unsubscribe_url }}">Unsubscribe</a>
<a href="javascript:alert(1)">JS</a>
<a name="anchor">No href</a>
<a href="https://shop.example/img"><img alt="Only image"></a>
</p>`
	c := mustCompile(t, Template{HTML: src})
	require.Equal(t, []Link{
		{Idx: 0, URL: "https://shop.example/sale", Name: "Sale"},
		{Idx: 1, URL: "https://shop.example/sale", Name: "Sale again"},
		{Idx: 2, URL: "https://shop.example/", Name: "Our logo"},
		{Idx: 3, URL: "https://shop.example/unquoted", Name: "Footer link"},
		{Idx: 4, URL: "HTTPS://SHOP.EXAMPLE/UPPER", Name: "Upper"},
		{Idx: 5, URL: "https://shop.example/q?a=1&b=2", Name: "Amp"},
		{Idx: 6, URL: "https://shop.example/u/{{ .Contact.ID }}?n={{ .Contact.Name }}", Name: "Your page", Personalised: true},
		{Idx: 7, URL: `{{ attr "link" "https://shop.example/default" }}`, Name: "Attr link", Personalised: true},
		{Idx: 8, URL: "https://shop.example/img", Name: "Only image"},
	}, c.Links())

	d := Data{Contact: Contact{ID: 42, Email: "sara@example.com", Name: "Sara K", Attributes: map[string]any{"link": "https://other.example/x?y=1"}}}
	r := render(t, c, d, fakeTracker{})
	for _, want := range []string{
		`<a href="mailto:shop@example.com">Mail us</a>`,
		`<a href="tel:+982112345678">Call</a>`,
		`<a href="#top">Top</a>`,
		`<a href="https://shop.example/skip" data-peykar-notrack>Not tracked</a>`,
		`<a href="https://t.example/c/0?to=https://shop.example/sale">Sale</a>`,
		`<a href="https://t.example/c/1?to=https://shop.example/sale">Sale again</a>`,
		`<a title="Our logo" href="https://t.example/c/2?to=https://shop.example/">`,
		`<a href="https://t.example/c/3?to=https://shop.example/unquoted" data-peykar-name="Footer link">x</a>`,
		`<A href="https://t.example/c/4?to=HTTPS://SHOP.EXAMPLE/UPPER">Upper</A>`,
		`<a href="https://t.example/c/5?to=https://shop.example/q?a=1&amp;b=2">Amp</a>`,
		`<a href="https://t.example/c/6?to=https://shop.example/u/42?n=Sara%20K">Your page</a>`,
		`<a href="https://t.example/c/7?to=https://other.example/x?y=1">Attr link</a>`,
		`<a href="mailto:sara@example.com">Me</a>`,
		`<a href="https://t.example/u/tok">Unsubscribe</a>`,
		`<a href="javascript:alert(1)">JS</a>`, // authored markup is the author's; only actions are sanitised
		`<a name="anchor">No href</a>`,
	} {
		require.Contains(t, r.HTML, want)
	}
	require.Equal(t, 1, strings.Count(r.HTML, "https://t.example/h/tok"), "one honeypot")

	// Without a tracker the links are as written (personalised ones rendered).
	r = render(t, c, d, nil)
	require.Contains(t, r.HTML, `<a href="https://shop.example/sale">Sale</a>`)
	require.Contains(t, r.HTML, `<a href="https://shop.example/u/42?n=Sara%20K">Your page</a>`)
	require.Contains(t, r.HTML, `<a href="https://other.example/x?y=1">Attr link</a>`)
	require.NotContains(t, r.HTML, "t.example")

	// A personalised href that renders to something that is not http(s)
	// is not tracked, and stays sanitised.
	d.Contact.Attributes["link"] = "javascript:alert(1)"
	r = render(t, c, d, fakeTracker{})
	require.Contains(t, r.HTML, `<a href="#ZgotmplZ">Attr link</a>`)
	d.Contact.Attributes["link"] = ""
	r = render(t, c, d, fakeTracker{})
	require.Contains(t, r.HTML, `<a href="https://t.example/c/7?to=https://shop.example/default">Attr link</a>`)
}

func TestLinkRewritingIgnoresActionsThatLookLikeHTML(t *testing.T) {
	t.Parallel()
	// Quotes and angle brackets inside actions must not confuse the
	// tokenizer that finds the links.
	src := `<p>{{ if gt (len .Contact.Name) 0 }}<b>{{ "<a href='https://fake.example'>" | lower }}</b>{{ end }}` +
		`<a href="https://shop.example/?q={{ "\">" }}" class="{{ "x\"y" }}">Go</a></p>`
	c := mustCompile(t, Template{HTML: src})
	require.Equal(t, []Link{{Idx: 0, URL: `https://shop.example/?q={{ "\">" }}`, Name: "Go", Personalised: true}}, c.Links())
	r := render(t, c, Data{Contact: Contact{Name: "x"}}, fakeTracker{})
	require.Contains(t, r.HTML, `&lt;a href=&#39;https://fake.example&#39;&gt;`)
	require.Contains(t, r.HTML, `<a href="https://t.example/c/0?to=https://shop.example/?q=%22%3e" class="x&#34;y">Go</a>`)
}

func TestLinkEdgeQuotesAndBodyInActions(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: `<body><a href='https://x.example/?q="{{ .Contact.Name }}"'>Q</a>{{ "</body>" }}</body>`})
	r := render(t, c, Data{Contact: Contact{Name: "a b"}}, fakeTracker{})
	require.Contains(t, r.HTML, `<a href="https://t.example/c/0?to=https://x.example/?q=%22a%20b%22">Q</a>&lt;/body&gt;<a href="https://t.example/h/tok"`)
	require.True(t, strings.HasSuffix(r.HTML, `style="display:none"></body>`), r.HTML)
}

func TestWriteURLAttrMatchesHTMLTemplate(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://x.example/a b?q=1&r=2#f", "https://shop.example/fa/حراج", `https://x.example/"q"<'()>`,
		"https://x.example/%41%zz%", "HTTPS://X.EXAMPLE/~a-b_c.d!$*+,;=:@[]",
	} {
		var want strings.Builder
		require.NoError(t, htmltemplate.Must(htmltemplate.New("").Parse(`<a href="{{ . }}">`)).Execute(&want, u))
		var got strings.Builder
		got.WriteString(`<a href="`)
		writeURLAttr(&got, u)
		got.WriteString(`">`)
		require.Equal(t, want.String(), got.String())
	}
}

func TestScanAttrs(t *testing.T) {
	t.Parallel()
	raw := `<a  class=x  href = "h1" data-peykar-notrack title='t t'/>`
	attrs := scanAttrs(raw)
	require.Len(t, attrs, 4)
	var names []string
	for _, a := range attrs {
		names = append(names, a.name+"="+raw[a.val.start:a.val.end])
	}
	require.Equal(t, []string{"class=x", "href=h1", "data-peykar-notrack=", "title=t t"}, names)
}

// recordingTracker records ClickURL calls.
type recordingTracker struct {
	fakeTracker
	calls []string
}

func (r *recordingTracker) ClickURL(idx int, target string) string {
	r.calls = append(r.calls, fmt.Sprintf("%d %s", idx, target))
	return r.fakeTracker.ClickURL(idx, target)
}

func TestTrackerSeesEachLinkOncePerPlace(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: `<a href="https://x.example/a?b=1&amp;c=2">A</a> <a href="https://x.example/u/{{ .Contact.ID }}">U</a>` +
		`{{ range .Contact.Tags }}<a href="https://x.example/t/{{ . }}">T</a>{{ end }}`})
	links := c.Links()
	tr := &recordingTracker{}
	r := render(t, c, Data{Contact: Contact{ID: 5, Tags: []string{"x", "y"}}}, tr)
	// Static links get exactly Links()[idx].URL, so a tracker can tell them
	// from personalised targets; the plain text reuses the HTML's URLs.
	// Personalised links at the top level are computed once per message;
	// inside range they render per place (here per tag), for the HTML and
	// again for the text.
	perPlace := []string{"2 https://x.example/t/x", "2 https://x.example/t/y"}
	require.Equal(t, append(append([]string{"0 " + links[0].URL, "1 https://x.example/u/5"}, perPlace...), perPlace...), tr.calls)
	require.Contains(t, r.Text, "A (https://t.example/c/0?to=https://x.example/a?b=1&c=2)")
	require.Contains(t, r.HTML, `<a href="https://t.example/c/2?to=https://x.example/t/x">T</a><a href="https://t.example/c/2?to=https://x.example/t/y">T</a>`)
	require.Contains(t, r.Text, "T (https://t.example/c/2?to=https://x.example/t/x)T (https://t.example/c/2?to=https://x.example/t/y)")
}
