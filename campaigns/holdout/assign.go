package holdout

import (
	"context"
	"embed"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed queries.sql
var queriesFS embed.FS

var queries = sqlq.MustLoad(queriesFS)

// DBTX is a pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// MaxShare is the largest holdout share a campaign may keep out.
const MaxShare = 0.5

// Held reports whether the hash puts contactID in campaignID's holdout of
// share: FNV-1a over both ids, mixed (SplitMix64's finaliser) into a
// uniform number in [0, 1) compared with share. It holds no state: the
// same pair always gives the same answer, and different campaigns hold out
// independent groups.
func Held(campaignID, contactID int64, share float64) bool {
	if share <= 0 {
		return false
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(campaignID))
	binary.BigEndian.PutUint64(b[8:], uint64(contactID))
	h := fnv.New64a()
	_, _ = h.Write(b[:]) // never fails
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < share
}

// Exclude records the members of campaignID's holdout among contactIDs (a
// page of the launch walk) at at and returns the others, in their order,
// and how many were held out. With share 0 it returns contactIDs and
// touches nothing. Members recorded before (a page walked again after a
// crash) stay held out whatever the hash says now.
func Exclude(ctx context.Context, db DBTX, campaignID int64, share float64, contactIDs []int64, at time.Time) ([]int64, int, error) {
	if share <= 0 || len(contactIDs) == 0 {
		return contactIDs, 0, nil
	}
	held := map[int64]bool{}
	var chosen []int64
	for _, id := range contactIDs {
		if Held(campaignID, id, share) {
			held[id] = true
			chosen = append(chosen, id)
		}
	}
	rows, err := db.Query(ctx, queries.Get("record"), campaignID, at, chosen, contactIDs)
	if err != nil {
		return nil, 0, fmt.Errorf("holdout of campaign %d: %w", campaignID, err)
	}
	recorded, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, 0, fmt.Errorf("holdout of campaign %d: %w", campaignID, err)
	}
	for _, id := range recorded {
		held[id] = true
	}
	if len(held) == 0 {
		return contactIDs, 0, nil
	}
	rest := make([]int64, 0, len(contactIDs)-len(held))
	for _, id := range contactIDs {
		if !held[id] {
			rest = append(rest, id)
		}
	}
	return rest, len(held), nil
}

// Enter decides one contact entering a triggered campaign: it reports
// whether the contact is in the campaign's holdout (recording them the
// first time), in which case the entry sends nothing.
func Enter(ctx context.Context, db DBTX, campaignID int64, share float64, contactID int64, at time.Time) (bool, error) {
	if share <= 0 {
		return false, nil
	}
	rest, _, err := Exclude(ctx, db, campaignID, share, []int64{contactID}, at)
	return len(rest) == 0, err
}

// IsMember reports whether contactID is recorded in campaignID's holdout.
func IsMember(ctx context.Context, db DBTX, campaignID, contactID int64) (bool, error) {
	var ok bool
	if err := db.QueryRow(ctx, queries.Get("is_member"), campaignID, contactID).Scan(&ok); err != nil {
		return false, fmt.Errorf("holdout member: %w", err)
	}
	return ok, nil
}
