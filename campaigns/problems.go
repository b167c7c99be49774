package campaigns

import (
	"errors"
	"fmt"

	"github.com/peykar/peykar/internal/errs"
)

// problems collects a campaign's validation errors, so a form can show
// them all at once rather than one per submit.
type problems []*errs.Error

// add records err (nil is ignored); an error that is no *errs.Error is
// kept as an Invalid one with its text.
func (p *problems) add(err error) {
	if err == nil {
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		e = &errs.Error{Code: errs.Invalid, Message: fmt.Sprint(err), Err: err}
	}
	*p = append(*p, e)
}

// Validate checks c as a save would, without saving it, and reports every
// mistake (errs.All); it fills defaults and trims c as a save does.
func Validate(c *Campaign) error { return c.normalize() }
