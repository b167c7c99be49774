package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// Export writes everything held about a contact as one JSON document,
// streaming the history so a long one is never held in memory:
//
//	{"exported_at":…, "contact":{… profile, consent, stats …},
//	 "suppressions":[…], "deliveries":[…], "events":[…], "transactions":[…]}
//
// An unknown contact gives errs.NotFound before anything is written.
func Export(ctx context.Context, db DBTX, id int64, w io.Writer) error {
	c, err := Get(ctx, db, id)
	if err != nil {
		return err
	}
	head, err := json.Marshal(map[string]any{"exported_at": time.Now().UTC(), "contact": c})
	if err != nil {
		return err
	}
	if _, err := w.Write(head[:len(head)-1]); err != nil { // leave the object open
		return err
	}
	sections := []struct{ name, sql string }{
		{"suppressions", `SELECT id, kind, value, reason, created_at FROM suppressions
			WHERE (kind = 'address' AND value = (SELECT email_key FROM contacts WHERE id = $1))
			   OR (kind = 'domain' AND value = (SELECT split_part(email_key, '@', 2) FROM contacts WHERE id = $1 AND status <> 'erased'))
			ORDER BY id`},
		{"deliveries", `SELECT id, campaign_id, step, status, attempts, last_error, response, queued_at, sent_at,
			bounced_at, first_open_at, first_click_at FROM deliveries WHERE contact_id = $1 ORDER BY id`},
		{"events", `SELECT id, delivery_id, campaign_id, step, type, link_idx, value::float8 AS value, machine, reason,
			user_agent, host(ip) AS ip, occurred_at FROM events
			WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1 ORDER BY id`},
		{"transactions", `SELECT id, type, value::float8 AS value, currency, campaign_id, delivery_id, attributes,
			occurred_at, created_at FROM transactions WHERE contact_id = $1 ORDER BY id`},
	}
	for _, s := range sections {
		if err := exportSection(ctx, db, w, s.name, s.sql, id); err != nil {
			return fmt.Errorf("export %s: %w", s.name, err)
		}
	}
	_, err = io.WriteString(w, "}\n")
	return err
}

// exportSection writes `,"name":[row, …]` with each row as an object keyed
// by column name.
func exportSection(ctx context.Context, db DBTX, w io.Writer, name, sql string, id int64) error {
	rows, err := db.Query(ctx, sql, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	if _, err := io.WriteString(w, `,"`+name+`":[`); err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		m, err := pgx.RowToMap(rows)
		if err != nil {
			return err
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if n > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = io.WriteString(w, "]")
	return err
}
