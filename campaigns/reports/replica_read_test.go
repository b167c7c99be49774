package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/migrations/pgtest"
)

// fixedReads routes every read to db, as of asOf.
type fixedReads struct {
	db   *pgxpool.Pool
	asOf time.Time
}

func (f fixedReads) Read(context.Context) (*pgxpool.Pool, time.Time) { return f.db, f.asOf }

// TestReportReadsTheReplicaUnlessItLacksTheCampaign: a report read through
// Service.Reads carries as_of and is read there (progress included); a
// campaign the replica does not have yet (saved a moment ago, here: a
// database without it) is reported from the primary, exact now.
func TestReportReadsTheReplicaUnlessItLacksTheCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	c := b.seed(t, 3, 100) // none refused
	b.launch(t, c)
	asOf := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	svc := b.svc // this test's own service (setup), so its reads may be rerouted
	svc.Reads = fixedReads{db: b.pool, asOf: asOf}
	r, err := svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.NotNil(t, r.AsOf)
	require.Equal(t, asOf, *r.AsOf)
	require.Equal(t, int64(3), r.Progress.Total)

	svc.Reads = fixedReads{db: pgtest.NewPool(t), asOf: asOf} // a replica that has not replayed the campaign
	r, err = svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Nil(t, r.AsOf, "read from the primary: no as_of")
	require.Equal(t, c.Name, r.Name)
	require.Equal(t, int64(3), r.Progress.Total)

	_, err = svc.Report(ctx, c.ID+1000)
	require.Error(t, err, "a campaign that exists nowhere is still not found")
	var _ campaigns.Reads = fixedReads{}
}
