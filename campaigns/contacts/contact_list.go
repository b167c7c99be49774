package contacts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ListQuery selects contacts for GET /contacts.
type ListQuery struct {
	// Q matches email or name, case-insensitively, as a substring.
	Q string
	// Segment, when set, keeps only contacts matching it.
	Segment SegmentFilter
	After   int64
	Limit   int
}

// List returns up to q.Limit contacts with id > q.After in id order.
func List(ctx context.Context, db DBTX, q ListQuery) ([]Contact, error) {
	out := []Contact{}
	after := q.After
	for len(out) < q.Limit {
		want := q.Limit - len(out)
		ids, last, done, err := listIDs(ctx, db, q, after, want)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			cs, err := GetMany(ctx, db, ids)
			if err != nil {
				return nil, err
			}
			byID := make(map[int64]Contact, len(cs))
			for _, c := range cs {
				byID[c.ID] = c
			}
			for _, id := range ids {
				if c, ok := byID[id]; ok {
					out = append(out, c)
				}
			}
		}
		if done {
			break
		}
		after = last
	}
	return out, nil
}

// listIDs returns candidate ids in id order after after: those matching
// q.Q in SQL and then, when there is a segment, its rule.
func listIDs(ctx context.Context, db DBTX, q ListQuery, after int64, want int) (ids []int64, last int64, done bool, err error) {
	like := likePattern(q.Q)
	where, args, translatable := "TRUE", []any(nil), true
	if q.Segment != nil {
		where, args, translatable = q.Segment.SQL(time.Now(), 3)
		where = "c.status <> 'erased' AND " + where
	}
	if translatable {
		rows, err := db.Query(ctx, `SELECT c.id FROM contacts c`+StatsJoin+` WHERE c.id > $1
			AND ($3 = '%%' OR c.email_key LIKE $3 OR lower(c.name) LIKE $3) AND `+where+` ORDER BY c.id LIMIT $2`,
			append([]any{after, want, like}, args...)...)
		if err != nil {
			return nil, 0, false, fmt.Errorf("list contacts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, 0, false, fmt.Errorf("list contacts: %w", err)
			}
			ids = append(ids, id)
		}
		return ids, 0, true, rows.Err()
	}
	// Go path: one page of the rule, then the text filter on those.
	matched, err := q.Segment.MatchingIDs(ctx, db, time.Now(), after, want)
	if err != nil {
		return nil, 0, false, err
	}
	if len(matched) == 0 {
		return nil, 0, true, nil
	}
	rows, err := db.Query(ctx, query("filter_contacts"), matched, like)
	if err != nil {
		return nil, 0, false, fmt.Errorf("list contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, 0, false, fmt.Errorf("list contacts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, matched[len(matched)-1], len(matched) < want, rows.Err()
}

// selectPage returns the next ids of q's selection after after, in id
// order, with the cursor to continue from and whether the selection is
// exhausted. On the Go path the cursor may pass the last id returned (the
// rule's page was scanned further than the text filter kept).
func selectPage(ctx context.Context, db DBTX, q ListQuery, after int64, want int) (ids []int64, cursor int64, end bool, err error) {
	ids, last, done, err := listIDs(ctx, db, q, after, want)
	if err != nil {
		return nil, 0, false, err
	}
	if last == 0 { // the SQL path, or a Go path that matched nothing more
		cursor = after
		if len(ids) > 0 {
			cursor = ids[len(ids)-1]
		}
		return ids, cursor, len(ids) < want, nil
	}
	return ids, last, done, nil
}

// countPage is how many ids Count reads per round trip on the Go path.
const countPage = 2000

// Count returns how many contacts q selects (the contact list's total),
// ignoring q.After and q.Limit: one count(*) where the segment runs in SQL,
// else a keyset walk that holds one page at a time.
func Count(ctx context.Context, db DBTX, q ListQuery) (int64, error) {
	like := likePattern(q.Q)
	where, args, translatable := "TRUE", []any(nil), true
	if q.Segment != nil {
		where, args, translatable = q.Segment.SQL(time.Now(), 1)
		where = "c.status <> 'erased' AND " + where
	}
	if translatable {
		var n int64
		err := db.QueryRow(ctx, `SELECT count(*) FROM contacts c`+StatsJoin+`
			WHERE ($1 = '%%' OR c.email_key LIKE $1 OR lower(c.name) LIKE $1) AND `+where,
			append([]any{like}, args...)...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count contacts: %w", err)
		}
		return n, nil
	}
	var n int64
	var after int64
	for {
		ids, cursor, end, err := selectPage(ctx, db, q, after, countPage)
		if err != nil {
			return 0, err
		}
		n += int64(len(ids))
		if end {
			return n, nil
		}
		after = cursor
	}
}

// likePattern is the LIKE pattern of a search text ('%%' for none).
func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
}

func sortByID(cs []Contact) {
	slices.SortFunc(cs, func(a, b Contact) int { return cmp.Compare(a.ID, b.ID) })
}
