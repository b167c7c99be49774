package campaigns

import (
	"context"
	"fmt"

	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// AudienceLoader loads contacts by id as templates see them (wired by cmd
// from the contacts package), for the pre-send fields check.
type AudienceLoader func(ctx context.Context, db DBTX, ids []int64) ([]templates.Contact, error)

// LaunchOptions relax what a launch enforces.
type LaunchOptions struct {
	// Accept names pre-send checks the marketer has seen fail and launches
	// anyway. Only templates.CheckFields may be accepted (recipients
	// missing a field get no message, and their failure is reported);
	// the other checks always hold.
	Accept []string
}

// launchCheckSample bounds the contacts of the segment the fields check
// renders each step's template for.
const launchCheckSample = 200

// checkTemplates runs the templates' pre-send checks for every step, over a
// sample of the segment's first sendable contacts, and returns every
// failure: one Invalid *errs.Error per failed check, field
// steps[i].template_id, Details["check"] the check's name. The error is a
// failure to check.
func (s *Service) checkTemplates(ctx context.Context, db DBTX, c Campaign, rule *segments.Compiled, opts LaunchOptions) ([]*errs.Error, error) {
	var audience []templates.Contact
	if s.Audience != nil && rule != nil { // an event journey without a segment: no sample
		page, err := segments.MatchPage(ctx, db, rule, 0, launchCheckSample)
		if err != nil {
			return nil, err
		}
		if audience, err = s.Audience(ctx, db, page.IDs); err != nil {
			return nil, err
		}
	}
	var failed []*errs.Error
	for i, st := range c.Steps {
		ids := []int64{st.TemplateID}
		fields := []string{fmt.Sprintf("steps[%d].template_id", i)}
		labels := []string{fmt.Sprintf("step %q", st.Key)}
		// A variant with a template of its own sends it to part of the
		// audience: it must pass the same checks as the step's.
		for j, v := range st.Variants {
			if v.TemplateID != 0 && v.TemplateID != st.TemplateID {
				ids = append(ids, v.TemplateID)
				fields = append(fields, fmt.Sprintf("steps[%d].variants[%d].template_id", i, j))
				labels = append(labels, fmt.Sprintf("step %q, variant %s", st.Key, v.Key))
			}
		}
		for k, id := range ids {
			fs, err := checkTemplate(ctx, db, id, audience, fields[k], labels[k], opts)
			if err != nil {
				return nil, err
			}
			failed = append(failed, fs...)
		}
	}
	return failed, nil
}

// checkTemplate runs template id's pre-send checks over audience and
// returns its failures as field errors on field, described by label.
func checkTemplate(ctx context.Context, db DBTX, id int64, audience []templates.Contact, field, label string, opts LaunchOptions) ([]*errs.Error, error) {
	t, err := templates.Get(ctx, db, id)
	if err != nil {
		return nil, err
	}
	checks, err := templates.Checks(ctx, t, audience)
	if err != nil {
		return []*errs.Error{errs.Field(field, "template %q is invalid: %v", t.Name, err)}, nil
	}
	var failed []*errs.Error
	for _, ch := range templates.Failed(checks) {
		if ch.Name == templates.CheckFields && accepts(opts, ch.Name) {
			continue
		}
		e := errs.Field(field, "%s, template %q: %s", label, t.Name, ch.Message)
		e.Details = map[string]any{"check": ch.Name}
		failed = append(failed, e)
	}
	return failed, nil
}

func accepts(opts LaunchOptions, name string) bool {
	for _, a := range opts.Accept {
		if a == name {
			return true
		}
	}
	return false
}
