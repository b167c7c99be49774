package templates

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fastPathSources are templates covering every shape the fast path takes
// and near misses it must leave to text/template (other escaping contexts,
// conditions, loops, non-string fields, helpers with arguments).
var fastPathSources = []Template{
	{Subject: "Hello {{ .Contact.Name }}", HTML: `<html><body><h1>Spring sale</h1><p>Dear {{ .Contact.Name }}, the spring collection is here.</p>
		<p><a href="https://shop.example/new">New arrivals</a> · <a href="https://shop.example/pricing">Pricing</a></p>
		<p>{{ .Contact.Attributes.city | default "your city" }} store opens at 9.</p>
		<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`},
	{Subject: "{{ .Campaign.Name }}: {{ attr \"city\" }}", HTML: `{{/* c */}}<p>{{ .Campaign.Name }} {{ .Contact.Email }} {{ attr "city" }}</p><a href='{{ unsubscribe_url }}'>u</a>`},
	{Subject: "{{ .Contact.Name | default \"friend\" }}", HTML: `<p title="{{ .Contact.Name }}">{{ .Contact.Name }}</p>`},
	{Subject: "s", HTML: `<p>{{ attr "city" "dflt" }} {{ .Contact.ID }}</p><script>var n = "{{ .Contact.Name }}";</script>`},
	{Subject: "s", HTML: `<a href="https://x.example/{{ .Contact.Name }}?c={{ attr "city" "" }}">p</a> <a href="https://x.example/s">s</a>{{ if .Contact.Name }}y{{ end }}`},
	{Subject: "s", HTML: `<p>{{ .Contact.Attributes.city }}</p><a href={{ unsubscribe_url }}>u</a>`},
	{Subject: "s {{ .Contact.Email }}", HTML: `<p>{{ .Contact.Name }}</p><a href="https://shop.example/a?b=1&c=2">a</a>`,
		Text: "Hi {{ .Contact.Name }}, {{ attr \"city\" | default \"x\" }} https://shop.example/a?b=1&c=2 {{ unsubscribe_url }}"},
	{Subject: "s", HTML: `<p>{{ range .Contact.Tags }}{{ . }}{{ end }} <a href="{{ .PreferencesURL }}">p</a></p>`},
}

// fastPathContacts hold adversarial values: markup, quotes, entities, NUL,
// a javascript: URL, right-to-left text, invalid UTF-8, blank and missing
// and non-string attributes.
var fastPathContacts = []Contact{
	{ID: 1, Email: "user1@example.com", Name: "User 1", Attributes: map[string]any{"city": "Tehran"}},
	{ID: 2, Email: "a+b@example.com", Name: `Sara <Admin> & Co "q" 'a' +1 ` + "`x`", Attributes: map[string]any{"city": "<b>&amp;</b> \"x\""}},
	{ID: 3, Email: "c@example.com", Name: "javascript:alert(1)\x00nul", Attributes: map[string]any{"city": "javascript:alert(1)"}},
	{ID: 4, Email: "d@example.com", Name: "سارا «تست» 😀", Attributes: map[string]any{"city": "اصفهان"}},
	{ID: 5, Email: "e@example.com", Name: "bad \xff\xfe utf8", Attributes: map[string]any{"city": "  "}},
	{ID: 6, Email: "f@example.com", Name: "", Attributes: map[string]any{"city": 42.5}},
	{ID: 7, Email: "g@example.com", Name: "no attrs"},
	{ID: 8, Email: "h@example.com", Name: "nil", Attributes: map[string]any{"city": nil}},
	{ID: 9, Email: "i@example.com", Name: "line\r\nbreak", Attributes: map[string]any{"city": true}},
	{ID: 10, Email: "j@example.com", Name: strings.Repeat("long <&> ", MaxOutput/9+1), Attributes: map[string]any{"city": "x"}},
}

// slowPath is c with the fast path turned off: text/template renders
// every part.
func slowPath(c *Compiled) *Compiled {
	s := *c
	s.fastSubject, s.fastHTML, s.fastText = nil, nil, nil
	return &s
}

