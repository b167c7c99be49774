package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// linkKey names one campaign step's links.
type linkKey struct {
	campaignID int64
	step       string
}

type linkSet struct {
	urls    map[int]string
	fetched time.Time
}

// linkCache holds campaign_links in memory (bounded, refreshed after a TTL)
// so clicks redirect without a query, and still redirect while the
// database is down for links seen recently.
type linkCache struct {
	c   *genCache[linkKey, linkSet]
	ttl time.Duration
	now func() time.Time
}

func newLinkCache(size int, ttl time.Duration, now func() time.Time) *linkCache {
	return &linkCache{c: newGenCache[linkKey, linkSet](size), ttl: ttl, now: now}
}

// lookup returns a fresh cached URL.
func (lc *linkCache) lookup(k linkKey, idx int) (string, bool) {
	s, ok := lc.c.get(k)
	if !ok || lc.now().Sub(s.fetched) > lc.ttl {
		return "", false
	}
	u, ok := s.urls[idx]
	return u, ok
}

// stale returns a cached URL however old: for redirects while the database
// is down.
func (lc *linkCache) stale(k linkKey, idx int) (string, bool) {
	s, ok := lc.c.get(k)
	if !ok {
		return "", false
	}
	u, ok := s.urls[idx]
	return u, ok
}

// fetch loads the links of ks.
func (lc *linkCache) fetch(ctx context.Context, tx pgx.Tx, ks []linkKey) error {
	seen := map[linkKey]bool{}
	var camps []int64
	var steps []string
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			camps, steps = append(camps, k.campaignID), append(steps, k.step)
		}
	}
	rows, err := tx.Query(ctx, `SELECT l.campaign_id, l.step, l.idx, l.url FROM campaign_links l
		JOIN unnest($1::bigint[], $2::text[]) AS k(c, s) ON l.campaign_id = k.c AND l.step = k.s`, camps, steps)
	if err != nil {
		return fmt.Errorf("load links: %w", err)
	}
	got := map[linkKey]map[int]string{}
	for k := range seen {
		got[k] = map[int]string{}
	}
	for rows.Next() {
		var k linkKey
		var idx int
		var u string
		if err := rows.Scan(&k.campaignID, &k.step, &idx, &u); err != nil {
			rows.Close()
			return fmt.Errorf("load links: %w", err)
		}
		got[k][idx] = u
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load links: %w", err)
	}
	now := lc.now()
	for k, urls := range got {
		lc.c.put(k, linkSet{urls: urls, fetched: now})
	}
	return nil
}
