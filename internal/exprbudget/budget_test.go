package exprbudget_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/exprbudget"
)

type env struct {
	Name  string         `expr:"name"`
	Tags  []string       `expr:"tags"`
	Attrs map[string]any `expr:"attrs"`
	N     int            `expr:"n"`
}

func compile(t *testing.T, src string, asBool bool) *vm.Program {
	t.Helper()
	opts := append([]expr.Option{expr.Env(env{})}, exprbudget.Options()...)
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	p, err := expr.Compile(src, opts...)
	require.NoError(t, err, src)
	return p
}

func run(t *testing.T, src string, e *env) (any, error) {
	t.Helper()
	var m vm.VM
	return exprbudget.Run(&m, compile(t, src, false), e)
}

func sample() *env {
	return &env{Name: "Sara", Tags: []string{"vip", "new"}, N: 3,
		Attrs: map[string]any{"city": "Tehran", "big": strings.Repeat("y", 400000), "list": []any{"a", "b"}}}
}

// The metered program answers what the plain one answers.
func TestSameAnswers(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`name + "!"`, `attrs.city + "-" + name`, `n + 2`, `n + 2.5`, `"vip" in tags`, `"x" in tags`,
		`attrs.city in ["Tehran", "Shiraz"]`, `name contains "ar"`, `name startsWith "S"`, `name endsWith "a"`,
		`name matches "^S.r"`, `attrs.city matches "^T"`, `name matches attrs.city`, `upper(name)`, `lower(name)`,
		`repeat("ab", 3)`, `replace(name, "a", "aa")`, `join(tags, ",")`, `split("a,b,c", ",")`, `len(tags)`,
		`len(name)`, `string(tags)`, `toJSON(tags)`, `trim("  x ")`, `indexOf(name, "r")`, `max(1, 2, n)`,
		`all(tags, len(#) > 2)`, `any(tags, # == "vip")`, `filter(tags, # startsWith "v")`, `map(tags, # + "!")`,
		`count(tags, # != "")`, `count([true, false, true])`, `sum([1, 2, 3])`, `sum(tags, len(#))`,
		`reduce(tags, #acc + #, "")`, `sortBy(tags, #)`, `groupBy(tags, len(#))`, `1..5`, `sum(1..100)`,
		`concat(tags, tags)`, `uniq(concat(tags, tags))`, `keys({"a": 1})`, `first(tags)`, `attrs.list`,
		`tags == tags`, `attrs.list == ["a", "b"]`, `attrs.city == "Tehran"`, `attrs.none == nil`, `attrs.city != "x"`,
		`len(now().Format("2006-01-02")) == 10`, `int("42") + 1`, `float("1.5")`, `len(flatten([[1], [2, [3]]]))`,
		`uniq([1, 1, 2])`, `name matches "^S(a|b)r{1,3}a$"`,
		`"new" in attrs.list`, `attrs.none contains "x"`, `attrs.none matches "x"`, `not (attrs.none matches "[^x]")`,
		`attrs.none startsWith "x"`, `attrs.none endsWith "x"`, `name matches attrs.none`, `"x" in attrs.none`, `let x = name + name; x + x`, `find(tags, # == "new")`, `n in 1..10`,
	} {
		plain, err := expr.Compile(src, expr.Env(env{}))
		require.NoError(t, err, src)
		want, err := expr.Run(plain, sample())
		require.NoError(t, err, src)
		got, err := run(t, src, sample())
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
}

