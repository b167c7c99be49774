package tracking

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Person is what one contact did in one campaign, across all their
// deliveries (campaign_people): Opened and Clicked are 0 (no), 1 (machine
// traffic only) or 2 (a human).
type Person struct {
	Sent, Delivered          bool
	Opened, Clicked          int16
	Unsubscribed, Complained bool
	Converted                bool
}

// PersonOf reads what the contact did in the campaign; a contact never
// sent anything in it reads as the zero Person.
func PersonOf(ctx context.Context, db DBTX, campaignID, contactID int64) (Person, error) {
	var p Person
	err := db.QueryRow(ctx, query("person"), campaignID, contactID).
		Scan(&p.Sent, &p.Delivered, &p.Opened, &p.Clicked, &p.Unsubscribed, &p.Complained, &p.Converted)
	if errors.Is(err, pgx.ErrNoRows) {
		return Person{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("campaign person: %w", err)
	}
	return p, nil
}
