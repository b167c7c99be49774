package segments

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// The SQL translation of a segment rule.
//
// A rule translates when every node belongs to the subset below; anything
// else makes the whole rule run in Go. The translation must select exactly
// the contacts the Go path selects, including expr's runtime semantics on
// JSON attribute values:
//
//   - an attribute is missing or JSON null → nil; == nil is true for both;
//   - == and != never fail: values of different types are unequal, numbers
//     compare as float64 whatever their literal type;
//   - <, <=, >, >= fail at run time unless both sides are numbers or both
//     strings (strings compare bytewise, hence COLLATE "C");
//   - contains, startsWith, endsWith and matches are false on nil and fail on
//     anything else that is not a string;
//   - `x in [a, b]` is x == a || x == b (the optimiser, which would make it
//     a map lookup, is off);
//   - a failure anywhere makes the whole rule fail for that contact, and a
//     failing contact does not match; && and || short-circuit left to right.
//
// A translated boolean is SQL that may be NULL exactly where Go fails
// ("mayFail"); and/or keep Go's short-circuit order with CASE when the left
// side may fail, and WHERE drops NULL rows as Go drops failing contacts.
// Every value is a parameter: a rule can never inject SQL.

// translator accumulates the parameters of one translation.
type translator struct {
	args []any
	base int // parameters before ours
	now  time.Time
}

func (t *translator) arg(v any) string {
	t.args = append(t.args, v)
	return "$" + strconv.Itoa(t.base+len(t.args))
}

// sqlWhere is a translated rule: a boolean SQL expression over contacts c,
// with its parameters numbered after base.
type sqlWhere struct {
	sql  string
	args []any
}

// conjuncts returns the operands of a top-level chain of &&.
func conjuncts(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Node{n}
}

// prefilter returns the translatable conjuncts of a rule that is not
// translatable as a whole. A contact the rule matches satisfies every
// conjunct (evaluated without error), so SQL may drop the contacts failing
// any of them before Go evaluates the whole rule on the rest.
func prefilter(n ast.Node) []ast.Node {
	var out []ast.Node
	for _, c := range conjuncts(n) {
		if _, ok := translate(c, time.Time{}, 0); ok {
			out = append(out, c)
		}
	}
	return out
}

// translate turns the tree into SQL; ok is false when some node is outside
// the translatable subset.
func translate(n ast.Node, now time.Time, base int) (sqlWhere, bool) {
	t := &translator{base: base, now: now}
	b, ok := t.boolean(n)
	if !ok {
		return sqlWhere{}, false
	}
	return sqlWhere{sql: b.sql, args: t.args}, true
}

// boolSQL is a translated predicate; mayFail marks SQL that is NULL where
// the Go evaluation fails.
type boolSQL struct {
	sql     string
	mayFail bool
}

func (t *translator) boolean(n ast.Node) (boolSQL, bool) {
	switch x := n.(type) {
	case *ast.BoolNode:
		if x.Value {
			return boolSQL{sql: "TRUE"}, true
		}
		return boolSQL{sql: "FALSE"}, true
	case *ast.UnaryNode:
		if x.Operator != "not" && x.Operator != "!" {
			return boolSQL{}, false
		}
		in, ok := t.boolean(x.Node)
		return boolSQL{sql: "(NOT " + in.sql + ")", mayFail: in.mayFail}, ok
	case *ast.CallNode:
		return t.call(x)
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and", "||", "or":
			return t.logical(x)
		case "==", "!=", "<", "<=", ">", ">=":
			return t.compare(x)
		case "in":
			return t.in(x)
		case "contains", "startsWith", "endsWith", "matches":
			return t.stringOp(x)
		}
	}
	return boolSQL{}, false
}

