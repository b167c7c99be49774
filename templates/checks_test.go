package templates

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func checkByName(t *testing.T, tmpl Template, audience []Contact) map[string]Check {
	t.Helper()
	if tmpl.Name == "" {
		tmpl.Name = "t"
	}
	if tmpl.Subject == "" {
		tmpl.Subject = "Hi"
	}
	cs, err := Checks(context.Background(), tmpl, audience)
	require.NoError(t, err)
	out := map[string]Check{}
	for _, c := range cs {
		out[c.Name] = c
	}
	return out
}

const okUnsub = `<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`

func TestChecksUnsubscribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, html    string
		transactional bool
		ok            bool
	}{
		{"visible", "<p>Hi</p>" + okUnsub, false, true},
		{"missing", "<p>Hi</p>", false, false},
		{"missing but transactional", "<p>Your receipt</p>", true, true},
		{"hidden by style", `<p>Hi</p><div style="display: none"><a href="{{ unsubscribe_url }}">Unsubscribe</a></div>`, false, false},
		{"no text", `<p>Hi</p><a href="{{ unsubscribe_url }}"></a>`, false, false},
		{"image with alt", `<p>Hi</p><a href="{{ unsubscribe_url }}"><img src="https://x.example/u.png" alt="Unsubscribe"></a>`, false, true},
	} {
		got := checkByName(t, Template{HTML: tc.html, Transactional: tc.transactional}, nil)[CheckUnsubscribe]
		require.Equal(t, tc.ok, got.OK, tc.name)
		require.Equal(t, tc.ok, got.Message == "", tc.name)
	}
}

func TestChecksMarkup(t *testing.T) {
	t.Parallel()
	got := checkByName(t, Template{HTML: `<p>Hi <img src="https://x.example/a.png"> <img src="https://x.example/b.png" alt="B">
<a href="/pricing">p</a> <a href="javascript:alert(1)">j</a> <a href="https://shop.example/ok">ok</a> <a href="mailto:a@example.com">m</a></p>` + okUnsub}, nil)
	require.False(t, got[CheckAltText].OK)
	require.Equal(t, []string{"https://x.example/a.png"}, got[CheckAltText].Items)
	require.False(t, got[CheckLinks].OK)
	require.Equal(t, []string{"/pricing", "javascript:alert(1)"}, got[CheckLinks].Items)
	require.True(t, got[CheckUnsubscribe].OK)
	require.True(t, got[CheckPlainText].OK)
	require.True(t, got[CheckSize].OK)
	_, hasFields := got[CheckFields]
	require.False(t, hasFields, "no audience, no fields check")
}

func TestChecksSizeAndText(t *testing.T) {
	t.Parallel()
	big := "<p>" + strings.Repeat("word ", MaxEmailBytes/5+10) + "</p>" + okUnsub
	got := checkByName(t, Template{HTML: big}, nil)
	require.False(t, got[CheckSize].OK)
	require.Contains(t, got[CheckSize].Message, "Gmail clips")

	got = checkByName(t, Template{HTML: "<p>Hi</p>" + okUnsub, Text: " "}, nil)
	require.False(t, got[CheckPlainText].OK, "nothing to read as text")
}

func TestChecksFieldsShare(t *testing.T) {
	t.Parallel()
	audience := []Contact{
		{ID: 1, Email: "a@example.com", Name: "A", Attributes: map[string]any{"city": "Tehran"}},
		{ID: 2, Email: "b@example.com", Name: "B"},
		{ID: 3, Email: "c@example.com", Name: "", Attributes: map[string]any{"city": "Shiraz"}},
		{ID: 4, Email: "d@example.com", Name: "D"},
	}
	got := checkByName(t, Template{HTML: `<p>Hello {{ .Contact.Name }} from {{ attr "city" }}</p>` + okUnsub}, audience)[CheckFields]
	require.False(t, got.OK)
	require.Equal(t, 4, got.Sampled)
	require.InDelta(t, 0.75, got.Share, 1e-9)
	require.Equal(t, []string{"attributes.city: 50% (2 of 4)", "name: 25% (1 of 4)"}, got.Items)
	require.Contains(t, got.Message, "75% of the audience")

	got = checkByName(t, Template{HTML: `<p>Hello {{ .Contact.Name | default "friend" }} from {{ attr "city" "your town" }}</p>` + okUnsub}, audience)[CheckFields]
	require.True(t, got.OK, got.Message)
}

func TestChecksBrokenTemplate(t *testing.T) {
	t.Parallel()
	_, err := Checks(context.Background(), Template{Name: "t", Subject: "x", HTML: "<p>{{ .Contact.Nmae }}</p>"}, nil)
	require.Error(t, err)
}
