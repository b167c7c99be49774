package tracking

import "github.com/jackc/pgx/v5"

// queuePeopleUpsertLock is queuePeopleLock in one statement
// (people_upsert_lock).
func queuePeopleUpsertLock(b *pgx.Batch, ps []person) {
	if len(ps) == 0 {
		return
	}
	camps, conts := peopleArrays(ps)
	b.Queue(query("people_upsert_lock"), camps, conts)
}
