package templates

import (
	"fmt"
	"testing"
	"time"
)

// FuzzCompile feeds arbitrary HTML sources through Compile and, when they
// compile, Render: nothing may panic, and a compiled template renders or
// returns an error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`<p>Hi {{ .Contact.Name }}</p>`,
		`<a href="https://x.example/{{ .Contact.ID }}" title='t'>x</a><a href=y>`,
		`<a href="{{ attr "u" "https://d.example" }}">{{ if .Contact.Attributes.vip }}v{{ end }}</a>`,
		`<html><body><ul><li><a href="mailto:a@b">a</a></body></html>`,
		`{{ if .Contact.Name }}<a href="{{ else }}<b>{{ end }}`,
		`<a href="https://x.example/?q={{ "\">" }}">&amp;&#123;&#123;</a>`,
		`<p>{{/* c */}}{{ printf "%s" unsubscribe_url }}</p><script>var x = "{{ .Contact.Email }}";</script>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stop := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("stuck on %q", src)) })
		defer stop.Stop()
		c, err := Compile(Template{Subject: "s", HTML: src})
		if err != nil {
			return
		}
		_ = c.Links()
		d := Data{Contact: Contact{ID: 1, Name: "<n>", Attributes: map[string]any{"u": "https://u.example", "vip": true}}}
		_, _ = c.Render(d, fakeTracker{})
		_, _ = c.Render(d, nil)
	})
}
