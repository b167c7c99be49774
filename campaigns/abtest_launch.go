package campaigns

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// variantLinks checks the templates of step i's variants for a launch
// (mistakes go to p) and returns links with the tracked links of the
// variants that send a template of their own, at their offsets.
func variantLinks(ctx context.Context, tx pgx.Tx, i int, st Step, links []Link, p *problems) ([]Link, error) {
	for j, v := range st.Variants {
		id, offset := st.VariantTemplate(v.Key)
		if offset == 0 && v.Subject == "" {
			continue
		}
		f := fmt.Sprintf("steps[%d].variants[%d]", i, j)
		t, err := templates.Get(ctx, tx, id)
		if errs.Is(err, errs.NotFound) {
			p.add(errs.Field(f+".template_id", "template %d does not exist", id))
			continue
		}
		if err != nil {
			return nil, err
		}
		orig := t
		if v.Subject != "" {
			t.Subject = v.Subject
		}
		compiled, err := templates.Compile(t)
		if err != nil {
			field := f + ".template_id"
			if _, plain := templates.Compile(orig); plain == nil && v.Subject != "" {
				field = f + ".subject" // the template compiles: the subject is at fault
			}
			p.add(errs.Field(field, "template %q with this variant is invalid: %v", t.Name, err))
			continue
		}
		if offset == 0 {
			continue
		}
		for _, l := range compiled.Links() {
			links = append(links, Link{Idx: l.Idx + offset, URL: l.URL, Name: l.Name})
		}
	}
	return links, nil
}
