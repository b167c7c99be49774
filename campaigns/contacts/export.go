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
//	 "suppressions":[…], "deliveries":[…], "events":[…], "transactions":[…],
//	 "topics":[…], "consent":[…]}
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
		{"suppressions", query("export_suppressions")},
		{"deliveries", query("export_deliveries")},
		{"events", query("export_events")},
		{"transactions", query("export_transactions")},
		{"topics", query("export_topics")},
		{"consent", query("export_consent")},
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
