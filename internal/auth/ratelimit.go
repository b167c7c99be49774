package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (an IP or an account).
type keyedLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	m     map[string]*rate.Limiter
}

// maxKeys bounds memory under a flood of distinct keys: past it the map is
// reset (everyone gets a fresh bucket, which only ever loosens the limit).
const maxKeys = 100_000

func newKeyedLimiter(every time.Duration, burst int) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one token from key's bucket at now.
func (l *keyedLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxKeys {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[key] = lim
	}
	return lim.AllowN(now, 1)
}
