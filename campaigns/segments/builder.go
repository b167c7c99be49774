package segments

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/errs"
)

// Node is one node of the segment builder's tree, the click-through form of
// a rule: a group (Match "all" or "any" over Items) or a condition (Field,
// Op, Value and, for "between", Value2). The builder's JSON is this type;
// Rule writes it as expr and ParseBuilder reads it back.
type Node struct {
	// Match is "all" (&&) or "any" (||) for a group, empty for a condition.
	Match string `json:"match,omitempty"`
	// Items are a group's conditions and subgroups.
	Items []Node `json:"items,omitempty"`
	// Field is a condition's field: a name of the segment language such as
	// "stats.revenue", "contact.tags" or "contact.attributes.city".
	Field string `json:"field,omitempty"`
	// Op is the condition's operator; which ones a field takes depends on
	// its kind (see Ops).
	Op string `json:"op,omitempty"`
	// Value is the operand as text: a string, a number, a count of days or
	// a date (YYYY-MM-DD); none for the bool and tag-less operators.
	Value string `json:"value,omitempty"`
	// Value2 is the upper bound of "between".
	Value2 string `json:"value2,omitempty"`
	// Values are the choices of "one_of" (at least one).
	Values []string `json:"values,omitempty"`
	// Event is an event condition's event type (builder_events.go).
	Event string `json:"event,omitempty"`
	// Window is an event count's or sum's window, such as "7d".
	Window string `json:"window,omitempty"`
}

// The kinds of builder fields, which decide their operators.
const (
	KindText   = "text"
	KindNumber = "number"
	KindDate   = "date"
	KindTags   = "tags"
	KindBool   = "bool"
)

// Ops lists the operators of each kind of field, in the builder's order.
var Ops = map[string][]string{
	KindText:     {"is", "is_not", "contains", "starts_with", "one_of"},
	KindNumber:   {"eq", "ne", "gt", "ge", "lt", "le", "between"},
	KindDate:     {"last_days", "more_days_ago", "before", "after"},
	KindTags:     {"has", "has_not"},
	KindBool:     {"is_true", "is_false"},
	KindCampaign: {"engaged", "not_engaged"},
}

// builderOpKind is the kind each operator belongs to.
var builderOpKind = func() map[string]string {
	m := map[string]string{}
	for k, ops := range Ops {
		for _, op := range ops {
			m[op] = k
		}
	}
	return m
}()