func (t *translator) logical(x *ast.BinaryNode) (boolSQL, bool) {
	l, ok := t.boolean(x.Left)
	if !ok {
		return boolSQL{}, false
	}
	r, ok := t.boolean(x.Right)
	if !ok {
		return boolSQL{}, false
	}
	op := " AND "
	if x.Operator == "||" || x.Operator == "or" {
		op = " OR "
	}
	// With a left side that is never NULL, SQL's three-valued AND/OR is
	// exactly Go's short-circuit: FALSE AND fail = FALSE, TRUE AND fail = fail.
	s := "(" + l.sql + op + r.sql + ")"
	if l.mayFail {
		s = "(CASE WHEN " + l.sql + " IS NULL THEN NULL ELSE " + s + " END)"
	}
	return boolSQL{sql: s, mayFail: l.mayFail || r.mayFail}, true
}

func (t *translator) call(x *ast.CallNode) (boolSQL, bool) {
	if b, ok := t.engagedCall(x); ok {
		return b, true
	}
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "has_tag" || len(x.Arguments) != 1 {
		return boolSQL{}, false
	}
	s, ok := x.Arguments[0].(*ast.StringNode)
	if !ok {
		return boolSQL{}, false
	}
	return boolSQL{sql: "(c.tags @> ARRAY[" + t.arg(s.Value) + "::text])"}, true
}

// Operand kinds.
type opKind int

const (
	kText  opKind = iota + 1 // a non-null text column
	kInt                     // a non-null integer expression
	kFloat                   // a non-null float8 expression
	kAttr                    // a JSON attribute (key in sql)
)

type operand struct {
	kind opKind
	sql  string // the column expression, or for kAttr the attribute key
}

// fields are the typed contact and stats fields.
var fields = map[string]map[string]operand{
	"contact": {
		"id":     {kInt, "c.id"},
		"email":  {kText, "c.email"},
		"name":   {kText, "c.name"},
		"status": {kText, "c.status"},
	},
	"stats": {
		"sent":        {kInt, statColumn("sent", "0")},
		"opens":       {kInt, statColumn("opens", "0")},
		"clicks":      {kInt, statColumn("clicks", "0")},
		"conversions": {kInt, "c.conversions"},
		"revenue":     {kFloat, "c.revenue::float8"},
	},
	"rfm": {
		"recency":   {kInt, scoreColumn("rfm_recency::int", "0")},
		"frequency": {kInt, scoreColumn("rfm_frequency::int", "0")},
		"monetary":  {kInt, scoreColumn("rfm_monetary::int", "0")},
		"segment":   {kText, scoreColumn("rfm_segment", "''::text")},
		"value":     {kFloat, scoreColumn("value", "0::float8")},
	},
	"churn":    {"risk": {kFloat, scoreColumn("churn_risk", "0::float8")}},
	"response": {"likelihood": {kFloat, scoreColumn("response_likelihood", "0::float8")}},
	"cluster":  {"id": {kInt, scoreColumn("cluster_id", "0")}},
	"consent": {
		"source": {kText, "COALESCE(c.consent_source, '')"},
		"ip":     {kText, "COALESCE(host(c.consent_ip), '')"},
	},
}

// timeFields are the timestamps days_since can take; NULL is the zero time.
var timeFields = map[string]map[string]string{
	"contact": {"created_at": "c.created_at"},
	"stats":   {"last_open_at": statColumn("last_open_at", "NULL"), "last_click_at": statColumn("last_click_at", "NULL"), "last_purchase_at": "c.last_purchase_at"},
	"consent": {"at": "c.consent_at"},
}

// timeColumn is the SQL of a timestamp days_since and date comparisons
// can take (NULL: the zero time).
func (t *translator) timeColumn(n ast.Node) (string, bool) {
	if col, ok := t.lastAtColumn(n); ok {
		return col, true
	}
	obj, field, ok := path(n)
	if !ok {
		return "", false
	}
	col, ok := timeFields[obj][field]
	return col, ok
}

