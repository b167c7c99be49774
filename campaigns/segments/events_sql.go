package segments

import (
	"strconv"

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
	return "t.contact_id = c.id AND " + t.eventFilter(term)
}

// eventFilter is eventWhere for every contact at once.
func (t *translator) eventFilter(term eventTerm) string {
	w := "t.type = " + t.arg(term.typ) + "::text"
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
	return "(SELECT COALESCE(sum(" + t.sumValue(term) + "), 0)::float8 FROM transactions t WHERE " + t.eventWhere(term) + ")"
}

// sumValue is what events.sum adds up of one event t: its value, or the
// attribute when it is a JSON number (NULL, adding nothing, otherwise).
func (t *translator) sumValue(term eventTerm) string {
	if term.field == "value" {
		return "t.value"
	}
	a := "t.attributes -> " + t.arg(term.field) + "::text"
	return "CASE WHEN jsonb_typeof(" + a + ") = 'number' THEN (" + a + ")::numeric END"
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

// termColumns are the Go path's columns for one term, where each goes
// and, for a last event, the lateral join that reads its row once.
func (t *translator) termColumns(term eventTerm, i int) ([]string, string, []envTarget) {
	switch term.kind {
	case tkCount:
		return []string{t.countSQL(term)}, "", []envTarget{{col: ecTermN, key: i}}
	case tkSum:
		return []string{t.sumSQL(term)}, "", []envTarget{{col: ecTermF, key: i}}
	case tkLast:
		l := "ev" + strconv.Itoa(i)
		join := " LEFT JOIN LATERAL (SELECT t.occurred_at, t.value::float8 AS v, t.currency, t.attributes FROM transactions t WHERE " +
			t.eventWhere(term) + " ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) " + l + " ON TRUE"
		return []string{l + ".occurred_at", l + ".v", l + ".currency", l + ".attributes"}, join,
			[]envTarget{{col: ecTermAt, key: i}, {col: ecTermF, key: i}, {col: ecTermCur, key: i}, {col: ecTermAttrs, key: i}}
	default:
		return []string{"(" + t.engagedSQL(term) + ")::int"}, "", []envTarget{{col: ecTermN, key: i}}
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
	if m, ok := unchain(left).(*ast.MemberNode); ok && !m.Method && isEventCall(m.Node, "last") {
		p, isS := m.Property.(*ast.StringNode)
		term, isTerm := termOf(m.Node)
		if isS && isTerm && p.Value == "value" {
			return t.lastCompare(term, op, lit)
		}
		return boolSQL{}, false
	}
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
		some := isInt && ((op == ">" && n == 0) || (op == ">=" && n == 1) || (op == "!=" && n == 0))
		none := isInt && ((op == "==" && n == 0) || (op == "<" && n == 1) || (op == "<=" && n == 0))
		if some {
			return boolSQL{sql: t.existsSQL(term)}, true
		}
		if none {
			return boolSQL{sql: "(NOT " + t.existsSQL(term) + ")"}, true
		}
		return t.groupCompare(term, op, lit)
	case term.kind == tkSum:
		return t.groupCompare(term, op, lit)
	}
	return boolSQL{}, false
}

// sqlOps are expr's comparison operators in SQL.
var sqlOps = map[string]string{"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

// holdsAtZero is `0 op f`: what the comparison says of a contact without
// events (count and sum 0, a missing last event's value 0).
func holdsAtZero(op string, f float64) bool {
	switch op {
	case "==":
		return f == 0
	case "!=":
		return f != 0
	case "<":
		return 0 < f
	case "<=":
		return 0 <= f
	case ">":
		return 0 > f
	default:
		return 0 >= f
	}
}

// groupCompare translates `events.count(…) op n` and `events.sum(…) op n`
// as one pass over the window's events grouped by contact, rather than a
// subquery per contact: the contacts whose aggregate satisfies the
// comparison when a contact without events does not (IN), or all but
// those whose aggregate fails it when one does (NOT IN). The aggregates
// are those of countSQL and sumSQL, compared as float8 as expr compares
// an int with a float.
func (t *translator) groupCompare(term eventTerm, op string, lit literal) (boolSQL, bool) {
	f, ok := lit.number()
	if !ok {
		return boolSQL{}, false
	}
	agg := "count(*)::float8"
	if term.kind == tkSum {
		agg = "COALESCE(sum(" + t.sumValue(term) + "), 0)::float8"
	}
	pred := agg + " " + sqlOps[op] + " " + t.arg(f) + "::float8"
	return t.setOf("SELECT t.contact_id FROM transactions t WHERE "+t.eventFilter(term)+" GROUP BY t.contact_id HAVING ", pred,
		holdsAtZero(op, f)), true
}

// lastCompare translates `events.last(…).value op n` as one pass over the
// type's events up to now, keeping each contact's latest (lastSQL's
// order), as groupCompare does for aggregates.
func (t *translator) lastCompare(term eventTerm, op string, lit literal) (boolSQL, bool) {
	f, ok := lit.number()
	if !ok {
		return boolSQL{}, false
	}
	pred := "l.v " + sqlOps[op] + " " + t.arg(f) + "::float8"
	return t.setOf("SELECT l.contact_id FROM (SELECT DISTINCT ON (t.contact_id) t.contact_id, t.value::float8 AS v FROM transactions t WHERE "+
		t.eventFilter(term)+" ORDER BY t.contact_id, t.occurred_at DESC, t.id DESC) l WHERE ", pred, holdsAtZero(op, f)), true
}

// setOf is c.id IN (q pred), or when contacts without events satisfy the
// comparison c.id NOT IN (q NOT pred); pred is never NULL, and
// contact_id never is.
func (t *translator) setOf(q, pred string, zero bool) boolSQL {
	if zero {
		return boolSQL{sql: "(c.id NOT IN (" + q + "NOT (" + pred + ")))"}
	}
	return boolSQL{sql: "(c.id IN (" + q + pred + "))"}
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
