package exprpos

import (
	"errors"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/exprbudget"
)

func TestLineCol(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s         string
		pos       int
		line, col int
	}{
		{"abc", 1, 1, 1},
		{"abc", 3, 1, 3},
		{"abc", 0, 1, 1},
		{"abc", 9, 1, 4},
		{"a\nbc", 3, 2, 1},
		{"a\nbc", 4, 2, 2},
		{"سارا\n== x", 7, 2, 2}, // runes, not bytes
	} {
		line, col := LineCol(tc.s, tc.pos)
		require.Equal(t, [2]int{tc.line, tc.col}, [2]int{line, col}, "%q at %d", tc.s, tc.pos)
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	src := "1 +\n  \"x\" * 2"
	_, err := expr.Compile(src)
	require.Error(t, err)
	p, ok := Of(src, err)
	require.True(t, ok)
	require.Equal(t, 2, p.Line)
	require.NotEmpty(t, p.Message)
	require.NotContains(t, p.Message, "\n", "the message alone, without expr's snippet")

	src = `repeat("x", 99999)`
	err = exprbudget.Check(`len(repeat(repeat("x", 99999), 1000000)) > 0`)
	require.Error(t, err)
	p, ok = Of(src, err)
	require.True(t, ok)
	require.Positive(t, p.Position)

	_, ok = Of(src, errors.New("plain"))
	require.False(t, ok)
}
