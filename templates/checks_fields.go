package templates

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// missingAttr finds the attribute a render failed on (view.attrFunc's error).
var missingAttr = regexp.MustCompile(`contact attribute "([^"]*)" is missing`)

// bareName matches {{ .Contact.Name }} with no default: an empty name then
// renders as nothing ("Hello ,").
var bareName = regexp.MustCompile(`\{\{-?\s*\.Contact\.Name\s*-?\}\}`)

// fieldsCheck renders c for each contact of audience and reports the share
// for whom a personalisation field is missing: an attribute without a
// default (that recipient's message would fail) or an empty name written
// without a default.
func fieldsCheck(ctx context.Context, c *Compiled, audience []Contact) Check {
	t := c.Template()
	readsName := bareName.MatchString(t.Subject) || bareName.MatchString(t.HTML) || bareName.MatchString(t.Text)
	perField := map[string]int{}
	affected := 0
	for _, ct := range audience {
		var missing []string
		if readsName && strings.TrimSpace(ct.Name) == "" {
			missing = append(missing, "name")
		}
		if _, err := c.RenderContext(ctx, Data{Contact: ct}, nil); err != nil {
			if m := missingAttr.FindStringSubmatch(err.Error()); m != nil {
				missing = append(missing, "attributes."+m[1])
			} else {
				missing = append(missing, "render error: "+err.Error())
			}
		}
		for _, f := range missing {
			perField[f]++
		}
		if len(missing) > 0 {
			affected++
		}
	}
	out := Check{Name: CheckFields, OK: affected == 0, Sampled: len(audience), Share: float64(affected) / float64(len(audience))}
	if out.OK {
		return out
	}
	fields := make([]string, 0, len(perField))
	for f := range perField {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		out.Items = append(out.Items, fmt.Sprintf("%s: %d%% (%d of %d)", f, pct(perField[f], len(audience)), perField[f], len(audience)))
	}
	out.Message = fmt.Sprintf("personalisation fields are missing for %d%% of the audience (%d of %d contacts checked): %s; give them a default, e.g. {{ attr \"city\" \"friend\" }} or {{ .Contact.Name | default \"friend\" }}",
		pct(affected, len(audience)), affected, len(audience), strings.Join(out.Items, ", "))
	return out
}

func pct(n, of int) int { return (n*100 + of/2) / of }
