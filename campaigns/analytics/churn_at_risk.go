package analytics

import (
	"context"
	"fmt"
	"time"
)

// churnAtRiskWhere selects the customers at churn risk (ChurnThreshold as
// $1), for the summary's list and AtRisk alike.
const churnAtRiskWhere = "s.churn_risk >= $1 AND s.value > 0"

// ChurnAtRisk is how many customers the last scoring found at churn risk.
type ChurnAtRisk struct {
	// Count is the contacts whose churn risk is at least ChurnThreshold and
	// whose value is above 0: the summary's churn_risk.count.
	Count int64
	// ValueAtRisk sums churn risk × value over them.
	ValueAtRisk float64
	// ComputedAt is when their scores were computed; nil when no contact
	// at risk has scores (or scoring never ran).
	ComputedAt *time.Time
}

// AtRisk counts the customers at churn risk from the stored scores (it
// computes nothing: Recompute does, on its schedule).
func AtRisk(ctx context.Context, db DBTX) (ChurnAtRisk, error) {
	var r ChurnAtRisk
	if err := db.QueryRow(ctx, query("churn_at_risk"), ChurnThreshold).Scan(&r.Count, &r.ValueAtRisk, &r.ComputedAt); err != nil {
		return r, fmt.Errorf("analytics: churn at risk: %w", err)
	}
	r.ValueAtRisk = roundTo(r.ValueAtRisk, 2)
	return r, nil
}
