package templates

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// constTracker returns fixed URLs, so the benchmark measures rendering, not
// token signing.
type constTracker struct{}

func (constTracker) ClickURL(int, string) string {
	return "https://t.example/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}
func (constTracker) OpenURL() string { return "https://t.example/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif" }
func (constTracker) UnsubscribeURL() string {
	return "https://t.example/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}
func (constTracker) HoneypotURL() string { return "https://t.example/h/AAAAAAAAAAAAAAAAAAAAAAAAAAAA" }

// BenchmarkRender renders testdata/welcome.html (personalisation, 4 tracked
// links of which one personalised, unsubscribe link, pixel, honeypot,
// generated plain text) for one contact.
func BenchmarkRender(b *testing.B) {
	html, err := os.ReadFile(filepath.Join("testdata", "welcome.html"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := Compile(Template{Subject: "Welcome to {{ .Campaign.Name }}, {{ .Contact.Name | default \"friend\" }}", HTML: string(html)})
	if err != nil {
		b.Fatal(err)
	}
	d := Data{Contact: Contact{ID: 42, Email: "sara@example.com", Name: "Sara",
		Attributes: map[string]any{"city": "Tehran", "balance": 1234.5}, Tags: []string{"vip", "early"},
		CreatedAt: time.Date(2025, 3, 21, 9, 30, 0, 0, time.UTC)}, Campaign: Campaign{ID: 12, Name: "Spring"}}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Render(d, constTracker{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Render(d, constTracker{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkCompile compiles testdata/welcome.html (parse, validate, rewrite
// links, generate the plain text, escape).
func BenchmarkCompile(b *testing.B) {
	html, err := os.ReadFile(filepath.Join("testdata", "welcome.html"))
	if err != nil {
		b.Fatal(err)
	}
	t := Template{Subject: "Welcome, {{ .Contact.Name }}", HTML: string(html)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(t); err != nil {
			b.Fatal(err)
		}
	}
}
