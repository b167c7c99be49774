package contacts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AttributeKind is an attribute key seen in the data and the JSON type
// ("string", "number", "boolean", "object", "array" or "null") most of
// its values have.
type AttributeKind struct {
	Key  string
	Type string
}

// AttributeKinds returns the attribute keys (at most 100, sorted) of the
// newest sample contacts with their usual JSON type: the attributes the
// segment builder offers.
func AttributeKinds(ctx context.Context, db DBTX, sample int) ([]AttributeKind, error) {
	rows, err := db.Query(ctx, query("attribute_kinds"), sample)
	if err != nil {
		return nil, fmt.Errorf("attribute kinds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AttributeKind, error) {
		var a AttributeKind
		err := r.Scan(&a.Key, &a.Type)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("attribute kinds: %w", err)
	}
	return out, nil
}

// TagValues returns the tags (at most 200, sorted) of the newest sample
// contacts: the tags the segment builder offers.
func TagValues(ctx context.Context, db DBTX, sample int) ([]string, error) {
	rows, err := db.Query(ctx, query("tag_values"), sample)
	if err != nil {
		return nil, fmt.Errorf("tag values: %w", err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("tag values: %w", err)
	}
	return tags, nil
}

// AttributeValues returns, per attribute key, the most common text values
// (at most 20, most common first) on the newest sample contacts: the
// segment builder's suggestions.
func AttributeValues(ctx context.Context, db DBTX, sample int) (map[string][]string, error) {
	rows, err := db.Query(ctx, query("attribute_values"), sample)
	if err != nil {
		return nil, fmt.Errorf("attribute values: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("attribute values: %w", err)
		}
		out[k] = append(out[k], v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attribute values: %w", err)
	}
	return out, nil
}