// numberOps are the comparison operators of number conditions in expr.
var numberOps = map[string]string{"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

// attrPrefix starts the field of a contact attribute.
const attrPrefix = "contact.attributes."

// maxChoices bounds the values of one_of.
const maxChoices = 100

// maxBuilderNumber bounds a builder number so it is written, and read back,
// exactly (integers below it are exact as float64 too).
const maxBuilderNumber = 1e15

var (
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// fieldKind is the kind of a field, or "" for a name the builder does not
// offer. An attribute's kind comes from its condition (any kind but date
// and tags).
func fieldKind(field string) string {
	if strings.HasPrefix(field, attrPrefix) && len(field) > len(attrPrefix) {
		return "attribute"
	}
	for _, f := range staticFields {
		if f.Field == field {
			return f.Kind
		}
	}
	for _, f := range eventFields {
		if f.Field == field {
			return f.Kind
		}
	}
	return ""
}

// Rule writes the builder tree as an expr segment rule. The tree is
// normalised first (see Normalize); an empty tree is the empty rule (every
// contact). A field, operator or value the builder does not know gives an
// errs.Invalid naming where it is (field "tree.items[0].op", say).
func Rule(n Node) (string, error) {
	n, err := Normalize(n)
	if err != nil {
		return "", err
	}
	if len(n.Items) == 0 {
		return "", nil
	}
	return writeGroup(n, false), nil
}

func writeGroup(g Node, nested bool) string {
	sep := " && "
	if g.Match == "any" {
		sep = " || "
	}
	parts := make([]string, len(g.Items))
	for i, it := range g.Items {
		if it.Match != "" {
			parts[i] = writeGroup(it, true)
		} else {
			parts[i] = writeCondition(it)
		}
	}
	s := strings.Join(parts, sep)
	if nested {
		return "(" + s + ")"
	}
	return s
}

// writeCondition writes a validated condition. Between puts the literal
// first (`1 <= x && x <= 5`), a shape no other condition has, so it reads
// back as one condition, not two.
func writeCondition(c Node) string {
	if s := writeEventCondition(c); s != "" {
		return s
	}
	f := fieldExpr(c.Field)
	switch c.Op {
	case "is":
		return f + " == " + quote(c.Value)
	case "is_not":
		return f + " != " + quote(c.Value)
	case "contains":
		return f + " contains " + quote(c.Value)
	case "starts_with":
		return f + " startsWith " + quote(c.Value)
	case "between":
		return "(" + c.Value + " <= " + f + " && " + f + " <= " + c.Value2 + ")"
	case "last_days":
		return "days_since(" + f + ") < " + c.Value
	case "more_days_ago":
		return "days_since(" + f + ") > " + c.Value
	case "before":
		return f + " < date(" + quote(c.Value) + ")"
	case "after":
		return f + " > date(" + quote(c.Value) + ")"
	case "one_of":
		vs := make([]string, len(c.Values))
		for i, v := range c.Values {
			vs[i] = quote(v)
		}
		return f + " in [" + strings.Join(vs, ", ") + "]"
	case "has":
		return "has_tag(" + quote(c.Value) + ")"
	case "has_not":
		return "!has_tag(" + quote(c.Value) + ")"
	case "is_true":
		return f + " == true"
	case "is_false":
		return f + " == false"
	}
	return f + " " + numberOps[c.Op] + " " + c.Value
}

// fieldExpr is the expr for a field name: an attribute whose key is not an
// identifier is indexed, contact.attributes["my key"].
func fieldExpr(field string) string {
	if key, ok := strings.CutPrefix(field, attrPrefix); ok && !identRe.MatchString(key) {
		return "contact.attributes[" + quote(key) + "]"
	}
	return field
}

// quote writes s as an expr string literal (expr reads Go's escapes).
func quote(s string) string { return strconv.Quote(s) }

// Normalize validates a builder tree and returns its canonical form, the
// one ParseBuilder gives back for the rule Rule writes: empty subgroups go,
// a subgroup with one item is that item, a subgroup that matches like its
// parent is merged into it, a root holding one group is that group, a root
// with at most one item matches "all", and numbers are written the one way.
func Normalize(n Node) (Node, error) {
	if n.Match == "" && n.Field == "" && len(n.Items) == 0 {
		n.Match = "all"
	}
	if n.Match == "" {
		return Node{}, errs.Field("tree.match", `must be "all" or "any" at the top`)
	}
	g, err := normalizeGroup(n, "tree")
	if err != nil {
		return Node{}, err
	}
	if len(g.Items) == 1 && g.Items[0].Match != "" {
		g = g.Items[0]
	}
	if len(g.Items) <= 1 {
		g.Match = "all"
	}
	return g, nil
}

func normalizeGroup(g Node, at string) (Node, error) {
	if g.Match != "all" && g.Match != "any" {
		return Node{}, errs.Field(at+".match", `must be "all" or "any", not %q`, g.Match)
	}
	if g.Field != "" || g.Op != "" || g.Value != "" || g.Value2 != "" {
		return Node{}, errs.Field(at, "a group has match and items only")
	}
	out := Node{Match: g.Match}
	for i, it := range g.Items {
		where := fmt.Sprintf("%s.items[%d]", at, i)
		if it.Match == "" {
			c, err := normalizeCondition(it, where)
			if err != nil {
				return Node{}, err
			}
			out.Items = append(out.Items, c)
			continue
		}
		sub, err := normalizeGroup(it, where)
		if err != nil {
			return Node{}, err
		}
		switch {
		case len(sub.Items) == 0:
		case len(sub.Items) == 1 || sub.Match == g.Match:
			if len(sub.Items) == 1 && sub.Items[0].Match == g.Match {
				out.Items = append(out.Items, sub.Items[0].Items...)
			} else if sub.Match == g.Match {
				out.Items = append(out.Items, sub.Items...)
			} else {
				out.Items = append(out.Items, sub.Items[0])
			}
		default:
			out.Items = append(out.Items, sub)
		}
	}
	return out, nil
}

// normalizeCondition checks a condition's field, operator and values and
// writes its numbers canonically.
func normalizeCondition(c Node, at string) (Node, error) {
	if len(c.Items) > 0 {
		return Node{}, errs.Field(at, "a condition has no items")
	}
	kind := fieldKind(c.Field)
	if kind == "" {
		return Node{}, errs.Field(at+".field", "the builder has no field %q", c.Field)
	}
	opk, ok := builderOpKind[c.Op]
	if !ok {
		return Node{}, errs.Field(at+".op", "the builder has no operator %q", c.Op)
	}
	if (kind == "attribute" && (opk == KindDate || opk == KindTags)) || (kind != "attribute" && kind != opk) {
		return Node{}, errs.Field(at+".op", "%q does not apply to %s", c.Op, c.Field)
	}
	if c.Op != "between" && c.Value2 != "" {
		return Node{}, errs.Field(at+".value2", "only between takes a second value")
	}
	if c.Op == "one_of" && (len(c.Values) == 0 || len(c.Values) > maxChoices || c.Value != "") {
		return Node{}, errs.Field(at+".values", "one_of takes 1 to %d values (and no value)", maxChoices)
	}
	if c.Op != "one_of" && len(c.Values) > 0 {
		return Node{}, errs.Field(at+".values", "only one_of takes values")
	}
	c, err := normalizeEventCondition(c, at)
	if err != nil {
		return Node{}, err
	}
	switch opk {
	case KindNumber:
		if c.Value, err = canonicalNumber(c.Value); err != nil {
			return Node{}, errs.Field(at+".value", "%s", err.Error())
		}
		if c.Op == "between" {
			if c.Value2, err = canonicalNumber(c.Value2); err != nil {
				return Node{}, errs.Field(at+".value2", "%s", err.Error())
			}
		}
	case KindDate:
		if c.Op == "before" || c.Op == "after" {
			if _, perr := time.Parse(time.DateOnly, c.Value); perr != nil || !dateRe.MatchString(c.Value) {
				return Node{}, errs.Field(at+".value", "must be a date such as 2026-03-21, not %q", c.Value)
			}
		} else if c.Value, err = canonicalDays(c.Value); err != nil {
			return Node{}, errs.Field(at+".value", "%s", err.Error())
		}
	case KindTags:
		if c.Value == "" {
			return Node{}, errs.Field(at+".value", "names no tag")
		}
	case KindBool:
		if c.Value != "" {
			return Node{}, errs.Field(at+".value", "%s takes no value", c.Op)
		}
	}
	return c, nil
}

// canonicalNumber reads a number and writes it the one way the builder
// does: an integer without a point, else the shortest decimal.
func canonicalNumber(s string) (string, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) >= maxBuilderNumber {
		return "", fmt.Errorf("must be a number below 10^15, not %q", s)
	}
	if f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10), nil
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// canonicalDays reads a count of days (0 to maxDays).
func canonicalDays(s string) (string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > maxDays {
		return "", fmt.Errorf("must be a whole number of days from 0 to %d, not %q", maxDays, s)
	}
	return strconv.Itoa(n), nil
}
