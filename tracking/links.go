package tracking

import (
	"context"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
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

// Link cache defaults (LinkCache's zero value).
const (
	DefaultLinkCacheSize = 1024
	DefaultLinkCacheTTL  = 10 * time.Second
)

// LinkCache holds campaign steps' recorded links (campaign_links: the click
// endpoint's redirect targets, and what the send worker compares rewritten
// links with) in memory: the least recently used step goes first when it
// is full, and a step is read again once it is older than TTL. The click
// endpoint still redirects with links past their TTL while the database is
// down. It is safe for concurrent use; the zero value is ready, with the
// defaults below.
type LinkCache struct {
	// Size is how many campaign steps are kept. Default 1024.
	Size int
	// TTL is how long a step's links are used before they are read again.
	// Default 10 s.
	TTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time

	once sync.Once
	c    *lru.Cache[linkKey, linkSet]
}

// NewLinkCache returns a LinkCache of size steps whose entries are fresh
// for ttl by now.
func NewLinkCache(size int, ttl time.Duration, now func() time.Time) *LinkCache {
	return &LinkCache{Size: size, TTL: ttl, Now: now}
}

func (lc *LinkCache) init() {
	lc.once.Do(func() {
		if lc.Size <= 0 {
			lc.Size = DefaultLinkCacheSize
		}
		if lc.TTL <= 0 {
			lc.TTL = DefaultLinkCacheTTL
		}
		if lc.Now == nil {
			lc.Now = time.Now
		}
		lc.c, _ = lru.New[linkKey, linkSet](lc.Size) // errs only for a size <= 0
	})
}

// Links returns the links (index → URL) of campaignID's step, from the
// cache while fresh, otherwise read from db.
func (lc *LinkCache) Links(ctx context.Context, db DBTX, campaignID int64, step string) (map[int]string, error) {
	lc.init()
	k := linkKey{campaignID, step}
	if s, ok := lc.c.Get(k); ok && lc.Now().Sub(s.fetched) <= lc.TTL {
		return s.urls, nil
	}
	if err := lc.fetch(ctx, db, []linkKey{k}); err != nil {
		return nil, err
	}
	s, _ := lc.c.Peek(k)
	return s.urls, nil
}

// lookup returns a fresh cached URL.
func (lc *LinkCache) lookup(k linkKey, idx int) (string, bool) {
	lc.init()
	s, ok := lc.c.Get(k)
	if !ok || lc.Now().Sub(s.fetched) > lc.TTL {
		return "", false
	}
	u, ok := s.urls[idx]
	return u, ok
}

// stale returns a cached URL however old: for redirects while the database
// is down.
func (lc *LinkCache) stale(k linkKey, idx int) (string, bool) {
	lc.init()
	s, ok := lc.c.Get(k)
	if !ok {
		return "", false
	}
	u, ok := s.urls[idx]
	return u, ok
}

// fetch loads the links of ks in one query.
func (lc *LinkCache) fetch(ctx context.Context, db DBTX, ks []linkKey) error {
	lc.init()
	seen := map[linkKey]bool{}
	var camps []int64
	var steps []string
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			camps, steps = append(camps, k.campaignID), append(steps, k.step)
		}
	}
	rows, err := db.Query(ctx, query("campaign_links"), camps, steps)
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
	now := lc.Now()
	for k, urls := range got {
		lc.c.Add(k, linkSet{urls: urls, fetched: now})
	}
	return nil
}
