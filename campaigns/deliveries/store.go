package deliveries

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/sqlq"
)

// DBTX is a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx, so one transaction can
// span packages.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

//go:embed queries.sql
var queriesFS embed.FS

// queries are the package's statements on the deliveries table (queries.sql).
var queries = sqlq.MustLoad(queriesFS)

// Statuses of a delivery.
const (
	Queued  = "queued"
	Sending = "sending"
	Sent    = "sent"
	Failed  = "failed"
	Bounced = "bounced"
	Skipped = "skipped"
)

// Held is an outcome, not a stored status: the delivery goes back to
// queued without its attempt counting (the frequency cap held it).
const Held = "held"

// Delivery is a claimed delivery.
type Delivery struct {
	ID         int64
	CampaignID int64
	Step       string
	ContactID  int64
	Attempts   int
	// Round is the triggered campaign's entry (0: a blast's delivery).
	Round int64
	// Exited: a rule's exit action took the contact out of the campaign,
	// or an exit condition ended the delivery's round, so this delivery is
	// skipped, not sent.
	Exited bool
	// Variant is the delivery's A/B test variant ("" outside a test).
	Variant string
}

// Outcome is a claimed delivery's result to record.
type Outcome struct {
	ID int64
	// Status is Sent, Queued (retry), Failed, Bounced, Skipped or Held.
	Status string
	// Detail is the error text, or the server's acceptance.
	Detail string
}

// Final is a row whose status a write changed, for the caller to count.
type Final struct {
	CampaignID int64
	Step       string
	Status     string
	ContactID  int64
}

// Create inserts the deliveries of a step for contacts, skipping those
// that exist, and returns the ids of the new ones.
func Create(ctx context.Context, db DBTX, campaignID int64, step string, contactIDs []int64) ([]int64, error) {
	rows, err := db.Query(ctx, queries.Get("create"), campaignID, step, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	return ids, nil
}

// Claim marks the queued deliveries among ids as sending by job. A retry
// of the same job also reclaims its own rows left in sending by a crash,
// but only once they are stale (claimed longer than staleAfter ago): River
// may rescue an attempt that is slow rather than dead and run the retry
// while the first attempt still sends, and a fresh claim may be that
// attempt's. No other job can take a claimed row, so a delivery is in at
// most one sender's hands. Each claimed delivery says whether its contact
// has exited the campaign.
func Claim(ctx context.Context, db DBTX, jobID int64, ids []int64, staleAfter time.Duration) ([]Delivery, error) {
	rows, err := db.Query(ctx, queries.Get("claim"), jobID, ids, staleAfter.String())
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		return d, r.Scan(&d.ID, &d.CampaignID, &d.Step, &d.ContactID, &d.Attempts, &d.Round, &d.Exited, &d.Variant)
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// StillClaimed counts deliveries among ids that job claimed and that are
// still sending: an earlier attempt's, crashed or still running.
func StillClaimed(ctx context.Context, db DBTX, jobID int64, ids []int64) (int, error) {
	var n int
	if err := db.QueryRow(ctx, queries.Get("still_claimed"), ids, jobID).Scan(&n); err != nil {
		return 0, fmt.Errorf("check claims: %w", err)
	}
	return n, nil
}

// Release queues again the deliveries an attempt of job jobID claimed
// and still holds when it ends in an error before recording them (a
// database error, the job's context ending), so that the job's retry
// claims them at once rather than once they are stale. Only an attempt
// that has ended may release: its sends are over, so a retry resends at
// most what the failed attempt may have sent without recording.
func Release(ctx context.Context, db DBTX, jobID int64, claimed []Delivery) (int64, error) {
	ids := make([]int64, len(claimed))
	attempts := make([]int, len(claimed))
	for i, d := range claimed {
		ids[i], attempts[i] = d.ID, d.Attempts
	}
	ct, err := db.Exec(ctx, queries.Get("release"), jobID, ids, attempts)
	if err != nil {
		return 0, fmt.Errorf("release deliveries: %w", err)
	}
	return ct.RowsAffected(), nil
}

// Record stores the outcomes of claimed deliveries in one statement, with
// at as the send time of the sent and bounced, and returns the rows it
// changed. Rows no longer sending (taken back by a sweep) are left alone.
func Record(ctx context.Context, db DBTX, outs []Outcome, at time.Time) ([]Final, error) {
	if len(outs) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, queries.Get("record"), recordArgs(outs, at)...)
	if err != nil {
		return nil, fmt.Errorf("record delivery results: %w", err)
	}
	finals, err := collectFinals(rows)
	if err != nil {
		return nil, fmt.Errorf("record delivery results: %w", err)
	}
	return finals, nil
}

// QueueRecord queues Record's statement on b, for callers that send several
// statements of one transaction in one round trip; once the batch has been
// read (its Close), *finals holds the rows it changed.
func QueueRecord(b *pgx.Batch, outs []Outcome, at time.Time, finals *[]Final) {
	if len(outs) == 0 {
		return
	}
	b.Queue(queries.Get("record"), recordArgs(outs, at)...).Query(func(rows pgx.Rows) error {
		fs, err := collectFinals(rows)
		if err != nil {
			return fmt.Errorf("record delivery results: %w", err)
		}
		*finals = fs
		return nil
	})
}

// recordArgs are the record statement's arguments: outs as arrays, and at.
func recordArgs(outs []Outcome, at time.Time) []any {
	ids := make([]int64, len(outs))
	statuses := make([]string, len(outs))
	details := make([]string, len(outs))
	for i, o := range outs {
		ids[i], statuses[i], details[i] = o.ID, o.Status, o.Detail
	}
	return []any{ids, statuses, details, at}
}

// SkipQueued gives up a campaign's deliveries that were not sent yet (all
// when ids is nil, or those among ids), with reason as their error, and
// returns the rows it changed.
func SkipQueued(ctx context.Context, db DBTX, campaignID int64, ids []int64, reason string) ([]Final, error) {
	rows, err := db.Query(ctx, queries.Get("skip_queued"), campaignID, ids, reason)
	if err != nil {
		return nil, fmt.Errorf("skip deliveries: %w", err)
	}
	finals, err := collectFinals(rows)
	if err != nil {
		return nil, fmt.Errorf("skip deliveries: %w", err)
	}
	return finals, nil
}

func collectFinals(rows pgx.Rows) ([]Final, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Final, error) {
		var f Final
		return f, r.Scan(&f.CampaignID, &f.Step, &f.Status, &f.ContactID)
	})
}

