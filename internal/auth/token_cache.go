package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// TokenCacheTTL is how long a live token's lookup is reused. A revocation
// in this process takes effect at once (tokenGeneration); one made by
// another server process within TokenCacheTTL.
const TokenCacheTTL = 2 * time.Second

// tokenGeneration counts this process's revocations: a cached lookup from
// an earlier generation is not used.
var tokenGeneration atomic.Uint64

// tokenRevoked drops every cached token lookup (a token was revoked).
func tokenRevoked() { tokenGeneration.Add(1) }

// tokenCache keeps live tokens' lookups by the hash of their secret (never
// the secret), so API calls in a burst read the api_tokens row once per
// TokenCacheTTL rather than once each. Unknown and revoked tokens are not
// kept: each such request still asks the database.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	t   Token
	at  time.Time
	gen uint64
}

// maxCachedTokens bounds the cache; it is emptied when full.
const maxCachedTokens = 1024

// lookup is TokenBySecret through the cache.
func (c *tokenCache) lookup(ctx context.Context, db DBTX, secret string) (Token, error) {
	key := string(hashSecret(secret))
	gen := tokenGeneration.Load()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.at) < TokenCacheTTL {
		return e.t, nil
	}
	t, err := TokenBySecret(ctx, db, secret)
	if err != nil {
		return t, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[string]cachedToken{}
	}
	c.m[key] = cachedToken{t: t, at: time.Now(), gen: gen}
	c.mu.Unlock()
	return t, nil
}
