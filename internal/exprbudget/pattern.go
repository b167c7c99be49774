package exprbudget

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// MaxPatternSize bounds a regular expression's compiled size, in
// instructions with its repeats expanded (`x{1000}` is a thousand): Go's
// matcher does up to that much work per byte of input, and compiling a
// larger one takes seconds and gigabytes.
const MaxPatternSize = 10000

// pattern is a compiled regular expression with its size.
type pattern struct {
	re   *regexp.Regexp
	size int
}

// compilePattern refuses a pattern larger than MaxPatternSize before
// compiling it.
func compilePattern(p string) (*pattern, error) {
	size, err := patternSize(p)
	if err != nil {
		return nil, err
	}
	if size > MaxPatternSize {
		return nil, &errExceeded{what: fmt.Sprintf("matches: the pattern expands to %d instructions, more than %d", size, MaxPatternSize)}
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	return &pattern{re: re, size: size}, nil
}

// patternSize estimates the instructions p compiles to, from its parse
// tree, without compiling it.
func patternSize(p string) (int, error) {
	if len(p) > MaxPatternSize {
		return len(p), nil
	}
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return 0, err
	}
	return reSize(re), nil
}

func reSize(re *syntax.Regexp) int {
	n := 1
	for _, sub := range re.Sub {
		n = sat(n + reSize(sub))
	}
	switch re.Op {
	case syntax.OpLiteral:
		n += len(re.Rune)
	case syntax.OpCharClass:
		n += len(re.Rune) / 2
	case syntax.OpRepeat:
		times := re.Max
		if times < 0 {
			times = re.Min + 1
		}
		n = mul(n, max(times, 1))
	}
	return n
}
