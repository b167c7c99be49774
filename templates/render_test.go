package templates

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestRenderPersonalisation(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: `{{ .Contact.Name | default "friend" }}, your {{ .Campaign.Name }}`,
		HTML: `<p>{{ attr "city" "somewhere" }} / {{ attr "plan" "free" }} / {{ .Contact.Attributes.city }}` +
			` / {{ number 2 .Contact.Attributes.balance }} / {{ date "2 Jan 2006" .Contact.CreatedAt }}` +
			` / {{ .Contact.Email | upper }} / {{ range .Contact.Tags }}#{{ . }} {{ end }}</p>`,
	})
	d := Data{Contact: sara, Campaign: Campaign{ID: 3, Name: "Spring"}}
	d.Contact.CreatedAt = time.Date(2025, 3, 21, 10, 0, 0, 0, time.UTC)
	d.Contact.Tags = []string{"vip", "new"}
	r := render(t, c, d, nil)
	require.Equal(t, "Sara, your Spring", r.Subject)
	require.Equal(t, "<p>Tehran / free / Tehran / 1,234.50 / 21 Mar 2025 / SARA@EXAMPLE.COM / #vip #new </p>", r.HTML)
	require.Equal(t, "Tehran / free / Tehran / 1,234.50 / 21 Mar 2025 / SARA@EXAMPLE.COM / #vip #new", r.Text)

	d.Contact.Name = ""
	r = render(t, c, d, nil)
	require.Equal(t, "friend, your Spring", r.Subject)
}

func TestRenderMissingAttributeWithoutDefaultIsAnError(t *testing.T) {
	t.Parallel()
	for src, col := range map[string]int{
		"<p>Hi</p>\n<p>{{ attr \"city\" }}</p>":            7,
		"<p>Hi</p>\n<p>{{ .Contact.Attributes.city }}</p>": 7,
	} {
		c := mustCompile(t, Template{HTML: src})
		_, err := c.Render(Data{Contact: Contact{ID: 1, Name: "x"}}, nil)
		requireFieldError(t, err, "html", 2, col, "city")
		require.True(t, errs.Is(err, errs.Invalid))
	}
}

func TestRenderMissingAttributeInPersonalisedLink(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: "<p>x</p>\n<p><a href=\"https://x.example/{{ attr \"code\" }}\">Go</a></p>"})
	_, err := c.Render(Data{}, fakeTracker{})
	requireFieldError(t, err, "html", 2, 7, `contact attribute "code" is missing`)
	require.NotContains(t, err.(*errs.Error).Message, "peykar")
	require.NotContains(t, err.(*errs.Error).Message, "template:")

	// Positions after rewritten links on the same line are the author's.
	c = mustCompile(t, Template{HTML: `<a href="https://a.example/">A</a><a href='https://b.example/'>B</a> {{ attr "x" }}`})
	_, err = c.Render(Data{}, fakeTracker{})
	requireFieldError(t, err, "html", 1, 73, `contact attribute "x" is missing`)
}

func TestRenderAttributeSpellingsAgree(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: `{{ .Contact.Attributes.city | default "there" }}`,
		HTML: `<p>{{ if .Contact.Attributes.vip }}VIP{{ else }}regular{{ end }}` +
			`{{ with $.Contact.Attributes.coupon }} code {{ . }}{{ end }}` +
			`{{ if attr "vip" }}!{{ end }} {{ printf "%v/%v" .Contact.Attributes.city (attr "plan" "free") }}` +
			`{{ range .Contact.Tags }} {{ $.Contact.Attributes.city }}{{ end }}</p>`,
	})
	r := render(t, c, Data{Contact: Contact{Attributes: map[string]any{"city": "Shiraz", "vip": nil}}}, nil)
	require.Equal(t, "Shiraz", r.Subject)
	require.Equal(t, "<p>regular Shiraz/free</p>", r.HTML)

	r = render(t, c, Data{Contact: Contact{Tags: []string{"a"}, Attributes: map[string]any{"city": "Shiraz", "vip": true, "coupon": "X1"}}}, nil)
	require.Equal(t, "<p>VIP code X1! Shiraz/free Shiraz</p>", r.HTML)

	// null counts as missing everywhere, never "<no value>".
	_, err := c.Render(Data{Contact: Contact{Attributes: map[string]any{"city": nil}}}, nil)
	require.ErrorContains(t, err, `contact attribute "city" is missing`)
	_, err = c.Render(Data{Contact: Contact{Attributes: map[string]any{"city": ""}}}, nil)
	require.ErrorContains(t, err, `contact attribute "city" is missing`)
}