// RequeueOrphaned queues again the deliveries of send jobs that ended
// without sending them (discarded after their last attempt, or cancelled)
// in campaigns that still send, and returns their ids by campaign, for the
// caller to enqueue new jobs in the same transaction.
func RequeueOrphaned(ctx context.Context, db DBTX) (map[int64][]int64, int, error) {
	rows, err := db.Query(ctx, queries.Get("requeue_orphaned"))
	if err != nil {
		return nil, 0, fmt.Errorf("sweep deliveries: %w", err)
	}
	defer rows.Close()
	byCampaign := map[int64][]int64{}
	n := 0
	for rows.Next() {
		var cid, id int64
		if err := rows.Scan(&cid, &id); err != nil {
			return nil, 0, fmt.Errorf("sweep deliveries: %w", err)
		}
		byCampaign[cid] = append(byCampaign[cid], id)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sweep deliveries: %w", err)
	}
	return byCampaign, n, nil
}

// RequeueOrphanedMessages is RequeueOrphaned for the deliveries of
// transactional message jobs: it queues them again and returns each one's
// job arguments (messages.SendArgs as JSON), for the caller to enqueue a
// fresh message job each in the same transaction.
func RequeueOrphanedMessages(ctx context.Context, db DBTX) ([][]byte, error) {
	rows, err := db.Query(ctx, queries.Get("requeue_orphaned_messages"))
	if err != nil {
		return nil, fmt.Errorf("sweep messages: %w", err)
	}
	args, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("sweep messages: %w", err)
	}
	return args, nil
}

// CreateOne inserts one delivery of a campaign's step to a contact in
// round (a transactional message's id; blast campaigns use round 0 through
// Create) and returns its id and whether this call created it: a repeat
// finds the existing row.
func CreateOne(ctx context.Context, db DBTX, campaignID int64, step string, contactID, round int64) (id int64, created bool, err error) {
	if err := db.QueryRow(ctx, queries.Get("create_one"), campaignID, step, contactID, round).Scan(&id, &created); err != nil {
		return 0, false, fmt.Errorf("insert delivery: %w", err)
	}
	return id, created, nil
}

// State is a delivery's status, attempts and times.
type State struct {
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	LastError    string     `json:"last_error,omitempty"`
	QueuedAt     time.Time  `json:"queued_at"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	BouncedAt    *time.Time `json:"bounced_at,omitempty"`
	FirstOpenAt  *time.Time `json:"first_open_at,omitempty"`
	FirstClickAt *time.Time `json:"first_click_at,omitempty"`
}

// GetState reads delivery id's state; pgx.ErrNoRows (wrapped) when there
// is none.
func GetState(ctx context.Context, db DBTX, id int64) (State, error) {
	var s State
	err := db.QueryRow(ctx, queries.Get("get_round"), id).Scan(&s.Status, &s.Attempts, &s.LastError, &s.QueuedAt,
		&s.SentAt, &s.BouncedAt, &s.FirstOpenAt, &s.FirstClickAt)
	if err != nil {
		return s, fmt.Errorf("get delivery %d: %w", id, err)
	}
	return s, nil
}
