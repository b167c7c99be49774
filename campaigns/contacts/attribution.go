package contacts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AttributeToCampaign sets transaction id's campaign to campaignID, when
// that campaign exists: for a conversion no delivery explains.
func AttributeToCampaign(ctx context.Context, db DBTX, id, campaignID int64) error {
	if _, err := db.Exec(ctx, query("attribute_transaction_to_campaign"), id, campaignID); err != nil {
		return fmt.Errorf("attribute transaction: %w", err)
	}
	return nil
}

// AttributeToDelivery sets transaction id's delivery and campaign.
func AttributeToDelivery(ctx context.Context, db DBTX, id, deliveryID, campaignID int64) error {
	if _, err := db.Exec(ctx, query("attribute_transaction_to_delivery"), id, deliveryID, campaignID); err != nil {
		return fmt.Errorf("attribute transaction: %w", err)
	}
	return nil
}

// TransactionCurrency returns transaction id's currency code, upper-cased
// and trimmed; "" when it has none or there is no such transaction.
func TransactionCurrency(ctx context.Context, db DBTX, id int64) (string, error) {
	var currency string
	err := db.QueryRow(ctx, query("transaction_currency"), id).Scan(&currency)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("read transaction currency: %w", err)
	}
	return currency, nil
}
