package deliveries

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CreateVariants is Create for an A/B test's step: contact i gets
// variants[i], recorded on its delivery, so a re-run or a restart finds
// the assignment made, never a new one.
func CreateVariants(ctx context.Context, db DBTX, campaignID int64, step string, contactIDs []int64, variants []string) ([]int64, error) {
	if len(contactIDs) != len(variants) {
		return nil, fmt.Errorf("insert deliveries: %d contacts, %d variants", len(contactIDs), len(variants))
	}
	rows, err := db.Query(ctx, queries.Get("create_variants"), campaignID, step, contactIDs, variants)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	return ids, nil
}

// VariantOutcome counts one variant's deliveries of an A/B test's step;
// Opened, Clicked and Converted count people among the Delivered (a
// contact has one delivery of the step), as docs/metrics.md defines the
// campaign's rates.
type VariantOutcome struct {
	Variant   string
	Created   int64
	Sent      int64
	Delivered int64
	Opened    int64
	Clicked   int64
	Converted int64
	// Revenue and RevenueSq are the sum and the sum of squares of each
	// delivered person's revenue in the currency asked for.
	Revenue   float64
	RevenueSq float64
}

// VariantOutcomes reads campaign id's outcomes of step by variant (a scan
// of the test's deliveries: bounded by the test group), revenue in
// currency.
func VariantOutcomes(ctx context.Context, db DBTX, campaignID int64, step, currency string) ([]VariantOutcome, error) {
	rows, err := db.Query(ctx, queries.Get("variant_outcomes"), campaignID, step, currency)
	if err != nil {
		return nil, fmt.Errorf("variant outcomes of campaign %d: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VariantOutcome, error) {
		var v VariantOutcome
		return v, r.Scan(&v.Variant, &v.Created, &v.Sent, &v.Delivered, &v.Opened, &v.Clicked, &v.Converted, &v.Revenue, &v.RevenueSq)
	})
	if err != nil {
		return nil, fmt.Errorf("variant outcomes of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
