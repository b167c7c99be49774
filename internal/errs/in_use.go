package errs

import (
	"errors"
	"fmt"
	"strings"
)

// User is something that uses another item and so keeps it from being
// deleted: a campaign using a segment or a template.
type User struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// maxUsersNamed bounds how many users an InUse message names.
const maxUsersNamed = 5

// InUse is the Conflict error of a delete refused because users still use
// what, e.g. "segment 3 is used by campaigns 'Nowruz sale' (running),
// 'Welcome' (draft)". Details["used_by"] holds the users ([]User) so a
// page can name them in its own language.
func InUse(what string, users []User) *Error {
	names := make([]string, 0, maxUsersNamed)
	for i, u := range users {
		if i == maxUsersNamed {
			names = append(names, fmt.Sprintf("and %d more", len(users)-maxUsersNamed))
			break
		}
		names = append(names, fmt.Sprintf("'%s' (%s)", u.Name, u.Status))
	}
	e := New(Conflict, "%s is used by campaigns %s: archive it to hide it, or change those campaigns first", what, strings.Join(names, ", "))
	e.Details = map[string]any{"used_by": users}
	return e
}

// UsedBy returns the users of an InUse error (nil for any other error).
func UsedBy(err error) []User {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	u, _ := e.Details["used_by"].([]User)
	return u
}
