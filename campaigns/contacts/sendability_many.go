package contacts

import (
	"context"
	"fmt"
)

// SendState is what decides whether a contact may receive a message: its
// status and whether its address or domain is suppressed.
type SendState struct {
	Status  string
	Address bool // the address is suppressed
	Domain  bool // the address's domain is suppressed
}

// Verdict is Sendability's answer for the state: whether the contact may
// receive a message (transactional: one the operator marked as such) and,
// when not, why.
func (s SendState) Verdict(transactional bool) (ok bool, reason string) {
	return sendVerdict(s.Status, s.Address, s.Domain, transactional)
}

// SendStates reads the SendState of many contacts in one query, by id;
// unknown (and erased-away) contacts are left out.
func SendStates(ctx context.Context, db DBTX, ids []int64) (map[int64]SendState, error) {
	rows, err := db.Query(ctx, query("sendability_many"), ids)
	if err != nil {
		return nil, fmt.Errorf("sendability: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]SendState, len(ids))
	for rows.Next() {
		var id int64
		var s SendState
		if err := rows.Scan(&id, &s.Status, &s.Address, &s.Domain); err != nil {
			return nil, fmt.Errorf("sendability: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sendability: %w", err)
	}
	return out, nil
}
