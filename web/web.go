// Package web is Peykar's server-rendered admin UI: html/template layouts
// and pages, CSS, vendored htmx and the message catalogue, all embedded in
// the binary. Register mounts the pages on the /admin group; the pages call
// the domain packages' store functions and services for data and hold only
// presentation. Every user-visible string comes from the catalogue
// (i18n/en.json), keyed by id, so a translation can be added beside it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static i18n
var assets embed.FS

// Static returns the CSS and JavaScript served under /admin/assets.
func Static() fs.FS {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
