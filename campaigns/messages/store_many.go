package messages

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// heldKey is a message holding an idempotency key.
type heldKey struct {
	id      int64
	hash    []byte
	expired bool // taken before the TTL's start: to release
}

// nextIDs takes n new messages' ids.
func nextIDs(ctx context.Context, db DBTX, n int) ([]int64, error) {
	rows, err := db.Query(ctx, queries.Get("next_ids"), n)
	if err != nil {
		return nil, fmt.Errorf("message ids: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("message ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message ids: %w", err)
	}
	return ids, nil
}

// heldKeys finds the messages holding any of keys; those taken before
// oldest are marked expired.
func heldKeys(ctx context.Context, db DBTX, keys []string, oldest time.Time) (map[string]heldKey, error) {
	rows, err := db.Query(ctx, queries.Get("held_keys"), keys, oldest)
	if err != nil {
		return nil, fmt.Errorf("messages by idempotency key: %w", err)
	}
	defer rows.Close()
	out := map[string]heldKey{}
	for rows.Next() {
		var key string
		var h heldKey
		if err := rows.Scan(&h.id, &key, &h.hash, &h.expired); err != nil {
			return nil, fmt.Errorf("messages by idempotency key: %w", err)
		}
		out[key] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages by idempotency key: %w", err)
	}
	return out, nil
}

// releaseKeys lets go of those of keys taken before oldest.
func releaseKeys(ctx context.Context, db DBTX, keys []string, oldest time.Time) error {
	if _, err := db.Exec(ctx, queries.Get("release_keys"), keys, oldest); err != nil {
		return fmt.Errorf("release idempotency keys: %w", err)
	}
	return nil
}

// insertMany stores rows (all at the same time) in one statement and
// returns how many it stored: fewer than len(rows) when a key was taken
// meanwhile by a transaction the caller did not see.
func insertMany(ctx context.Context, db DBTX, rows []newRow) (int, error) {
	n := len(rows)
	ids, dids, tids, cids, kids := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	keys, hashes, data := make([]*string, n), make([][]byte, n), make([]string, n)
	created, tx := make([]bool, n), make([]bool, n)
	for i, r := range rows {
		ids[i], dids[i], tids[i], cids[i], kids[i] = r.id, r.deliveryID, r.templateID, r.campaignID, r.contactID
		keys[i], hashes[i], created[i], tx[i] = r.key, r.hash, r.contactCreated, r.transactional
		data[i] = "{}"
		if r.data != nil {
			b, err := json.Marshal(r.data)
			if err != nil {
				return 0, fmt.Errorf("message data: %w", err)
			}
			data[i] = string(b)
		}
	}
	if n == 0 {
		return 0, nil
	}
	tag, err := db.Exec(ctx, queries.Get("insert_many"), ids, keys, hashes, tids, cids, kids, created, data, tx, dids, rows[0].at)
	if err != nil {
		return 0, fmt.Errorf("insert messages: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
