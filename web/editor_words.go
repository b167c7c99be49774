package web

import "strings"

// editorWords are the visual editor's block and category names in the
// page's language, for web/static/template_editor.js (which reads them from
// a JSON <script type="application/json"> element, not executed, so the
// CSP holds): every editor.block.{id} and editor.category.{id} message of
// the catalogue, by id.
func editorWords(msg catalogue) map[string]map[string]string {
	out := map[string]map[string]string{"blocks": {}, "categories": {}}
	for k, v := range msg {
		if id, ok := strings.CutPrefix(k, "editor.block."); ok {
			out["blocks"][id] = v
		} else if id, ok := strings.CutPrefix(k, "editor.category."); ok {
			out["categories"][id] = v
		}
	}
	return out
}
