package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// storeGroup records the group's events in tx with one statement per step
// for all of them, deciding each event as RecordEvent would, in its order:
// its key (a replay or a refusal), its campaign, its contact; the refusals
// are all decided by reads, before anything is written. Then the new
// contacts, the transactions, the conversions (one by one, as rare) and
// the hooks (EventsHook: once for the group). An event whose key an
// earlier event of the group carries is answered from that event after
// the commit (answerDup).
func (w *EventWriter) storeGroup(ctx context.Context, tx pgx.Tx, reqs []*eventReq) error {
	first := map[string]*eventReq{}
	var live []*eventReq
	for _, r := range reqs {
		r.t, r.created, r.err, r.alone, r.dup = Transaction{}, false, nil, false, nil
		if k := r.in.IdempotencyKey; k != "" {
			if p, ok := first[k]; ok {
				r.dup = p
				continue
			}
			first[k] = r
		}
		live = append(live, r)
	}
	steps := []func(context.Context, pgx.Tx, []*eventReq) ([]*eventReq, error){
		groupKeys, groupCampaigns, groupContactIDs, groupEmails,
	}
	var err error
	for _, step := range steps {
		if live, err = step(ctx, tx, live); err != nil {
			return err
		}
	}
	if err := groupInsert(ctx, tx, live); err != nil {
		return err
	}
	return w.react(ctx, tx, live)
}

// groupKeys answers the events whose key is stored: the stored event
// (replayed) for the same body, a refusal for another. It returns the
// rest.
func groupKeys(ctx context.Context, tx pgx.Tx, live []*eventReq) ([]*eventReq, error) {
	var keys []string
	for _, r := range live {
		if r.in.IdempotencyKey != "" {
			keys = append(keys, r.in.IdempotencyKey)
		}
	}
	if len(keys) == 0 {
		return live, nil
	}
	rows, err := tx.Query(ctx, query("group_stored_events"), keys)
	if err != nil {
		return nil, fmt.Errorf("record events: keys: %w", err)
	}
	type stored struct {
		t      Transaction
		digest string
	}
	held := map[string]stored{}
	for rows.Next() {
		var s stored
		var key string
		if err := rows.Scan(&s.t.ID, &s.t.ContactID, &s.t.Type, &s.t.Value, &s.t.Currency, &s.t.CampaignID, &s.t.DeliveryID,
			&s.t.Attributes, &s.t.OccurredAt, &s.t.CreatedAt, &s.digest, &key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("record events: keys: %w", err)
		}
		held[key] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record events: keys: %w", err)
	}
	return keep(live, func(r *eventReq) bool {
		s, ok := held[r.in.IdempotencyKey]
		switch {
		case r.in.IdempotencyKey == "" || !ok:
			return true
		case s.digest != r.digest:
			r.err = keyUsedError(r.in.IdempotencyKey, s.t.ID)
		default:
			r.t = s.t
			r.t.IdempotencyKey, r.t.Replayed = r.in.IdempotencyKey, true
		}
		return false
	}), nil
}