// path returns the (object, field) of contact.x, stats.x, rfm.x, churn.x,
// response.x, cluster.x or contact.consent.x, with property names as written.
func path(n ast.Node) (obj, field string, ok bool) {
	m, isM := n.(*ast.MemberNode)
	if !isM || m.Optional || m.Method {
		return "", "", false
	}
	p, isS := m.Property.(*ast.StringNode)
	if !isS {
		return "", "", false
	}
	switch inner := m.Node.(type) {
	case *ast.IdentifierNode:
		if inner.Value == "contact" || inner.Value == "stats" || scoreObjects[inner.Value] {
			return inner.Value, p.Value, true
		}
	case *ast.MemberNode:
		if o, f, ok := path(inner); ok && o == "contact" && f == "consent" {
			return "consent", p.Value, true
		}
		if o, f, ok := path(inner); ok && o == "contact" && f == "attributes" {
			return "attributes", p.Value, true
		}
	}
	return "", "", false
}

func (t *translator) operand(n ast.Node) (operand, bool) {
	if o, ok := t.eventOperand(n); ok {
		return o, true
	}
	if call, ok := n.(*ast.CallNode); ok {
		return t.daysSince(call)
	}
	if b, ok := n.(*ast.BuiltinNode); ok {
		// len(contact.tags): the number of tags.
		if b.Name != "len" || len(b.Arguments) != 1 {
			return operand{}, false
		}
		if obj, field, ok := path(b.Arguments[0]); ok && obj == "contact" && field == "tags" {
			return operand{kind: kInt, sql: "cardinality(c.tags)"}, true
		}
		return operand{}, false
	}
	obj, field, ok := path(n)
	if !ok {
		return operand{}, false
	}
	if obj == "attributes" {
		return operand{kind: kAttr, sql: field}, true
	}
	op, ok := fields[obj][field]
	return op, ok
}

func (t *translator) daysSince(call *ast.CallNode) (operand, bool) {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "days_since" || len(call.Arguments) != 1 {
		return operand{}, false
	}
	col, ok := t.timeColumn(call.Arguments[0])
	if !ok {
		return operand{}, false
	}
	// Whole seconds, rounded down, as segmentEnv.daysSince.
	s := "floor((" + t.arg(t.now.Unix()) + "::bigint - floor(extract(epoch FROM COALESCE(" + col +
		", '0001-01-01 00:00:00+00'::timestamptz)))) / 86400)"
	return operand{kind: kInt, sql: s}, true
}

// maxDays bounds the day counts a rule may compare days_since with (about
// 2,700 years), so the instants daysCompare makes stay within PostgreSQL's
// timestamps; checkBounds refuses larger ones when the rule is saved.
const maxDays = 1_000_000

// daysCompare turns `days_since(t) op n` into a comparison of t with an
// instant computed once, so PostgreSQL does no arithmetic per row.
// days_since(t) = ⌊(now_s − ⌊t⌋_s) / 86400⌋ ≤ n exactly when
// ⌊t⌋_s > now_s − 86400(n+1), that is when t ≥ cut(n) = now_s − 86400(n+1) + 1.
func (t *translator) daysCompare(call *ast.CallNode, op string, n int) (string, bool) {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "days_since" || len(call.Arguments) != 1 || n > maxDays || n < -maxDays {
		return "", false
	}
	col, ok := t.timeColumn(call.Arguments[0])
	if !ok {
		return "", false
	}
	nowS := t.now.Unix()
	cut := func(n int) time.Time { // days_since(t) <= n  ⟺  t >= cut(n)
		return time.Unix(nowS-86400*int64(n+1)+1, 0).UTC()
	}
	var tests []timeTest
	join := " AND "
	switch op {
	case "<=":
		tests = []timeTest{{">=", cut(n)}}
	case "<":
		tests = []timeTest{{">=", cut(n - 1)}}
	case ">":
		tests = []timeTest{{"<", cut(n)}}
	case ">=":
		tests = []timeTest{{"<", cut(n - 1)}}
	case "==":
		tests = []timeTest{{">=", cut(n)}, {"<", cut(n - 1)}}
	case "!=":
		tests = []timeTest{{"<", cut(n)}, {">=", cut(n - 1)}}
		join = " OR "
	default:
		return "", false
	}
	return t.timeTests(col, tests, join), true
}

