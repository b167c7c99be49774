package exprbudget_test

import (
	"runtime"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/peykar/peykar/internal/exprbudget"
)

// HungrySeeds are expressions that try to take memory or time; the fuzz
// targets of every environment start from them.
var hungrySeeds = []string{
	`len(repeat(repeat("x", 99999), 1000000)) > 0`,
	`len(replace(repeat("x", 99999), "x", repeat("y", 99999))) > 0`,
	`let a = repeat("ab", 1000); let b = a + a; let c = b + b; let d = c + c; len(d + d + d) > 0`,
	`len(reduce(1..60, #acc + #acc, "x")) > 0`,
	`all(1..1000, all(1..1000, all(1..1000, true)))`,
	`let r = 1..999; all(r, all(r, true))`,
	`len(join(map(1..9999, repeat("x", 99)))) > 0`,
	`len(toJSON(map(1..999, map(1..999, #)))) > 0`,
	`len(string(map(1..999, repeat("y", 999)))) > 0`,
	`none(1..99999, repeat("z", 99) matches "(a|aa)*b")`,
	`len(split(repeat("x", 999999), "")) > 0`,
	`sum(map(1..999, sum(1..999))) > 0`,
	`count(map(1..9999, uniq(1..99)), true) > 0`,
	`len(sortBy(map(1..99999, -#), #)) > 0`,
	`len(flatten(map(1..999, 1..999))) > 0`,
}

// maxGrowth is what a fuzz target allows one evaluation to allocate: a
// generous multiple of the budget (units are bytes or elements, and an
// element or a map entry takes a few words).
const maxGrowth = 256 << 20

// AllocatedBy reports the bytes fn allocates. Fuzz inputs run one at a
// time in a worker, so the process's counter is fn's own.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzBudget compiles and runs arbitrary expressions under the budget over
// a small environment: nothing may panic out of Run, and no evaluation may
// allocate more than maxGrowth.
func FuzzBudget(f *testing.F) {
	for _, s := range hungrySeeds {
		f.Add(s)
	}
	f.Add(`name + "!" == "Sara!"`)
	f.Add(`all(tags, len(#) > 2)`)
	opts := append([]expr.Option{expr.Env(env{}), expr.MaxNodes(500)}, exprbudget.Options()...)
	f.Fuzz(func(t *testing.T, src string) {
		if exprbudget.Check(src) != nil {
			return
		}
		p, err := expr.Compile(src, opts...)
		if err != nil {
			return
		}
		var m vm.VM
		grew := allocatedBy(func() { _, _ = exprbudget.Run(&m, p, sample()) })
		if grew > maxGrowth {
			t.Fatalf("%q allocated %d bytes", src, grew)
		}
	})
}