func TestRenderEscapesByContext(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: "Hi {{ .Contact.Name }}",
		HTML:    `<p title="{{ .Contact.Name }}">Hi {{ .Contact.Name }}</p><a href="https://x.example/?n={{ .Contact.Name }}">x</a>`,
		Text:    "Hi {{ .Contact.Name }}",
	})
	name := `<script>alert("x")</script> & co`
	r := render(t, c, Data{Contact: Contact{Name: name}}, nil)
	require.Equal(t, "Hi "+name, r.Subject)
	require.Equal(t, "Hi "+name, r.Text)
	require.NotContains(t, r.HTML, "<script>")
	require.Contains(t, r.HTML, `<p title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co">Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</p>`)
	require.Contains(t, r.HTML, `href="https://x.example/?n=%3cscript%3ealert%28%22x%22%29%3c%2fscript%3e%20%26%20co"`)
}

func TestRenderPersianRightToLeft(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: "سلام {{ .Contact.Name }}، خوش آمدید",
		HTML: `<html dir="rtl" lang="fa"><body><p>سلام {{ .Contact.Name }} از {{ attr "city" "ایران" }}!</p>` +
			`<p>مرحباً بالعالم — <a href="https://shop.example/فروش">فروش ویژه</a></p></body></html>`,
	})
	contact := Contact{Name: "سارا", Attributes: map[string]any{"city": "تهران"}}
	r := render(t, c, Data{Contact: contact}, nil)
	require.Equal(t, "سلام سارا، خوش آمدید", r.Subject)
	require.Contains(t, r.HTML, `<html dir="rtl" lang="fa"><body><p>سلام سارا از تهران!</p><p>مرحباً بالعالم — `)
	require.Contains(t, r.HTML, `>فروش ویژه</a>`)
	require.Equal(t, "سلام سارا از تهران!\n\nمرحباً بالعالم — فروش ویژه (https://shop.example/فروش)", r.Text)
	require.Equal(t, []Link{{Idx: 0, URL: "https://shop.example/فروش", Name: "فروش ویژه"}}, c.Links())

	r = render(t, c, Data{Contact: contact}, fakeTracker{})
	require.Contains(t, r.Text, "فروش ویژه (https://t.example/c/0?to=https://shop.example/فروش)")
}

func TestRenderTrackingExtras(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: `<html><body><p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>`,
		Text: "Bye: {{ unsubscribe_url }}"})
	r := render(t, c, Data{}, fakeTracker{})
	require.Equal(t, `<html><body><p>Hi</p><a href="https://t.example/u/tok">Unsubscribe</a>`+
		`<a href="https://t.example/h/tok" style="display:none" aria-hidden="true" tabindex="-1"></a>`+
		`<img src="https://t.example/o.gif" width="1" height="1" alt="" style="display:none"></body></html>`, r.HTML)
	require.Equal(t, "Bye: https://t.example/u/tok", r.Text)
	require.Empty(t, c.Links(), "the unsubscribe link is not click-tracked")

	// No tracker: nothing added, unsubscribe is "#".
	r = render(t, c, Data{}, nil)
	require.Equal(t, `<html><body><p>Hi</p><a href="#">Unsubscribe</a></body></html>`, r.HTML)
	require.Equal(t, "Bye: #", r.Text)

	// No </body>: appended at the end.
	c = mustCompile(t, Template{HTML: `<p>Hi</p>`})
	r = render(t, c, Data{}, fakeTracker{})
	require.True(t, strings.HasSuffix(r.HTML, `<img src="https://t.example/o.gif" width="1" height="1" alt="" style="display:none">`), r.HTML)
	require.True(t, strings.HasPrefix(r.HTML, `<p>Hi</p><a href="https://t.example/h/tok"`), r.HTML)
}

func TestRenderDotAtTopLevelDoesNotLeakState(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: "<p>{{ . }}</p>", Text: "{{ . }}"})
	r := render(t, c, Data{Contact: sara}, fakeTracker{})
	require.True(t, strings.HasPrefix(r.HTML, "<p>[message data]</p>"), r.HTML)
	require.Equal(t, "[message data]", r.Text)
}

func TestRenderSubjectMustStayOneLine(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{Subject: "Hi {{ .Contact.Name }}", HTML: "<p>x</p>"})
	_, err := c.Render(Data{Contact: Contact{ID: 9, Name: "a\nBcc: evil@example.com"}}, nil)
	require.Error(t, err)
	require.True(t, errs.Is(err, errs.Invalid))
	require.Contains(t, err.Error(), "subject")
}

func TestRenderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{HTML: `<p>{{ .Contact.Name }} <a href="https://x.example/{{ .Contact.ID }}">x</a> {{ unsubscribe_url }}</p>`})
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 200 {
				id := int64(i*1000 + j)
				var r *Rendered
				if r, err = c.Render(Data{Contact: Contact{ID: id, Name: "n"}}, fakeTracker{}); err != nil {
					break
				}
				if !strings.Contains(r.HTML, "to=https://x.example/"+strconv.FormatInt(id, 10)+`"`) {
					err = errs.New(errs.Internal, "wrong id in %s", r.HTML)
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-done)
	}
}
