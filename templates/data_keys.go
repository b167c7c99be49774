package templates

import (
	"regexp"
	"slices"
)

// dataKeyRE finds the message data keys a template reads by name:
// {{ .Data.order_id }}, {{ $.Data.total }}.
var dataKeyRE = regexp.MustCompile(`\.Data\.([A-Za-z_][A-Za-z0-9_]*)`)

// DataKeys returns the message data keys the template reads by name
// ({{ .Data.order_id }}), sorted, without repeats: what a transactional
// message must carry in its "data" for the template to render.
func (c *Compiled) DataKeys() []string {
	var keys []string
	for _, src := range []string{c.tmpl.Subject, c.tmpl.HTML, c.tmpl.Text} {
		for _, m := range dataKeyRE.FindAllStringSubmatch(src, -1) {
			keys = append(keys, m[1])
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// SampleData is message data for previews, test sends and the checks on
// save: "sample" for every key the template reads (DataKeys).
func (c *Compiled) SampleData() map[string]any {
	out := map[string]any{}
	for _, k := range c.DataKeys() {
		out[k] = "sample"
	}
	return out
}
