package segments

import (
	"github.com/expr-lang/expr/ast"
)

// The SQL of event terms, shared by both paths: the SQL path compares
// these expressions in its WHERE clause, the Go path selects them as
// columns of the page it reads and evaluates the rule on their values, so
// a term means the same on both. Each is a subquery on one contact's rows,
// found through transactions (contact_id, occurred_at) and deliveries
// (contact_id, campaign_id).

// eventWhere is the condition on transactions t for an event of the
// term's type within its window (up to now when it has none).
func (t *translator) eventWhere(term eventTerm) string {
	w := "t.contact_id = c.id AND t.type = " + t.arg(term.typ) + "::text"
	if term.window != "" {
		w += " AND t.occurred_at >= " + t.arg(t.now.Add(-term.dur)) + "::timestamptz"
	}
	return w + " AND t.occurred_at <= " + t.arg(t.now) + "::timestamptz"
}

// countSQL is events.count: a bigint, never NULL.
func (t *translator) countSQL(term eventTerm) string {
	return "(SELECT count(*) FROM transactions t WHERE " + t.eventWhere(term) + ")"
}

// existsSQL is events.count(…) > 0, and events.last(…) != nil.
func (t *translator) existsSQL(term eventTerm) string {
	return "EXISTS (SELECT 1 FROM transactions t WHERE " + t.eventWhere(term) + ")"
}

// sumSQL is events.sum: a float8, never NULL. The sum is taken in
// numeric, exactly, whatever the order of the rows; an attribute adds
// only where it is a JSON number.
func (t *translator) sumSQL(term eventTerm) string {
	v := "t.value"
	if term.field != "value" {
		a := "t.attributes -> " + t.arg(term.field) + "::text"
		v = "CASE WHEN jsonb_typeof(" + a + ") = 'number' THEN (" + a + ")::numeric END"
	}
	return "(SELECT COALESCE(sum(" + v + "), 0)::float8 FROM transactions t WHERE " + t.eventWhere(term) + ")"
}

// lastSQL is one column of events.last (NULL when there is none): the
// latest event up to now, the highest id among equal times.
func (t *translator) lastSQL(term eventTerm, col string) string {
	return "(SELECT " + col + " FROM transactions t WHERE " + t.eventWhere(term) +
		" ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1)"
}

// engagedSQL is opened(campaign) or clicked(campaign): a human open or
// click (deliveries' firsts) of any step of the campaign, up to now. A
// name reads every campaign of that name (saving refuses a name that
// matches several or none).
func (t *translator) engagedSQL(term eventTerm) string {
	col := "d.first_open_at"
	if term.kind == tkClicked {
		col = "d.first_click_at"
	}
	var camp string
	if term.camp != "" {
		camp = "d.campaign_id IN (SELECT k.id FROM campaigns k WHERE k.name = " + t.arg(term.camp) + "::text)"
	} else {
		camp = "d.campaign_id = " + t.arg(term.campID) + "::bigint"
	}
	return "EXISTS (SELECT 1 FROM deliveries d WHERE d.contact_id = c.id AND " + camp + " AND " + col + " <= " +
		t.arg(t.now) + "::timestamptz)"
}

// termColumns are the Go path's columns for one term, and where each goes.
func (t *translator) termColumns(term eventTerm, i int) ([]string, []envTarget) {
	switch term.kind {
	case tkCount:
		return []string{t.countSQL(term)}, []envTarget{{col: ecTermN, key: i}}
	case tkSum:
		return []string{t.sumSQL(term)}, []envTarget{{col: ecTermF, key: i}}
	case tkLast:
		return []string{t.lastSQL(term, "t.occurred_at"), t.lastSQL(term, "t.value::float8"), t.lastSQL(term, "t.currency"),
				t.lastSQL(term, "t.attributes")},
			[]envTarget{{col: ecTermAt, key: i}, {col: ecTermF, key: i}, {col: ecTermCur, key: i}, {col: ecTermAttrs, key: i}}
	default:
		return []string{"(" + t.engagedSQL(term) + ")::int"}, []envTarget{{col: ecTermN, key: i}}
	}
}