// zeroTime is the instant a missing timestamp reads as on both paths.
var zeroTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)

const zeroTimeSQL = "'0001-01-01 00:00:00+00'::timestamptz"

// timeTest is one comparison `col op at` of a timestamp column.
type timeTest struct {
	op string // <, <=, > or >=
	at time.Time
}

func (tt timeTest) holds(v time.Time) bool {
	switch tt.op {
	case "<":
		return v.Before(tt.at)
	case "<=":
		return !v.After(tt.at)
	case ">":
		return v.After(tt.at)
	default:
		return !v.Before(tt.at)
	}
}

// timeTests is the SQL of the tests of col joined by join (" AND " or
// " OR "), a missing timestamp reading as the zero time. When col is a
// contact_stats column and the tests are false at the zero time (the
// usual `days_since(stats.last_open_at) <= 30`), it reads the bare column
// instead of COALESCE'ing it: see bareStat.
func (t *translator) timeTests(col string, tests []timeTest, join string) string {
	atZero := join == " AND "
	for _, tt := range tests {
		if join == " AND " {
			atZero = atZero && tt.holds(zeroTime)
		} else {
			atZero = atZero || tt.holds(zeroTime)
		}
	}
	bare, isStat := bareStat(col)
	lhs := "COALESCE(" + col + ", " + zeroTimeSQL + ")"
	if isStat && !atZero {
		lhs = bare
	}
	parts := make([]string, len(tests))
	for i, tt := range tests {
		parts[i] = lhs + " " + tt.op + " " + t.arg(tt.at) + "::timestamptz"
	}
	sql := "(" + strings.Join(parts, join) + ")"
	if isStat && !atZero {
		return "(" + sql + " AND " + bare + " IS NOT NULL)"
	}
	return sql
}

// literal is a constant in the rule.
type literal struct {
	v    any // string, int, float64, bool or nil
	null bool
}

func asLiteral(n ast.Node) (literal, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return literal{v: x.Value}, true
	case *ast.IntegerNode:
		return literal{v: x.Value}, true
	case *ast.FloatNode:
		return literal{v: x.Value}, true
	case *ast.BoolNode:
		return literal{v: x.Value}, true
	case *ast.NilNode:
		return literal{null: true}, true
	case *ast.UnaryNode:
		if x.Operator != "-" && x.Operator != "+" {
			return literal{}, false
		}
		l, ok := asLiteral(x.Node)
		if !ok {
			return literal{}, false
		}
		neg := x.Operator == "-"
		switch v := l.v.(type) {
		case int:
			if neg {
				v = -v
			}
			return literal{v: v}, true
		case float64:
			if neg {
				v = -v
			}
			return literal{v: v}, true
		}
	}
	return literal{}, false
}