// Every way to build something huge stops with the budget error before it
// is built; none of these may take noticeable memory or time.
func TestBudgetStopsGrowth(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`len(repeat(repeat("x", 99999), 1000000)) > 0`,
		`len(repeat(repeat("x", 10000), 100000)) > 0`,
		`len(repeat(name, n * 1000000)) > 0`,
		`len(replace(repeat("x", 99999), "x", repeat("y", 99999))) > 0`,
		`len(replace(attrs.big, "y", "yyyy")) > 0`,
		`let a = attrs.big; let b = a + a; let c = b + b; len(c + c) > 0`,
		`len(reduce(1..100, #acc + #acc, name)) > 0`,
		`len(join(map(1..1000, attrs.big))) > 0`,
		`len(string(map(1..1000, attrs.big))) > 0`,
		`len(toJSON(map(1..1000, attrs.big))) > 0`,
		`all(1..1000, all(1..1000, all(1..1000, true)))`,
		`let r = 1..1000; all(r, all(r, all(r, true)))`,
		`none(1..100000, attrs.big contains "z")`,
		`none(1..100000, attrs.big matches "z")`,
		`all(1..100000, upper(attrs.big) != "")`,
		`all(1..100000, len(attrs.big) > 0)`,
		`let r = 1..900; all(r, sum(r) > 0)`,
		`let r = map(1..900, true); all(r, count(r) != 5)`,
		`let r = 1..2000; none(r, 0 in r)`,
		`len(split(attrs.big, "")) > 0 && len(split(attrs.big, "")) > 0 && len(split(attrs.big, "")) > 0`,
		// Found by a red-team review: shared nested arrays, deep equality,
		// quadratic uniq, methods and parsers fed huge strings, regexps
		// whose size is in their repeats.
		`let a = 1..1000; let b = map(a, a); let c = map(a, b); len(flatten(c)) > 0`,
		`let s = split(repeat("x,", 999), ","); let b = map(s, s); let c = map(s, b); c == map(s, b)`,
		`let s = split(repeat("x,", 999), ","); let b = map(s, s); let c = map(s, b); "q" in c`,
		`len(uniq(1..20000)) > 0`,
		`let s = repeat("Monday", 40000); all(1..20000, now().Format(s) != "")`,
		`let s = repeat("0", 200000); all(1..10000, int(s) == 0)`,
		`all(1..100000, timezone("UTC") != nil)`,
		`repeat("x", 300000) matches "x{1000}y"`,
		`repeat("x", 300000) matches attrs.city + "{1000}y"`,
	} {
		_, err := run(t, src, sample())
		require.Error(t, err, src)
		require.True(t, exprbudget.IsExceeded(err), "%s: %v", src, err)
		var ee *exprbudget.ExceededError
		require.True(t, errors.As(err, &ee))
		require.Contains(t, err.Error(), "evaluation budget", src)
	}
}

// A run-time error that is not the budget stays what it was.
func TestOtherErrorsPassThrough(t *testing.T) {
	t.Parallel()
	_, err := run(t, `attrs.city + 1`, sample())
	require.Error(t, err)
	require.False(t, exprbudget.IsExceeded(err))
	_, err = run(t, `attrs.city contains 5`, sample())
	require.Error(t, err)
	require.False(t, exprbudget.IsExceeded(err))
}

// Check refuses at save time what is certain to pass the budget, with the
// position of the part at fault, and lets through what depends on data.
func TestCheck(t *testing.T) {
	t.Parallel()
	for src, pos := range map[string]int{
		`len(repeat(repeat("x", 99999), 1000000)) > 0`:            5,
		`len(repeat("x", 2000000)) > 0`:                           5,
		`all(1..10000000, true)`:                                  6,
		`x && all(1..1000, all(1..1000, all(1..1000, true)))`:     19,
		`name matches "` + strings.Repeat(`x{0,1000}`, 20) + `y"`: 6,
	} {
		err := exprbudget.Check(src)
		var ob *exprbudget.OverBudgetError
		require.True(t, errors.As(err, &ob), "%s: %v", src, err)
		require.Equal(t, pos, ob.Position, src)
		require.Contains(t, ob.Message, "evaluation budget", src)
	}
	for _, src := range []string{
		`name == "x"`, `repeat(name, n) != ""`, `all(1..100, # > 0)`, `repeat("ab", 1000) != ""`, `(`,
		`all(tags, all(tags, true))`, `replace(repeat("x", 1000), "x", "yy") != ""`, `replace(name, "a", repeat("b", 99999)) != ""`,
	} {
		require.NoError(t, exprbudget.Check(src), src)
	}
}
