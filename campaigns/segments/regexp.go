package segments

import (
	"fmt"
	"regexp/syntax"
	"strings"
)

// pgMaxRepeat is PostgreSQL's limit on {m,n} bounds.
const pgMaxRepeat = 255

// pgRegexp rewrites a Go (RE2) pattern as a PostgreSQL advanced regular
// expression that matches exactly the same strings, from the parsed syntax
// tree so that no construct means something else on the other side
// (PostgreSQL's `.` matches a newline, Go's does not). Patterns using
// anything outside the plain subset (flags, line anchors, word boundaries,
// non-greedy repeats, …) are not translated: ok is false.
func pgRegexp(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !writePG(&b, re) {
		return "", false
	}
	return b.String(), true
}

func writePG(b *strings.Builder, re *syntax.Regexp) bool {
	if re.Flags&syntax.FoldCase != 0 && re.Op == syntax.OpLiteral {
		// Go's case folding (Unicode simple folding) differs from
		// PostgreSQL's. (Folded classes arrive already expanded.)
		return false
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			writeRune(b, r)
		}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false
		}
		var ranges []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			ranges = appendPGRange(ranges, re.Rune[i], re.Rune[i+1])
		}
		if len(ranges) == 0 {
			return false
		}
		b.WriteByte('[')
		for i := 0; i+1 < len(ranges); i += 2 {
			writeRune(b, ranges[i])
			if ranges[i+1] != ranges[i] {
				b.WriteByte('-')
				writeRune(b, ranges[i+1])
			}
		}
		b.WriteByte(']')
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\U0000000A]`)
	case syntax.OpAnyChar:
		b.WriteString(`(?:.|\U0000000A)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\Z`)
	case syntax.OpCapture:
		b.WriteString("(?:")
		if !writePG(b, re.Sub[0]) {
			return false
		}
		b.WriteByte(')')
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !writePG(b, s) {
				return false
			}
		}
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, s := range re.Sub {
			if i > 0 {
				b.WriteByte('|')
			}
			if !writePG(b, s) {
				return false
			}
		}
		b.WriteByte(')')
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if re.Flags&syntax.NonGreedy != 0 {
			return false
		}
		b.WriteString("(?:")
		if !writePG(b, re.Sub[0]) {
			return false
		}
		b.WriteByte(')')
		switch re.Op {
		case syntax.OpStar:
			b.WriteByte('*')
		case syntax.OpPlus:
			b.WriteByte('+')
		case syntax.OpQuest:
			b.WriteByte('?')
		default:
			if re.Min > pgMaxRepeat || re.Max > pgMaxRepeat {
				return false
			}
			if re.Max == -1 {
				fmt.Fprintf(b, "{%d,}", re.Min)
			} else {
				fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
			}
		}
	default:
		return false
	}
	return true
}

// writeRune writes r as an escape PostgreSQL reads as exactly that
// character, inside or outside brackets.
func writeRune(b *strings.Builder, r rune) {
	if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\U%08X`, r)
}

// appendPGRange appends [lo, hi] without the characters PostgreSQL text can
// never hold (NUL, UTF-16 surrogates), which its regexp escapes reject.
func appendPGRange(out []rune, lo, hi rune) []rune {
	if lo == 0 {
		lo = 1
	}
	if lo < 0xD800 && hi >= 0xD800 {
		out = appendPGRange(out, lo, 0xD7FF)
		lo = 0xE000
	}
	if lo >= 0xD800 && lo <= 0xDFFF {
		lo = 0xE000
	}
	if lo > hi {
		return out
	}
	return append(out, lo, hi)
}
