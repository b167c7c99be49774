// Package exprbudget bounds what one evaluation of an expression a user
// wrote may cost: segment rules, follow-up rule conditions and campaign
// goals all compile with [Options] and run with [Run].
//
// The cost is counted in units, in expr's own VM memory counter, and an
// evaluation that would pass [Units] stops with an [*ExceededError] before
// the allocation or the loop that would pass it:
//
//   - every iteration of a closure (all, any, filter, map, count, sum,
//     reduce, ...) costs the number of nodes of its body, so iterations ×
//     body size is bounded;
//   - a range a..b costs its length (expr's own accounting);
//   - every built-in function and every string operator (+ on strings,
//     contains, startsWith, endsWith, matches, in) costs the size of what it
//     reads and of what it builds: bytes of strings, elements of arrays and
//     maps;
//   - functions that can build much more than they read (repeat, replace,
//     join, string, toJSON) compute the size of their result first and
//     refuse before allocating it.
//
// So one evaluation allocates at most about [Units] bytes or elements beyond
// its inputs and runs at most about [Units] steps of the VM. [Check] refuses
// at save time what is certain to pass the budget (a constant range or a
// repeat too large for it), with the position of the part at fault.
package exprbudget
