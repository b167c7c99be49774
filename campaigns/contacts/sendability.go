package contacts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// sendableSQL is true for a contacts row c that may be sent email: active,
// and neither its address nor its domain is on the email (or every
// channel's) suppression list. SendableOn is the same for any channel.
const sendableSQL = `(c.status = 'active'
	AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'address' AND s.value = c.email_key AND s.channel IN ('email', '*'))
	AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'domain' AND s.value = split_part(c.email_key, '@', 2) AND s.channel IN ('email', '*')))`

// IsSendable reports whether a contact may be sent to: its status is active
// and neither its address nor its domain is suppressed. An unknown contact
// gives errs.NotFound.
func IsSendable(ctx context.Context, db DBTX, contactID int64) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT `+sendableSQL+` FROM contacts c WHERE c.id = $1`, contactID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, errs.New(errs.NotFound, "no such contact")
	}
	if err != nil {
		return false, fmt.Errorf("is sendable: %w", err)
	}
	return ok, nil
}

// CountSendable counts the contacts that may be sent to now, by the same
// definition a launch applies (IsSendable, MatchPage): status active and
// neither address nor domain suppressed.
func CountSendable(ctx context.Context, db DBTX) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM contacts c WHERE `+sendableSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sendable: %w", err)
	}
	return n, nil
}

// Suppress sets a contact's status to unsubscribed, bounced or complained.
// It never downgrades: a status moves only up the order active <
// unsubscribed < bounced < complained < erased, so a complaint is never
// turned back into an unsubscription, nor an erased contact into anything.
// updated_at is bumped when the status changes. An unknown contact gives
// errs.NotFound; another status gives errs.Invalid.
func Suppress(ctx context.Context, db DBTX, contactID int64, status string) error {
	rank, err := suppressRank(status)
	if err != nil {
		return err
	}
	var exists bool
	if err := db.QueryRow(ctx, query("suppress"), contactID, status, rank).Scan(&exists); err != nil {
		return fmt.Errorf("suppress contact: %w", err)
	}
	return suppressed(exists)
}

// QueueSuppress queues Suppress on b, for callers that send several
// statements of one transaction in one round trip: the batch's Close
// returns Suppress's errors. A status Suppress refuses is refused here,
// before anything is queued.
func QueueSuppress(b *pgx.Batch, contactID int64, status string) error {
	rank, err := suppressRank(status)
	if err != nil {
		return err
	}
	b.Queue(query("suppress"), contactID, status, rank).QueryRow(func(row pgx.Row) error {
		var exists bool
		if err := row.Scan(&exists); err != nil {
			return fmt.Errorf("suppress contact: %w", err)
		}
		return suppressed(exists)
	})
	return nil
}

// suppressRank is status's rank for the suppress statement, or
// errs.Invalid for a status Suppress does not set.
func suppressRank(status string) (int, error) {
	rank, ok := statusRank[status]
	if !ok || rank == 0 || status == StatusErased {
		return 0, errs.Field("status", "must be unsubscribed, bounced or complained, not %q", status)
	}
	return rank, nil
}

func suppressed(exists bool) error {
	if !exists {
		return errs.New(errs.NotFound, "no such contact")
	}
	return nil
}

// BumpSent adds one to stats.sent of each contact per message: contactIDs
// names a contact once for every message it was sent, so a contact that
// appears twice gets two. The count lives in contact_stats (a narrow row,
// updated HOT), whose rows are written in id order so concurrent batches
// cannot deadlock.
func BumpSent(ctx context.Context, db DBTX, contactIDs []int64, at time.Time) error {
	if len(contactIDs) == 0 {
		return nil
	}
	_ = at // the schema keeps no last_sent_at; the parameter is kept for the engine's API
	if _, err := db.Exec(ctx, query("bump_sent"), sortedAll(contactIDs)); err != nil {
		return fmt.Errorf("bump sent: %w", err)
	}
	return nil
}

// QueueBumpSent queues BumpSent's statement on b (nothing when contactIDs
// is empty), for callers that send several statements of one transaction
// in one round trip.
func QueueBumpSent(b *pgx.Batch, contactIDs []int64) {
	if len(contactIDs) == 0 {
		return
	}
	b.Queue(query("bump_sent"), sortedAll(contactIDs))
}

// sortedAll is ids sorted, duplicates kept (a copy).
func sortedAll(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Sendability says whether a contact may receive a message and, when not,
// why (a reason for the delivery's record). Marketing mail
// (transactional false) goes only to active contacts whose address and
// domain are not suppressed, as IsSendable. A transactional message (a
// receipt, sent only with a template the operator marked transactional)
// also reaches a contact who unsubscribed from marketing, but never a
// bounced, complained or erased one, nor a suppressed address or domain:
// those would only bounce again or were blocked by the operator. An
// unknown contact gives errs.NotFound.
func Sendability(ctx context.Context, db DBTX, contactID int64, transactional bool) (ok bool, reason string, err error) {
	var status string
	var address, domain bool
	err = db.QueryRow(ctx, query("sendability"), contactID).Scan(&status, &address, &domain)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", errs.New(errs.NotFound, "no such contact")
	}
	if err != nil {
		return false, "", fmt.Errorf("sendability: %w", err)
	}
	ok, reason = sendVerdict(status, address, domain, transactional)
	return ok, reason, nil
}

// sendVerdict is Sendability's decision for a contact's status and
// whether its address or domain is suppressed.
func sendVerdict(status string, address, domain, transactional bool) (bool, string) {
	switch {
	case address:
		return false, "the address is on the suppression list"
	case domain:
		return false, "the address's domain is on the suppression list"
	case status == StatusActive, status == StatusUnsubscribed && transactional:
		return true, ""
	default:
		return false, "the contact is " + status
	}
}