// termOf reads the term of an event call (nil when n is none, or its
// arguments are not literals).
func termOf(n ast.Node) (eventTerm, bool) {
	if _, ok := n.(*ast.CallNode); !ok {
		return eventTerm{}, false
	}
	v := &termVisitor{callees: map[ast.Node]bool{}}
	v.Visit(&n)
	if v.err != nil || len(v.terms) != 1 {
		return eventTerm{}, false
	}
	return v.terms[0], true
}

// eventOperand translates events.count(…), events.sum(…) and the value
// and currency of events.last(…) (zero when there is none, as the Go
// path's lastEventPatch reads them).
func (t *translator) eventOperand(n ast.Node) (operand, bool) {
	if term, ok := termOf(n); ok {
		switch term.kind {
		case tkCount:
			return operand{kind: kInt, sql: t.countSQL(term)}, true
		case tkSum:
			return operand{kind: kFloat, sql: t.sumSQL(term)}, true
		}
		return operand{}, false
	}
	m, ok := unchain(n).(*ast.MemberNode)
	if !ok || m.Method {
		return operand{}, false
	}
	p, ok := m.Property.(*ast.StringNode)
	if !ok || !isEventCall(m.Node, "last") {
		return operand{}, false
	}
	term, ok := termOf(m.Node)
	if !ok {
		return operand{}, false
	}
	switch p.Value {
	case "value":
		return operand{kind: kFloat, sql: "COALESCE(" + t.lastSQL(term, "t.value::float8") + ", 0)"}, true
	case "currency":
		return operand{kind: kText, sql: "COALESCE(" + t.lastSQL(term, "t.currency") + ", '')"}, true
	}
	return operand{}, false
}

// lastAtColumn is the SQL of events.last(…).at (NULL when there is none:
// the callers read NULL as the zero time, as the Go path does).
func (t *translator) lastAtColumn(n ast.Node) (string, bool) {
	m, ok := unchain(n).(*ast.MemberNode)
	if !ok || m.Method {
		return "", false
	}
	p, ok := m.Property.(*ast.StringNode)
	if !ok || p.Value != "at" || !isEventCall(m.Node, "last") {
		return "", false
	}
	term, ok := termOf(m.Node)
	if !ok {
		return "", false
	}
	return t.lastSQL(term, "t.occurred_at"), true
}

// eventCompare translates the comparisons with a cheaper form than a
// compared subquery: events.count(…) against 0 or 1 as EXISTS (PostgreSQL
// can run it as a semi- or anti-join) and events.last(…) against nil.
func (t *translator) eventCompare(left ast.Node, op string, lit literal) (boolSQL, bool) {
	term, ok := termOf(left)
	if !ok {
		return boolSQL{}, false
	}
	switch {
	case term.kind == tkLast && lit.null && (op == "==" || op == "!="):
		s := t.existsSQL(term)
		if op == "==" {
			s = "(NOT " + s + ")"
		}
		return boolSQL{sql: s}, true
	case term.kind == tkCount:
		n, isInt := lit.v.(int)
		if !isInt {
			return boolSQL{}, false
		}
		some := (op == ">" && n == 0) || (op == ">=" && n == 1) || (op == "!=" && n == 0)
		none := (op == "==" && n == 0) || (op == "<" && n == 1) || (op == "<=" && n == 0)
		if some {
			return boolSQL{sql: t.existsSQL(term)}, true
		}
		if none {
			return boolSQL{sql: "(NOT " + t.existsSQL(term) + ")"}, true
		}
	}
	return boolSQL{}, false
}

// engagedCall translates opened(campaign) and clicked(campaign).
func (t *translator) engagedCall(x *ast.CallNode) (boolSQL, bool) {
	term, ok := termOf(x)
	if !ok || (term.kind != tkOpened && term.kind != tkClicked) {
		return boolSQL{}, false
	}
	return boolSQL{sql: t.engagedSQL(term)}, true
}

// unchain is n without the chain node ?. wraps it in: events.last(t)?.f
// reads as events.last(t).f, missing being zero either way.
func unchain(n ast.Node) ast.Node {
	if c, ok := n.(*ast.ChainNode); ok {
		return c.Node
	}
	return n
}
