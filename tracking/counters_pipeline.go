package tracking

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// Recipient names a contact a campaign's send went to (or was refused for
// good at send time): the people whose campaign_people rows AddCounts
// creates or refreshes.
type Recipient struct {
	CampaignID, ContactID int64
}

// PendingCounts is AddCounts split over two batches of a caller's
// pipeline, for a caller that knows its recipients before it knows its
// counts (a send flush knows whom it sent to before the deliveries'
// statement answers which rows it changed): QueueCreatePeople queues the
// first statement on one batch, QueueCounts the rest on a later batch of
// the same transaction, once the first batch has been read.
type PendingCounts struct {
	pc peopleCreation
}

// QueueCreatePeople queues on b the creation of the campaign_people rows
// of the recipients who have none (AddCounts' first statement), after
// whatever b already holds: the deliveries must be written earlier in the
// same transaction (an earlier statement of b, or before). at is the
// minute the people counters' changes count in. Recipients whose delivery
// the transaction did not change are harmless: a row is created or
// refreshed from the deliveries as they are, and the people counters
// change by the row's change.
func QueueCreatePeople(b *pgx.Batch, rs []Recipient, at time.Time) *PendingCounts {
	return queueCreatePeople(b, rs, at, peopleNewSQL)
}

// QueueCreateNewPeople is QueueCreatePeople with a plain INSERT instead of
// a speculative one (peopleNewPlainSQL): cheaper, but the transaction
// fails (PeopleConflict) when another one created a row of rs meanwhile,
// and must then be rolled back and done again with QueueCreatePeople.
func QueueCreateNewPeople(b *pgx.Batch, rs []Recipient, at time.Time) *PendingCounts {
	return queueCreatePeople(b, rs, at, peopleNewPlainSQL)
}

func queueCreatePeople(b *pgx.Batch, rs []Recipient, at time.Time, sql string) *PendingCounts {
	p := &PendingCounts{pc: peopleCreation{at: at}}
	for _, r := range rs {
		p.pc.ps = append(p.pc.ps, person{r.CampaignID, r.ContactID})
	}
	if len(p.pc.ps) == 0 {
		return p
	}
	camps, conts := peopleArrays(p.pc.ps)
	b.Queue(sql, camps, conts).Query(func(rows pgx.Rows) error {
		return p.pc.scan(rows)
	})
	return p
}

// QueueCounts queues on b (a batch sent after QueueCreatePeople's was read,
// in the same transaction) the rest of AddCounts for counts: the existing
// people rows' lock, the step rollups, then the people rollups and the
// existing rows' refresh — the same statements in the same order (the lock
// order: people rows, step rollups, people rollups). A person that a
// count names but QueueCreatePeople did not is created (if need be),
// locked and refreshed like an existing one. afterLock, when not nil,
// queues the caller's statements between the people rows' lock and the
// step rollups: where the tracking writer writes contact_stats, so a
// caller that writes it there takes the locks in the writer's order.
func (p *PendingCounts) QueueCounts(b *pgx.Batch, counts []Count, afterLock func(*pgx.Batch)) {
	var existing []person
	var created []Delta
	if len(p.pc.ps) > 0 {
		existing, created = p.pc.split()
	}
	known := make(map[person]bool, len(p.pc.ps))
	for _, q := range p.pc.ps {
		known[q] = true
	}
	for _, q := range countedPeople(counts) {
		if !known[q] {
			known[q] = true
			existing = append(existing, q)
		}
	}
	queuePeopleLock(b, existing)
	if afterLock != nil {
		afterLock(b)
	}
	QueueRollups(b, countDeltas(counts))
	queueCreatedAndRefresh(b, created, existing, p.pc.at)
}

// countedPeople lists the people of counts that name a contact: those
// AddCounts keeps the campaign_people of.
func countedPeople(counts []Count) []person {
	var ps []person
	for _, c := range counts {
		if c.ContactID != 0 && (c.Metric == MetricSent || c.Metric == MetricSendBounced) {
			ps = append(ps, person{c.CampaignID, c.ContactID})
		}
	}
	return ps
}
