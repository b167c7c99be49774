package templates

import "strings"

// span is a half-open byte range [start, end) of a source.
type span struct{ start, end int }

// findActions returns the byte ranges of the template actions ({{ … }}) in
// src, in order. Quoted strings, raw strings, character constants and
// comments inside an action are skipped, so a "}}" inside them does not end
// it. An unterminated action runs to the end (parsing reports it).
func findActions(src string) []span {
	var out []span
	for i := 0; ; {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			return out
		}
		start := i + j
		end := actionEnd(src, start+2)
		out = append(out, span{start, end})
		i = end
		if i >= len(src) {
			return out
		}
	}
}

func actionEnd(src string, i int) int {
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "}}"):
			return i + 2
		case strings.HasPrefix(src[i:], "/*"):
			k := strings.Index(src[i+2:], "*/")
			if k < 0 {
				return len(src)
			}
			i += 2 + k + 2
		case src[i] == '"' || src[i] == '\'':
			q := src[i]
			i++
			for i < len(src) && src[i] != q {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case src[i] == '`':
			k := strings.IndexByte(src[i+1:], '`')
			if k < 0 {
				return len(src)
			}
			i += 1 + k + 1
		default:
			i++
		}
	}
	return len(src)
}

// mask returns src with every action replaced by as many 'x' bytes, so an
// HTML tokenizer sees plain text where the actions are (quotes or angle
// brackets inside an action cannot confuse it) and every offset is kept.
func mask(src string, actions []span) string {
	if len(actions) == 0 {
		return src
	}
	b := []byte(src)
	for _, a := range actions {
		for k := a.start; k < a.end; k++ {
			b[k] = 'x'
		}
	}
	return string(b)
}

// hasAction reports whether s contains a template action.
func hasAction(s string) bool { return strings.Contains(s, "{{") }
