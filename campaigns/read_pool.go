package campaigns

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/errs"
)

// Reads picks the database for a read that may lag, such as a report: a
// streaming replica while it is close enough to the primary, else the
// primary (cmd plugs in internal/replica's Router). asOf is when the
// chosen replica's data is as of; the zero time means the primary, exact
// now.
type Reads interface {
	Read(ctx context.Context) (db *pgxpool.Pool, asOf time.Time)
}

// ProgressReader is a Runtime that can count a campaign's progress on a
// given database (the report's), so a report read from a replica counts
// progress there too.
type ProgressReader interface {
	ProgressFrom(ctx context.Context, db DBTX, campaignID int64) (Progress, error)
}

// readDB is the database of s's reads that may lag and the time its data
// is as of (zero: the primary).
func (s *Service) readDB(ctx context.Context) (*pgxpool.Pool, time.Time) {
	if s.Reads == nil {
		return s.Pool, time.Time{}
	}
	return s.Reads.Read(ctx)
}

// readCampaign reads campaign id from s's read database and returns that
// database and its as-of time. A campaign the replica does not have yet
// (created a moment ago: the page after Save) is read from the primary,
// which then serves the whole report.
func (s *Service) readCampaign(ctx context.Context, id int64) (DBTX, time.Time, Campaign, error) {
	db, asOf := s.readDB(ctx)
	c, err := Get(ctx, db, id)
	if err != nil && errs.Is(err, errs.NotFound) && db != s.Pool {
		c, err = Get(ctx, s.Pool, id)
		return s.Pool, time.Time{}, c, err
	}
	return db, asOf, c, err
}

// progressOn counts campaign id's progress on db when the runtime can,
// else through the runtime's own pool.
func (s *Service) progressOn(ctx context.Context, db DBTX, id int64) (Progress, error) {
	if pr, ok := s.Runtime.(ProgressReader); ok {
		return pr.ProgressFrom(ctx, db, id)
	}
	return s.Runtime.Progress(ctx, id)
}

// asOfPtr is asOf for Report.AsOf: nil for the primary.
func asOfPtr(asOf time.Time) *time.Time {
	if asOf.IsZero() {
		return nil
	}
	return &asOf
}
