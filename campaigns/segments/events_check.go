package segments

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/expr-lang/expr/ast"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprpos"
)

// maxWindow bounds an event window (about a century), so the instant
// now − window stays far inside PostgreSQL's timestamps.
const maxWindow = 36500 * 24 * time.Hour

var windowRe = regexp.MustCompile(`^([0-9]{1,7})([mhdw])$`)

var windowUnits = map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseWindow reads an event window: a positive whole number of minutes
// (m), hours (h), days (d) or weeks (w), such as "30m", "24h", "7d", "2w".
func parseWindow(s string) (time.Duration, error) {
	m := windowRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("the window %q is not a duration such as \"30m\", \"24h\", \"7d\" or \"2w\"", s)
	}
	n, _ := strconv.Atoi(m[1])
	d := time.Duration(n) * windowUnits[m[2]]
	if n == 0 || d > maxWindow {
		return 0, fmt.Errorf("the window %q must be longer than 0 and at most 36500d", s)
	}
	return d, nil
}

// eventMethods are the functions of `events`.
var eventMethods = map[string]termKind{"count": tkCount, "sum": tkSum, "last": tkLast}

// campaignFuncs are the engagement functions.
var campaignFuncs = map[string]termKind{"opened": tkOpened, "clicked": tkClicked}

// collectTerms checks every event call of a parsed (type-checked) rule
// and returns the distinct terms it reads. Arguments must be literals
// (the event type, field and window strings; the campaign an id or a
// name), windows valid durations, and events, opened and clicked used
// only as calls; anything else is an *errs.Error at its position.
func collectTerms(rule string, tree ast.Node) ([]eventTerm, []campaignRef, error) {
	v := &termVisitor{rule: rule, callees: map[ast.Node]bool{}}
	ast.Walk(&tree, v)
	if v.err != nil {
		return nil, nil, v.err
	}
	u := &strayFinder{callees: v.callees}
	ast.Walk(&tree, u)
	if u.found != nil {
		return nil, nil, placed(rule, u.found, "%s", u.why)
	}
	return v.terms, v.refs, nil
}

// campaignRef is one campaign argument of opened or clicked, where it is
// written (CheckCampaigns resolves it when a segment is saved).
type campaignRef struct {
	id   int64
	name string
	node ast.Node
}

// placed is an invalid-rule error at node n.
func placed(rule string, n ast.Node, format string, args ...any) *errs.Error {
	pos := startOf(n).Location().From + 1
	line, col := exprpos.LineCol(rule, pos)
	return &errs.Error{Code: errs.Invalid, Field: "rule", Message: fmt.Sprintf(format, args...), Position: pos, Line: line, Column: col}
}

type termVisitor struct {
	rule    string
	terms   []eventTerm
	refs    []campaignRef
	callees map[ast.Node]bool // the identifiers that are the callees' roots
	err     error
}

func (v *termVisitor) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok || v.err != nil {
		return
	}
	var t eventTerm
	switch c := call.Callee.(type) {
	case *ast.MemberNode:
		id, isID := c.Node.(*ast.IdentifierNode)
		p, isS := c.Property.(*ast.StringNode)
		if !isID || !isS || id.Value != "events" {
			return
		}
		kind, known := eventMethods[p.Value]
		if !known {
			return // expr's type check has refused it already
		}
		v.callees[id] = true
		t.kind = kind
		if v.err = v.eventArgs(&t, call); v.err != nil {
			return
		}
	case *ast.IdentifierNode:
		kind, known := campaignFuncs[c.Value]
		if !known {
			return
		}
		v.callees[c] = true
		t.kind = kind
		if v.err = v.campaignArg(&t, call); v.err != nil {
			return
		}
		v.refs = append(v.refs, campaignRef{id: t.campID, name: t.camp, node: call.Arguments[0]})
	default:
		return
	}
	for _, x := range v.terms {
		if x == t {
			return
		}
	}
	v.terms = append(v.terms, t)
}

// eventArgs reads events.count(type, window), events.sum(type, field,
// window) and events.last(type).
func (v *termVisitor) eventArgs(t *eventTerm, call *ast.CallNode) error {
	strs := make([]string, len(call.Arguments))
	for i, a := range call.Arguments {
		s, ok := a.(*ast.StringNode)
		if !ok {
			return placed(v.rule, a, "the arguments of events.%s must be written out as strings (such as \"purchase\", \"7d\")", kindName(t.kind))
		}
		if s.Value == "" {
			return placed(v.rule, a, "an empty string is not an event type, field or window")
		}
		strs[i] = s.Value
	}
	t.typ = strs[0]
	switch t.kind {
	case tkCount:
		t.window = strs[1]
	case tkSum:
		t.field, t.window = strs[1], strs[2]
	}
	if t.window != "" {
		d, err := parseWindow(t.window)
		if err != nil {
			return placed(v.rule, call.Arguments[len(call.Arguments)-1], "%s", err.Error())
		}
		t.dur = d
	}
	return nil
}

// campaignArg reads opened(campaign) and clicked(campaign): an id or a
// name.
func (v *termVisitor) campaignArg(t *eventTerm, call *ast.CallNode) error {
	if len(call.Arguments) != 1 {
		return placed(v.rule, call, "%s takes one campaign: its id or its name", kindName(t.kind))
	}
	switch a := call.Arguments[0].(type) {
	case *ast.IntegerNode:
		if a.Value <= 0 {
			return placed(v.rule, a, "there is no campaign #%d", a.Value)
		}
		t.campID = int64(a.Value)
		return nil
	case *ast.StringNode:
		if a.Value == "" {
			return placed(v.rule, a, "an empty string is not a campaign name")
		}
		t.camp = a.Value
		return nil
	}
	return placed(v.rule, call.Arguments[0], "%s takes a campaign id (such as 12) or name (such as \"Nowruz sale\") written out", kindName(t.kind))
}

func kindName(k termKind) string {
	return [...]string{"", "count", "sum", "last", "opened", "clicked"}[k]
}

// strayFinder finds events, opened or clicked used other than as a call
// (events == nil, opened alone): they are not values a rule can use.
type strayFinder struct {
	callees map[ast.Node]bool
	found   ast.Node
	why     string
}

func (f *strayFinder) Visit(n *ast.Node) {
	id, ok := (*n).(*ast.IdentifierNode)
	if !ok || f.found != nil || f.callees[id] {
		return
	}
	switch id.Value {
	case "events":
		f.found, f.why = id, "events is used as events.count(type, window), events.sum(type, field, window) or events.last(type)"
	case "opened", "clicked":
		f.found, f.why = id, id.Value+" is used as "+id.Value+"(campaign)"
	}
}

// startOf is the leftmost node of n: a member access or a call is placed
// at its dot or parenthesis, and an error reads better at its start.
func startOf(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.MemberNode:
			n = x.Node
		case *ast.CallNode:
			n = x.Callee
		case *ast.ChainNode:
			n = x.Node
		default:
			return n
		}
	}
}
