package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlainTextFallback(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, html, want string }{
		{"paragraphs and breaks", "<p>One\n   two</p><p>Three<br>four</p>", "One two\n\nThree\nfour"},
		{"entities decoded", "<p>Tom &amp; Jerry &lt;3 &quot;cheese&quot; &#1587;&#1604;&#1575;&#1605;</p>", `Tom & Jerry <3 "cheese" سلام`},
		{"head, style and script dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script><p>Body</p></body></html>", "Body"},
		{"lists", "<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>", "- a\n- b\n\n- c"},
		{"links", `<p><a href="https://x.example/">Shop</a> <a href="mailto:a@b.example">a@b.example</a> <a href="tel:+1">Call</a> <a href="#t">Top</a></p>`,
			"Shop (https://x.example/) a@b.example Call (+1) Top"},
		{"link whose text is its URL", `<a href="https://x.example/" data-peykar-notrack>https://x.example/</a>`, "https://x.example/"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"conditionals leave no holes", "<p>a</p>\n{{ if .Contact.Tags }}<p>tags</p>{{ end }}\n<p>b</p>", "a\n\nb"},
		{"braces in text", "<p>&#123;&#123; not an action }}</p>", "{{ not an action }}"},
		{"actions kept", `<p>Hi {{ .Contact.Name }}, from {{ attr "city" "here" }}</p>`, "Hi <Sara>, from here"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustCompile(t, Template{HTML: tc.html})
			r := render(t, c, Data{Contact: Contact{Name: "<Sara>"}}, nil)
			require.Equal(t, tc.want, r.Text)
			require.True(t, c.TextGenerated())
		})
	}
}

func TestPlainTextWrittenByAuthorIsKept(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: "<p>html</p>", Text: "Hi {{ .Contact.Name }},\n\n\n\nbye {{ unsubscribe_url }}"})
	r := render(t, c, Data{Contact: Contact{Name: "<b>"}}, fakeTracker{})
	require.Equal(t, "Hi <b>,\n\n\n\nbye https://t.example/u/tok", r.Text)
	require.False(t, c.TextGenerated())
}

func TestAuthorTextLinksAreTracked(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		HTML: `<a href="https://shop.example/">Home</a> <a href="https://shop.example/sale">Sale</a> <a href="https://shop.example/sale">Sale</a>`,
		Text: "Home: https://shop.example/. Sale (https://shop.example/sale), other https://other.example/ " +
			"and {{ \"https://shop.example/sale\" }} and https://shop.example/sale/more",
	})
	r := render(t, c, Data{}, fakeTracker{})
	require.Equal(t, "Home: https://t.example/c/0?to=https://shop.example/. Sale (https://t.example/c/1?to=https://shop.example/sale), "+
		"other https://other.example/ and https://shop.example/sale and https://shop.example/sale/more", r.Text)
}
