package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/peykar/peykar/internal/errs"
)

// The starter gallery: email-safe templates (table layout, inline styles,
// a visible unsubscribe link) in English and Persian, generated once and
// kept as files so they can be read and edited as HTML.
//
//go:embed gallery/*.html gallery/gallery.json
var galleryFS embed.FS

// GalleryItem is one starter template of the gallery.
type GalleryItem struct {
	Key           string `json:"key"`  // newsletter, announcement, offer, welcome, reengagement, receipt
	Lang          string `json:"lang"` // en or fa
	Name          string `json:"name"`
	Subject       string `json:"subject"`
	Transactional bool   `json:"transactional"`
}

// Gallery lists the starter templates.
func Gallery() []GalleryItem {
	b, err := galleryFS.ReadFile("gallery/gallery.json")
	if err != nil {
		panic(fmt.Sprintf("templates: embedded gallery: %v", err))
	}
	var out []GalleryItem
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("templates: embedded gallery: %v", err))
	}
	return out
}

// GalleryAssetPrefix marks, in a gallery file, the source of an image
// that Peykar serves itself (src="gallery-asset:newsletter.png"):
// FromGallery replaces it with the absolute URL mail clients fetch, so no
// starter depends on an outside image service.
const GalleryAssetPrefix = "gallery-asset:"

// FromGallery returns the unsaved template for gallery item key in lang,
// its images pointing at assetBase (the absolute http(s) URL under which
// Peykar serves the gallery's images, such as
// https://peykar.example/admin/assets/email, built from the configured
// public base URL). It returns an errs.NotFound error for an unknown pair
// and an errs.Invalid one for an assetBase that is not absolute.
func FromGallery(key, lang, assetBase string) (Template, error) {
	u, err := url.Parse(assetBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Template{}, errs.New(errs.Invalid, "gallery images need an absolute http(s) base URL, not %q", assetBase)
	}
	base := strings.TrimSuffix(assetBase, "/") + "/"
	for _, it := range Gallery() {
		if it.Key != key || it.Lang != lang {
			continue
		}
		html, err := galleryFS.ReadFile("gallery/" + key + "." + lang + ".html")
		if err != nil {
			return Template{}, fmt.Errorf("gallery %s.%s: %w", key, lang, err)
		}
		body := strings.ReplaceAll(string(html), GalleryAssetPrefix, base)
		return Template{Name: it.Name, Subject: it.Subject, HTML: body, Transactional: it.Transactional}, nil
	}
	return Template{}, errs.New(errs.NotFound, "no gallery template %q in %q", key, lang)
}