// requireSameRender renders d with and without the fast path and requires
// the same message or the same error.
func requireSameRender(t *testing.T, c *Compiled, d Data, tr Tracker, name string) {
	t.Helper()
	fast, ferr := c.RenderContext(context.Background(), d, tr)
	slow, serr := slowPath(c).RenderContext(context.Background(), d, tr)
	if serr != nil {
		require.Error(t, ferr, name)
		require.Equal(t, serr.Error(), ferr.Error(), name)
		return
	}
	require.NoError(t, ferr, name)
	require.Equal(t, *slow, *fast, name)
}

// TestFastPathMatchesTemplates renders the fast path's shapes, their near
// misses, testdata's templates and every gallery template for adversarial
// contacts, with every kind of tracker, with and without the fast path:
// the messages (subject, HTML, text) and the errors are the same byte for
// byte.
func TestFastPathMatchesTemplates(t *testing.T) {
	t.Parallel()
	sources := append([]Template(nil), fastPathSources...)
	for _, name := range []string{"welcome", "persian"} {
		html, err := os.ReadFile(filepath.Join("testdata", name+".html"))
		require.NoError(t, err)
		sources = append(sources, Template{Subject: "Welcome to {{ .Campaign.Name }}, {{ .Contact.Name | default \"friend\" }}", HTML: string(html)})
	}
	for _, it := range Gallery() {
		tmpl, err := FromGallery(it.Key, it.Lang, testAssetBase)
		require.NoError(t, err)
		sources = append(sources, tmpl)
	}
	for _, src := range sources {
		c := mustCompile(t, src)
		for _, p := range fastPathContacts {
			for _, tr := range []Tracker{nil, fakeTracker{}, constTracker{}} {
				d := Data{Contact: p, Campaign: Campaign{ID: 3, Name: "Spring <b>&</b> \"sale\""}}
				requireSameRender(t, c, d, tr, src.Subject+" / "+p.Name[:min(len(p.Name), 20)])
			}
		}
	}
	// A cancelled render stops with the same error either way.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := mustCompile(t, fastPathSources[0])
	d := Data{Contact: fastPathContacts[0]}
	_, ferr := c.RenderContext(ctx, d, fakeTracker{})
	_, serr := slowPath(c).RenderContext(ctx, d, fakeTracker{})
	require.ErrorIs(t, ferr, context.Canceled)
	require.Equal(t, serr.Error(), ferr.Error())
}

// TestFastPathTaken shows which parts the fast path renders, so the
// optimisation cannot silently stop applying: the benchmark's template
// takes it in all three parts; a condition, a non-string field or another
// escaping context keeps a part on text/template.
func TestFastPathTaken(t *testing.T) {
	t.Parallel()
	bench := mustCompile(t, fastPathSources[0])
	require.NotNil(t, bench.fastSubject)
	require.NotNil(t, bench.fastHTML)
	require.NotNil(t, bench.fastText)
	authored := mustCompile(t, fastPathSources[6])
	require.NotNil(t, authored.fastSubject)
	require.NotNil(t, authored.fastHTML)
	require.NotNil(t, authored.fastText)

	attrContext := mustCompile(t, fastPathSources[2])
	require.Nil(t, attrContext.fastSubject, "default after a field")
	require.Nil(t, attrContext.fastHTML, "a value in an attribute")
	script := mustCompile(t, fastPathSources[3])
	require.Nil(t, script.fastHTML, "script context, a non-string field, attr with a default argument")
	cond := mustCompile(t, fastPathSources[4])
	require.Nil(t, cond.fastHTML, "a condition")
	unquoted := mustCompile(t, fastPathSources[5])
	require.Nil(t, unquoted.fastHTML, "an unquoted attribute")
}

// FuzzFastPath renders the fast path's shapes for arbitrary names, emails
// and attribute values, with and without the fast path: the same message
// or the same error.
func FuzzFastPath(f *testing.F) {
	for _, p := range fastPathContacts[:6] {
		city, _ := p.Attributes["city"].(string)
		f.Add(p.Name, p.Email, city)
	}
	var compiled []*Compiled
	for _, src := range fastPathSources {
		c, err := Compile(src)
		if err != nil {
			f.Fatal(err)
		}
		compiled = append(compiled, c)
	}
	f.Fuzz(func(t *testing.T, name, email, city string) {
		d := Data{Contact: Contact{ID: 1, Email: email, Name: name, Attributes: map[string]any{"city": city}}, Campaign: Campaign{ID: 1, Name: name}}
		for _, c := range compiled {
			requireSameRender(t, c, d, fakeTracker{}, "fuzz")
		}
	})
}
