package web

import (
	"reflect"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
)

// The compilers (expr for segments, rules and goals; Go's templates) word
// their mistakes in English, and the API keeps those words. The admin UI
// shows them in the page's language: a known kind of mistake becomes a
// catalogue message with the compiler's details as its parameters; an
// unknown kind keeps the compiler's text after a translated "Expression
// error:" or "Template error:". The position (line, column) is placed by
// the caller, as before.

// tr is u.t bound to c's language, for the wording functions.
func (u *UI) tr(c echo.Context) func(string, ...any) string {
	return func(id string, args ...any) string { return u.t(c, id, args...) }
}

// errorKind is one kind of compiler message: its pattern and the catalogue
// message that words it, whose %s take the pattern's groups in order.
type errorKind struct {
	re *regexp.Regexp
	id string
}

var exprKinds = []errorKind{
	{regexp.MustCompile(`^unknown name (\S+)$`), "err.expr.unknown_name"},
	{regexp.MustCompile(`^type \S+ has no field (\S+)$`), "err.expr.unknown_name"},
	{regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (\S+) and (\S+)\)$`), "err.expr.mismatch"},
	{regexp.MustCompile(`^cannot use (\S+) as argument \(type (\S+)\) to call (\S+)\s*$`), "err.expr.arg_type"},
	{regexp.MustCompile(`^expected bool, but got (\S+)$`), "err.expr.not_bool"},
	{regexp.MustCompile(`^unexpected token EOF$`), "err.expr.unexpected_end"},
	{regexp.MustCompile(`^unexpected token \w+\("?(.*?)"?\)$`), "err.expr.unexpected_token"},
	{regexp.MustCompile(`^invalid number of arguments \(expected (\d+), got (\d+)\)$`), "err.expr.arg_count"},
	{regexp.MustCompile(`^not enough arguments to call (\S+)$`), "err.expr.too_few_args"},
	{regexp.MustCompile(`^too many arguments to call (\S+)$`), "err.expr.too_many_args"},
	{regexp.MustCompile(`^(\S+) builds a string of (\d+) bytes: more than the evaluation budget allows \((\d+)\)$`), "err.expr.budget_string"},
	{regexp.MustCompile(`^the expression exceeded its evaluation budget`), "err.expr.budget"},
}

var templateKinds = []errorKind{
	{regexp.MustCompile(`^unclosed action`), "err.tpl.unclosed"},
	{regexp.MustCompile(`^function "([^"]+)" not defined$`), "err.tpl.no_function"},
	{regexp.MustCompile(`^<[^>]*>: can't evaluate field (\S+) in type (\S+)$`), "err.tpl.missing_field"},
	{regexp.MustCompile(`^unexpected EOF$`), "err.tpl.unexpected_end"},
	{regexp.MustCompile(`^unexpected (.+?)(?: in \w+)?$`), "err.tpl.unexpected"},
	{regexp.MustCompile(`^missing value for (\S+)$`), "err.tpl.missing_value"},
	{regexp.MustCompile(`^<[^>]*>: wrong number of args for (\S+): want (\d+) got (\d+)$`), "err.tpl.arg_count"},
	{regexp.MustCompile(`^map has no entry for key "([^"]+)"$`), "err.tpl.missing_key"},
}

// exprWords words an expr compiler message for env (segment, rule or
// goal: where "did you mean" looks for names) in tr's language. placed
// says the compiler gave a position: a message of no known kind is then
// the compiler's, and keeps its text after "Expression error:"; without a
// position it is a validation message already meant for people (is
// required…), kept as it is.
func exprWords(tr func(string, ...any) string, env, message string, placed bool) string {
	for _, k := range exprKinds {
		m := k.re.FindStringSubmatch(message)
		if m == nil {
			continue
		}
		if k.id == "err.expr.unknown_name" {
			if s := suggestName(env, m[1]); s != "" {
				return tr("err.expr.unknown_name_suggest", m[1], s)
			}
		}
		args := groups(m)
		switch k.id {
		case "err.expr.mismatch":
			args[1], args[2] = typeWord(tr, m[2]), typeWord(tr, m[3])
		case "err.expr.arg_type":
			args[0], args[1] = typeWord(tr, m[1]), typeWord(tr, m[2])
		case "err.expr.not_bool":
			args[0] = typeWord(tr, m[1])
		}
		return tr(k.id, args...)
	}
	if !placed {
		return message
	}
	return tr("err.expr.other", message)
}

// typeWord names a Go type the way the expression reference does (text,
// number, yes/no…); a type it has no word for stays as written.
func typeWord(tr func(string, ...any) string, goType string) string {
	kind := ""
	switch {
	case goType == "string":
		kind = "text"
	case goType == "bool":
		kind = "bool"
	case goType == "time.Time":
		kind = "time"
	case strings.HasPrefix(goType, "[]"):
		kind = "list"
	case strings.HasPrefix(goType, "map["):
		kind = "map"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		kind = "number"
	default:
		return goType
	}
	return tr("exprhelp.kind_" + kind)
}

// templateWords words a Go template parse or execution message in tr's
// language; placed is as for exprWords (a line was given).
func templateWords(tr func(string, ...any) string, message string, placed bool) string {
	for _, k := range templateKinds {
		if m := k.re.FindStringSubmatch(message); m != nil {
			return tr(k.id, groups(m)...)
		}
	}
	if !placed {
		return message
	}
	return tr("err.tpl.other", message)
}

func groups(m []string) []any {
	out := make([]any, 0, len(m)-1)
	for _, g := range m[1:] {
		out = append(out, g)
	}
	return out
}

// envNames are the names an expression of env may use (the reference
// page's lists).
func envNames(env string) []exprName {
	switch env {
	case "segment":
		return exprNames(segments.EnvType(), "")
	case "rule":
		return exprNames(reflect.TypeFor[campaigns.RuleEnv](), "")
	case "goal":
		return exprNames(reflect.TypeFor[campaigns.Metrics](), "")
	}
	return nil
}

// suggestName is the name of env closest to the unknown name (compared
// with each name's last part, so "emial" finds contact.email), when it
// is at most two edits away (of equals, the one sharing the longest
// beginning: ctrr is ctr, not ctor); "" otherwise.
func suggestName(env, unknown string) string {
	best, bestD, bestP := "", 3, 0
	u := strings.ToLower(unknown)
	for _, n := range envNames(env) {
		name := strings.TrimSuffix(n.Name, "(…)")
		last := strings.ToLower(name[strings.LastIndex(name, ".")+1:])
		d, p := editDistance(u, last), commonPrefix(u, last)
		if d > 0 && (d < bestD || d == bestD && p > bestP) {
			best, bestD, bestP = name, d, p
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
