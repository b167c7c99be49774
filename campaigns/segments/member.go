package segments

import (
	"context"
	"fmt"
	"time"

	"github.com/peykar/peykar/campaigns/contacts"
)

// Contains reports whether contact id (not erased) matches c at now: one
// contact's membership, for a triggered campaign's entry filter. A rule
// that cannot be judged for the contact (past its evaluation budget) is an
// errs.Invalid error, as in a segment walk.
func (c *Compiled) Contains(ctx context.Context, db DBTX, now time.Time, id int64) (bool, error) {
	if c.Translatable() {
		where, args := c.where(now, 1)
		var ok bool
		err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts c`+contacts.StatsJoin+` WHERE c.id = $1 AND c.status <> 'erased' AND `+where+`)`,
			append([]any{id}, args...)...).Scan(&ok)
		if err != nil {
			return false, fmt.Errorf("segment membership: %w", err)
		}
		return ok, nil
	}
	found := false
	err := scanGo(ctx, db, c, now, id-1, id, func(got int64) bool {
		found = got == id
		return false
	})
	return found, err
}
