package templates

import (
	"regexp"
	"strings"
)

// urlRE finds http(s) URLs in plain text.
var urlRE = regexp.MustCompile(`(?i)https?://[^\s<>"'` + "`" + `]+`)

// trackTextLinks makes the URLs of an author-written text part that are
// also static links of the HTML tracked as those links (the first of equal
// URLs): each becomes the same click call as in the HTML. URLs inside
// template actions and URLs the HTML does not link are left alone.
func trackTextLinks(src string, links []Link) string {
	idx := map[string]int{}
	for _, l := range links {
		if _, dup := idx[l.URL]; !dup && !l.Personalised {
			idx[l.URL] = l.Idx
		}
	}
	if len(idx) == 0 {
		return src
	}
	var edits []edit
	pos := 0
	scan := func(end int) {
		for _, m := range urlRE.FindAllStringIndex(src[pos:end], -1) {
			s, e := pos+m[0], pos+m[1]
			u := strings.TrimRight(src[s:e], ".,;:!?)]}")
			if i, ok := idx[u]; ok {
				edits = append(edits, edit{start: s, end: s + len(u), repl: clickCall(i)})
			}
		}
	}
	for _, a := range findActions(src) {
		scan(a.start)
		pos = a.end
	}
	scan(len(src))
	return applyEdits(src, edits)
}