// groupCampaigns refuses the events naming a campaign that does not exist.
func groupCampaigns(ctx context.Context, tx pgx.Tx, live []*eventReq) ([]*eventReq, error) {
	var ids []int64
	for _, r := range live {
		if r.in.CampaignID != nil {
			ids = append(ids, *r.in.CampaignID)
		}
	}
	if len(ids) == 0 {
		return live, nil
	}
	rows, err := tx.Query(ctx, query("group_campaigns_exist"), ids)
	if err != nil {
		return nil, fmt.Errorf("record events: campaigns: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("record events: campaigns: %w", err)
	}
	exists := map[int64]bool{}
	for _, id := range found {
		exists[id] = true
	}
	return keep(live, func(r *eventReq) bool {
		if r.in.CampaignID != nil && !exists[*r.in.CampaignID] {
			r.err = errs.Field("campaign_id", "no such campaign")
			return false
		}
		return true
	}), nil
}

// groupContactIDs locks the contacts named by contact_id and refuses the
// events whose contact is missing or erased, or whose email is another's.
func groupContactIDs(ctx context.Context, tx pgx.Tx, live []*eventReq) ([]*eventReq, error) {
	var ids []int64
	for _, r := range live {
		if r.in.ContactID != 0 {
			ids = append(ids, r.in.ContactID)
		}
	}
	if len(ids) == 0 {
		return live, nil
	}
	rows, err := tx.Query(ctx, query("group_lock_contacts"), ids)
	if err != nil {
		return nil, fmt.Errorf("record events: contacts: %w", err)
	}
	type row struct{ status, key string }
	got := map[int64]row{}
	for rows.Next() {
		var id int64
		var c row
		if err := rows.Scan(&id, &c.status, &c.key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("record events: contacts: %w", err)
		}
		got[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record events: contacts: %w", err)
	}
	return keep(live, func(r *eventReq) bool {
		if r.in.ContactID == 0 {
			return true
		}
		c, ok := got[r.in.ContactID]
		switch {
		case !ok:
			r.err = errs.Field("contact_id", "no such contact")
		case c.status == StatusErased:
			r.err = errs.New(errs.Conflict, "the contact was erased")
		case r.in.Email != "" && strings.ToLower(mustNormal(r.in.Email)) != c.key:
			r.err = errs.Field("email", "does not belong to contact %d", r.in.ContactID)
		default:
			r.contactID = r.in.ContactID
			return true
		}
		return false
	}), nil
}

// groupEmails finds the contact of each event given by address, creating
// the new ones (the first event of a new address answers contact_created).
func groupEmails(ctx context.Context, tx pgx.Tx, live []*eventReq) ([]*eventReq, error) {
	var emails, keys []string
	seen := map[string]bool{}
	for _, r := range live {
		if r.in.ContactID != 0 {
			continue
		}
		norm := mustNormal(r.in.Email)
		r.emailKey = strings.ToLower(norm)
		if !seen[r.emailKey] {
			seen[r.emailKey] = true
			emails, keys = append(emails, norm), append(keys, r.emailKey)
		}
	}
	if len(emails) == 0 {
		return live, nil
	}
	// Inserted in email_key order: concurrent groups take the unique
	// index's locks in one order.
	sort.Sort(byKey{emails, keys})
	ids := map[string]int64{}
	created := map[string]bool{}
	if err := scanKeys(ctx, tx, "group_insert_contacts", emails, func(id int64, key string) {
		ids[key], created[key] = id, true
	}); err != nil {
		return nil, err
	}
	if len(ids) < len(keys) {
		if err := scanKeys(ctx, tx, "group_contacts_by_key", keys, func(id int64, key string) {
			if _, ok := ids[key]; !ok {
				ids[key] = id
			}
		}); err != nil {
			return nil, err
		}
	}
	for _, r := range live {
		if r.in.ContactID != 0 {
			continue
		}
		id, ok := ids[r.emailKey]
		if !ok {
			return nil, fmt.Errorf("record events: no contact for %q after its insert", r.emailKey)
		}
		r.contactID, r.created = id, created[r.emailKey]
		created[r.emailKey] = false // the first event of a new address made it
	}
	return live, nil
}

// byKey sorts addresses by their email_key.
type byKey struct{ emails, keys []string }

func (b byKey) Len() int           { return len(b.keys) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.emails[i], b.emails[j] = b.emails[j], b.emails[i]
}

// scanKeys runs a query of the (id, email_key) shape over arg.
func scanKeys(ctx context.Context, tx pgx.Tx, name string, arg []string, each func(int64, string)) error {
	rows, err := tx.Query(ctx, query(name), arg)
	if err != nil {
		return fmt.Errorf("record events: contacts: %w", err)
	}
	var id int64
	var key string
	_, err = pgx.ForEachRow(rows, []any{&id, &key}, func() error {
		each(id, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record events: contacts: %w", err)
	}
	return nil
}

// groupInsert stores the transactions of the events left, with ids taken
// in their order so each answer is its own. A key taken since groupKeys
// read (by a transaction it could not see) gives errKeyTaken.
func groupInsert(ctx context.Context, tx pgx.Tx, live []*eventReq) error {
	if len(live) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, query("group_transaction_ids"), len(live))
	if err != nil {
		return fmt.Errorf("record events: ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != len(live) {
		return fmt.Errorf("record events: ids: %d for %d events: %w", len(ids), len(live), err)
	}
	n := len(live)
	contactIDs, campaignIDs := make([]int64, n), make([]*int64, n)
	types, currencies, attrs, keys, digests := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	values, occurred := make([]float64, n), make([]time.Time, n)
	byID := make(map[int64]*eventReq, n)
	now := time.Now()
	for i, r := range live {
		raw, err := json.Marshal(r.in.Attributes)
		if err != nil {
			return fmt.Errorf("record events: attributes: %w", err)
		}
		contactIDs[i], campaignIDs[i], types[i], currencies[i] = r.contactID, r.in.CampaignID, r.in.Type, r.in.Currency
		attrs[i], keys[i], digests[i], values[i], occurred[i] = string(raw), r.in.IdempotencyKey, r.digest, r.in.Value, now
		if r.in.OccurredAt != nil {
			occurred[i] = *r.in.OccurredAt
		}
		byID[ids[i]] = r
	}
	rows, err = tx.Query(ctx, query("group_insert_transactions"), ids, contactIDs, types, values, currencies, campaignIDs,
		attrs, occurred, keys, digests)
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	stored := 0
	for rows.Next() {
		var t Transaction
		if err := rows.Scan(&t.ID, &t.ContactID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.DeliveryID, &t.Attributes,
			&t.OccurredAt, &t.CreatedAt); err != nil {
			rows.Close()
			return fmt.Errorf("record events: %w", err)
		}
		r := byID[t.ID]
		t.IdempotencyKey = r.in.IdempotencyKey
		r.t, r.stored = t, true
		stored++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	if stored < n {
		return errKeyTaken
	}
	return nil
}

// react runs what reacts to the group's new events: each conversion's
// stats and attribution, then the hooks, once for the group where they
// take groups (EventsHook).
func (w *EventWriter) react(ctx context.Context, tx pgx.Tx, live []*eventReq) error {
	ts := make([]Transaction, 0, len(live))
	for _, r := range live {
		if err := reactConversion(ctx, tx, w.conv, &r.t); err != nil {
			return err
		}
		ts = append(ts, r.t)
	}
	if len(ts) == 0 {
		return nil
	}
	for _, h := range w.hooks {
		if h == nil {
			continue
		}
		if many, ok := h.(EventsHook); ok {
			if err := many.EventsRecorded(ctx, tx, ts); err != nil {
				return fmt.Errorf("record events: journeys: %w", err)
			}
			continue
		}
		for _, t := range ts {
			if err := h.EventRecorded(ctx, tx, t); err != nil {
				return fmt.Errorf("record events: journeys: %w", err)
			}
		}
	}
	return nil
}

// keep returns the events for which f is true, in order (f answers the
// others).
func keep(live []*eventReq, f func(*eventReq) bool) []*eventReq {
	out := live[:0]
	for _, r := range live {
		if f(r) {
			out = append(out, r)
		}
	}
	return out
}

// mustNormal is the normalised address of an event Record has checked.
func mustNormal(email string) string {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return email // Record refused it before the group: not reached
	}
	return norm
}
