package templates

import (
	"embed"
	"encoding/json"
	"fmt"

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

// FromGallery returns the unsaved template for gallery item key in lang. It
// returns an errs.NotFound error for an unknown pair.
func FromGallery(key, lang string) (Template, error) {
	for _, it := range Gallery() {
		if it.Key != key || it.Lang != lang {
			continue
		}
		html, err := galleryFS.ReadFile("gallery/" + key + "." + lang + ".html")
		if err != nil {
			return Template{}, fmt.Errorf("gallery %s.%s: %w", key, lang, err)
		}
		return Template{Name: it.Name, Subject: it.Subject, HTML: string(html), Transactional: it.Transactional}, nil
	}
	return Template{}, errs.New(errs.NotFound, "no gallery template %q in %q", key, lang)
}
