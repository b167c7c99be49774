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
		t, err := templates.Get(ctx, db, st.TemplateID)
		if err != nil {
			return nil, err
		}
		checks, err := templates.Checks(ctx, t, audience)
		if err != nil {
			failed = append(failed, errs.Field(fmt.Sprintf("steps[%d].template_id", i), "template %q is invalid: %v", t.Name, err))
			continue
		}
		for _, ch := range templates.Failed(checks) {
			if ch.Name == templates.CheckFields && accepts(opts, ch.Name) {
				continue
			}
			e := errs.Field(fmt.Sprintf("steps[%d].template_id", i), "step %q, template %q: %s", st.Key, t.Name, ch.Message)
			e.Details = map[string]any{"check": ch.Name}
			failed = append(failed, e)
		}
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