func (l literal) number() (float64, bool) {
	switch v := l.v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

var flipped = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func (t *translator) compare(x *ast.BinaryNode) (boolSQL, bool) {
	if sql, ok := t.dateCompare(x); ok {
		return sql, true
	}
	op := x.Operator
	left, right := x.Left, x.Right
	if _, isLit := asLiteral(left); isLit {
		left, right, op = right, left, flipped[op]
	}
	lit, ok := asLiteral(right)
	if !ok {
		return boolSQL{}, false
	}
	if b, ok := t.eventCompare(left, op, lit); ok {
		return b, true
	}
	if call, isCall := left.(*ast.CallNode); isCall {
		if n, isInt := lit.v.(int); isInt {
			if sql, ok := t.daysCompare(call, op, n); ok {
				return boolSQL{sql: sql}, true
			}
		}
	}
	o, ok := t.operand(left)
	if !ok {
		return boolSQL{}, false
	}
	if o.kind == kAttr {
		return t.compareAttr(o.sql, op, lit)
	}
	sqlOp := op
	if op == "==" {
		sqlOp = "="
	} else if op == "!=" {
		sqlOp = "<>"
	}
	switch o.kind {
	case kText:
		s, isStr := lit.v.(string)
		if !isStr {
			return boolSQL{}, false
		}
		return boolSQL{sql: "(" + o.sql + " COLLATE \"C\" " + sqlOp + " " + t.arg(s) + "::text)"}, true
	case kInt:
		// A counter compared so that zero does not match (stats.opens >= 3,
		// stats.clicks > 0) reads the bare column: see bareStat.
		bare, isStat := bareStat(o.sql)
		if i, isInt := lit.v.(int); isInt {
			if isStat && !holdsAtZero(op, float64(i)) {
				return boolSQL{sql: "(" + bare + " " + sqlOp + " " + t.arg(int64(i)) + "::bigint AND " + bare + " IS NOT NULL)"}, true
			}
			return boolSQL{sql: "(" + o.sql + " " + sqlOp + " " + t.arg(int64(i)) + "::bigint)"}, true
		}
		if f, isF := lit.v.(float64); isF {
			if isStat && !holdsAtZero(op, f) {
				return boolSQL{sql: "((" + bare + ")::float8 " + sqlOp + " " + t.arg(f) + "::float8 AND " + bare + " IS NOT NULL)"}, true
			}
			return boolSQL{sql: "((" + o.sql + ")::float8 " + sqlOp + " " + t.arg(f) + "::float8)"}, true
		}
	case kFloat:
		if f, isNum := lit.number(); isNum {
			return boolSQL{sql: "(" + o.sql + " " + sqlOp + " " + t.arg(f) + "::float8)"}, true
		}
	}
	return boolSQL{}, false
}

// attrEq is the never-NULL SQL for `attributes[key] == lit`.
func (t *translator) attrEq(key string, lit literal) (string, bool) {
	a := "c.attributes -> " + t.arg(key) + "::text"
	if lit.null {
		return "(" + a + " IS NULL OR jsonb_typeof(" + a + ") = 'null')", true
	}
	switch v := lit.v.(type) {
	case string:
		// @> lets the GIN index narrow the scan; the second test is exact.
		return "(c.attributes @> " + t.arg(map[string]any{key: v}) + "::jsonb AND COALESCE(" + a +
			" = to_jsonb(" + t.arg(v) + "::text), FALSE))", true
	case bool:
		return "(c.attributes @> " + t.arg(map[string]any{key: v}) + "::jsonb AND COALESCE(" + a +
			" = to_jsonb(" + t.arg(v) + "::boolean), FALSE))", true
	}
	if f, ok := lit.number(); ok {
		return "(CASE WHEN jsonb_typeof(" + a + ") = 'number' THEN (" + a + ")::float8 = " + t.arg(f) + "::float8 ELSE FALSE END)", true
	}
	return "", false
}

func (t *translator) compareAttr(key, op string, lit literal) (boolSQL, bool) {
	switch op {
	case "==", "!=":
		eq, ok := t.attrEq(key, lit)
		if !ok {
			return boolSQL{}, false
		}
		if op == "!=" {
			eq = "(NOT " + eq + ")"
		}
		return boolSQL{sql: eq}, true
	}
	a := "c.attributes -> " + t.arg(key) + "::text"
	if s, ok := lit.v.(string); ok {
		return boolSQL{sql: "(CASE WHEN jsonb_typeof(" + a + ") = 'string' THEN (" + a + " #>> '{}') COLLATE \"C\" " + op + " " +
			t.arg(s) + "::text ELSE NULL END)", mayFail: true}, true
	}
	if f, ok := lit.number(); ok {
		return boolSQL{sql: "(CASE WHEN jsonb_typeof(" + a + ") = 'number' THEN (" + a + ")::float8 " + op + " " +
			t.arg(f) + "::float8 ELSE NULL END)", mayFail: true}, true
	}
	return boolSQL{}, false
}

func (t *translator) in(x *ast.BinaryNode) (boolSQL, bool) {
	// "tag" in contact.tags
	if s, ok := x.Left.(*ast.StringNode); ok {
		if obj, field, ok := path(x.Right); ok && obj == "contact" && field == "tags" {
			return boolSQL{sql: "(c.tags @> ARRAY[" + t.arg(s.Value) + "::text])"}, true
		}
		if obj, field, ok := path(x.Right); ok && obj == "contact" && field == "topics" {
			return boolSQL{sql: topicMemberSQL(t.arg(s.Value))}, true
		}
		return boolSQL{}, false
	}
	arr, ok := x.Right.(*ast.ArrayNode)
	if !ok {
		return boolSQL{}, false
	}
	o, ok := t.operand(x.Left)
	if !ok {
		return boolSQL{}, false
	}
	lits := make([]literal, len(arr.Nodes))
	var strs []string
	var ints []int64
	for i, n := range arr.Nodes {
		if lits[i], ok = asLiteral(n); !ok {
			return boolSQL{}, false
		}
		switch v := lits[i].v.(type) {
		case string:
			strs = append(strs, v)
		case int:
			ints = append(ints, int64(v))
		}
	}
	if len(lits) == 0 {
		return boolSQL{sql: "FALSE"}, true
	}
	allStrings, allInts := len(strs) == len(lits), len(ints) == len(lits)
	switch o.kind {
	case kText:
		if allStrings {
			return boolSQL{sql: "(" + o.sql + " = ANY(" + t.arg(strs) + "::text[]))"}, true
		}
	case kInt:
		if allInts {
			return boolSQL{sql: "(" + o.sql + " = ANY(" + t.arg(ints) + "::bigint[]))"}, true
		}
	case kAttr:
		// Each element is compared with ==, which never fails.
		parts := make([]string, len(lits))
		for i, l := range lits {
			if parts[i], ok = t.attrEq(o.sql, l); !ok {
				return boolSQL{}, false
			}
		}
		return boolSQL{sql: "(" + strings.Join(parts, " OR ") + ")"}, true
	}
	return boolSQL{}, false
}

func (t *translator) stringOp(x *ast.BinaryNode) (boolSQL, bool) {
	o, ok := t.operand(x.Left)
	if !ok || (o.kind != kText && o.kind != kAttr) {
		return boolSQL{}, false
	}
	s, ok := x.Right.(*ast.StringNode)
	if !ok {
		return boolSQL{}, false
	}
	test := func(v string) (string, bool) {
		switch x.Operator {
		case "contains":
			return "(strpos(" + v + ", " + t.arg(s.Value) + "::text) > 0)", true
		case "startsWith":
			return "starts_with(" + v + ", " + t.arg(s.Value) + "::text)", true
		case "endsWith":
			// LIKE '%suffix' (wildcards in the suffix escaped) is a byte
			// suffix match on UTF-8 text, as Go's, and far cheaper per row
			// than right(v, length(suffix)).
			return "(" + v + " LIKE " + t.arg("%"+likeEscaper.Replace(s.Value)) + "::text)", true
		default:
			re, ok := pgRegexp(s.Value)
			if !ok {
				return "", false
			}
			return "(" + v + " ~ " + t.arg(re) + "::text)", true
		}
	}
	if o.kind == kText {
		sql, ok := test(o.sql)
		return boolSQL{sql: sql}, ok
	}
	a := "c.attributes -> " + t.arg(o.sql) + "::text"
	sql, ok := test("(" + a + " #>> '{}')")
	if !ok {
		return boolSQL{}, false
	}
	return boolSQL{sql: "(CASE WHEN " + a + " IS NULL OR jsonb_typeof(" + a + ") = 'null' THEN FALSE WHEN jsonb_typeof(" + a +
		") = 'string' THEN " + sql + " ELSE NULL END)", mayFail: true}, true
}

// likeEscaper escapes LIKE's wildcards and its escape character (the
// default, backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// String renders a translation for debugging and docs.
func (w sqlWhere) String() string { return fmt.Sprintf("%s %v", w.sql, w.args) }
