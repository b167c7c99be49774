package segments

import (
	"context"
	"fmt"
	"time"

	"github.com/peykar/peykar/campaigns/contacts"
)

// sendablePage is how many contacts CountSendable reads per page when the
// rule runs in Go.
const sendablePage = 5000

// CountSendable returns how many contacts match c and may be sent to now
// (contacts.IsSendable: active, address and domain not suppressed): the
// audience a launch would reach. A rule that translates to SQL is one
// count; another is walked page by page as a launch walks it.
func CountSendable(ctx context.Context, db DBTX, c *Compiled) (int64, error) {
	now := time.Now()
	if c.Translatable() {
		where, args := c.where(now, 0)
		var n int64
		err := db.QueryRow(ctx, `SELECT count(*) FROM contacts c`+contacts.StatsJoin+` WHERE c.status <> 'erased' AND `+
			contacts.SendableSQL+` AND `+where, args...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count sendable: %w", err)
		}
		return n, nil
	}
	var n, after int64
	for {
		page, err := matchPage(ctx, db, c, now, after, sendablePage)
		if err != nil {
			return 0, fmt.Errorf("count sendable: %w", err)
		}
		n += int64(len(page.IDs))
		if page.Done {
			return n, nil
		}
		after = page.Last
	}
}
