package forms

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Limiter is a per-client token bucket (golang.org/x/time/rate) over a
// bounded LRU of clients: memory stays bounded however many addresses
// come, and an evicted client starts again with a full bucket. It is per
// process; several processes each allow the rate.
type Limiter struct {
	mu      sync.Mutex
	clients *lru.Cache[string, *rate.Limiter]
	every   time.Duration
	burst   int
}

// NewLimiter allows burst requests at once per client, then one per every,
// remembering at most size clients.
func NewLimiter(every time.Duration, burst, size int) *Limiter {
	c, err := lru.New[string, *rate.Limiter](size)
	if err != nil {
		panic(err) // only a size <= 0: a wiring mistake
	}
	return &Limiter{clients: c, every: every, burst: burst}
}

// Allow takes one request of client at now; when the bucket is empty it
// answers false and how long until the next request would be allowed.
func (l *Limiter) Allow(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.Get(client)
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.clients.Add(client, lim)
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
