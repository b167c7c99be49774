package templates

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	xhtml "golang.org/x/net/html"
)

// TestGalleryEmailSafe renders every gallery template, in both languages,
// and holds it to email-safe markup: a table layout, inline styles only
// (no <style>, no stylesheet links), no scripts, a visible unsubscribe link,
// alt text on every image, under Gmail's clipping size, and every pre-send
// check passing. Persian ones are right to left.
func TestGalleryEmailSafe(t *testing.T) {
	t.Parallel()
	items := Gallery()
	kinds := map[string]map[string]bool{}
	for _, it := range items {
		if kinds[it.Key] == nil {
			kinds[it.Key] = map[string]bool{}
		}
		kinds[it.Key][it.Lang] = true
	}
	for _, k := range []string{"newsletter", "announcement", "offer", "welcome", "reengagement", "receipt"} {
		require.True(t, kinds[k]["en"] && kinds[k]["fa"], "gallery %s in en and fa", k)
	}
	for _, it := range items {
		t.Run(it.Key+"."+it.Lang, func(t *testing.T) {
			t.Parallel()
			tmpl, err := FromGallery(it.Key, it.Lang, testAssetBase)
			require.NoError(t, err)
			tmpl.Transactional = false // the unsubscribe link must be there anyway
			c := mustCompile(t, tmpl)
			r := render(t, c, Data{Contact: Contact{ID: 5, Email: "sara@example.com", Name: "سارا"}, Campaign: Campaign{ID: 1, Name: "Spring"}}, checkTracker{})
			requireEmailSafe(t, r.HTML, it.Lang)
			require.NotEmpty(t, strings.TrimSpace(r.Text), "plain-text part")

			checks, err := Checks(context.Background(), tmpl, []Contact{{ID: 1, Email: "a@example.com"}, {ID: 2, Email: "b@example.com", Name: "B"}})
			require.NoError(t, err)
			require.Empty(t, Failed(checks))
		})
	}
}

// testAssetBase is where the tests say Peykar serves the gallery's images.
const testAssetBase = "https://peykar.example/admin/assets/email"

var styleAttr = regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle="`)

// requireEmailSafe is the markup property every gallery template holds.
func requireEmailSafe(t *testing.T, html, lang string) {
	t.Helper()
	lower := strings.ToLower(html)
	require.NotContains(t, lower, "<script", "no scripts")
	require.Empty(t, UnsafeMarkup(html), "no scripts, event handlers or javascript: URLs")
	require.NotContains(t, lower, "<style", "inline styles only")
	require.NotContains(t, lower, "stylesheet", "no external CSS")
	require.NotContains(t, lower, "<div style=\"display:flex", "no flexbox layout")
	require.Less(t, len(html), MaxEmailBytes, "under Gmail's clipping size")
	require.GreaterOrEqual(t, len(styleAttr.FindAllString(html, -1)), 10, "styles are inline")
	doc, err := xhtml.Parse(strings.NewReader(html))
	require.NoError(t, err)
	s := scanDoc(doc)
	require.Empty(t, s.noAlt, "images without alt")
	for _, src := range regexp.MustCompile(`<img[^>]*\ssrc="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if src[1] == checkOpenURL {
			continue // the open pixel
		}
		require.True(t, strings.HasPrefix(src[1], testAssetBase+"/"), "image %s is served by Peykar, not an outside service", src[1])
	}
	require.Empty(t, s.badLinks)
	tables, unsub := 0, false
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			switch n.Data {
			case "table":
				tables++
				require.Equal(t, "presentation", attrOf(n, "role"), "layout tables are presentational")
			case "a":
				if attrOf(n, "href") == checkUnsubURL && strings.TrimSpace(linkText(n)) != "" {
					unsub = true
				}
			case "html":
				if lang == "fa" {
					require.Equal(t, "rtl", attrOf(n, "dir"))
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	require.GreaterOrEqual(t, tables, 2, "table layout")
	require.True(t, unsub, "a visible unsubscribe link")
}

// TestGalleryGolden renders every gallery template for one contact with
// tracking and compares it with testdata/gallery/KEY.LANG.golden (run with
// -update to rewrite them after changing a starter).
func TestGalleryGolden(t *testing.T) {
	t.Parallel()
	for _, it := range Gallery() {
		t.Run(it.Key+"."+it.Lang, func(t *testing.T) {
			t.Parallel()
			tmpl, err := FromGallery(it.Key, it.Lang, testAssetBase)
			require.NoError(t, err)
			c := mustCompile(t, tmpl)
			r := render(t, c, Data{Contact: Contact{ID: 7, Email: "sara@example.com", Name: "سارا", Attributes: map[string]any{"last_order_total": "€49.50"}},
				Campaign: Campaign{ID: 3, Name: "Spring"}}, fakeTracker{})
			got := strings.Join([]string{"Subject: " + r.Subject, "===== html =====", r.HTML, "===== text =====", r.Text, ""}, "\n")
			path := filepath.Join("testdata", "gallery", it.Key+"."+it.Lang+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGalleryGolden -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}

// TestFromGalleryAssetBase: the images' base must be an absolute http(s)
// URL (a relative one would break in every mail client).
func TestFromGalleryAssetBase(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/admin/assets/email", "ftp://x.example/e"} {
		_, err := FromGallery("newsletter", "en", base)
		require.Error(t, err, base)
	}
	tmpl, err := FromGallery("newsletter", "en", "http://localhost:8080/admin/assets/email/")
	require.NoError(t, err)
	require.Contains(t, tmpl.HTML, `src="http://localhost:8080/admin/assets/email/newsletter.png"`)
	require.NotContains(t, tmpl.HTML, GalleryAssetPrefix)
}
