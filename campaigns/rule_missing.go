package campaigns

import (
	"errors"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/file"
)

// missingValue reports whether a predicate's run-time error comes from an
// operation on a missing value: a contact attribute (or anything else)
// that is nil, compared, computed with or indexed, such as
// `contact.attributes.score > 3` for a contact without a score ("invalid
// operation: <nil> > int"). Segments treat such a contact as not matching
// (in SQL a comparison with NULL is not true); rules do the same, so a
// missing attribute never counts as a failed rule. Any other error (the
// evaluation budget, a type mismatch between two present values) is real.
func missingValue(err error) bool {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return false
	}
	m := fe.Message
	return nilType.MatchString(m) ||
		strings.Contains(m, "interface {} is nil") || // lower(nil): interface conversion
		strings.Contains(m, "on zero Value") // int(nil): reflect on a nil value
}

// nilType finds the type of a nil operand in expr's messages ("invalid
// operation: <nil> > int", "cannot fetch x from <nil>", "invalid argument
// for len (type <nil>)"); conversions print the value instead
// ("int(<nil>)" for the string "<nil>"), which is not missing.
var nilType = regexp.MustCompile(`(^|[^(])<nil>`)
