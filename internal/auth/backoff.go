package auth

import (
	"sync"
	"time"
)

// Backoff configures how failed logins slow a key down: after Free
// failures, the key waits Base before its next attempt, then twice as long
// after each further failure, up to Max. A key's failures are forgotten
// Forget after its last one.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// withDefaults fills in zero fields: free failures, then 1s doubling up
// to 15m, forgotten after 1h.
func (b Backoff) withDefaults(free int) Backoff {
	if b.Free == 0 {
		b.Free = free
	}
	if b.Base == 0 {
		b.Base = time.Second
	}
	if b.Max == 0 {
		b.Max = 15 * time.Minute
	}
	if b.Forget == 0 {
		b.Forget = time.Hour
	}
	return b
}

// delay is how long a key with n failures waits before its next attempt.
func (b Backoff) delay(n int) time.Duration {
	if n < b.Free {
		return 0
	}
	shift := n - b.Free
	if shift > 30 || b.Base<<shift > b.Max {
		return b.Max
	}
	return b.Base << shift
}

// failures are one key's recent failed logins and its attempts under way.
type failures struct {
	n        int
	inflight int
	last     time.Time // the latest failure
	until    time.Time // no attempt before
}

// backoffs holds the failures of every key under one Backoff. Callers
// hold loginGuard's lock.
type backoffs struct {
	cfg Backoff
	m   map[string]*failures
}

// maxKeys bounds memory under a flood of distinct keys: past it, keys with
// nothing to remember go, and if that is not enough the map is reset
// (which only ever loosens the limit).
const maxKeys = 100_000

// get returns key's failures, forgetting old ones.
func (b *backoffs) get(key string, now time.Time) *failures {
	f, ok := b.m[key]
	if !ok {
		b.prune(now)
		f = &failures{}
		b.m[key] = f
	}
	if f.n > 0 && now.Sub(f.last) > b.cfg.Forget {
		f.n, f.until = 0, time.Time{}
	}
	return f
}

// wait is how long key must wait before an attempt at now. Attempts under
// way count against the free ones, so a burst of concurrent guesses gets
// no more tries than one after another; past them, one at a time.
func (b *backoffs) wait(key string, now time.Time) time.Duration {
	f := b.get(key, now)
	if f.until.After(now) {
		return f.until.Sub(now)
	}
	if f.inflight >= max(1, b.cfg.Free-f.n) {
		return max(b.cfg.Base, time.Second)
	}
	return 0
}

// finish ends an attempt of key; a failed one counts.
func (b *backoffs) finish(key string, failed bool, now time.Time) {
	f := b.get(key, now)
	f.inflight = max(0, f.inflight-1)
	if failed {
		f.n++
		f.last = now
		if d := b.cfg.delay(f.n); d > 0 {
			f.until = now.Add(d)
		}
	}
	if f.n == 0 && f.inflight == 0 {
		delete(b.m, key)
	}
}

func (b *backoffs) prune(now time.Time) {
	if len(b.m) < maxKeys {
		return
	}
	for k, f := range b.m {
		if f.inflight == 0 && (f.n == 0 || now.Sub(f.last) > b.cfg.Forget) {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxKeys {
		b.m = map[string]*failures{}
	}
}

// loginGuard slows down password guessing without locking anyone out:
// failures count per client address (whichever accounts it tries) and per
// account and address together, never per account alone. An attacker's
// failures slow the attacker's address, while the owner logs in from
// theirs.
type loginGuard struct {
	mu   sync.Mutex
	ip   backoffs
	pair backoffs
}

func newLoginGuard(ip, pair Backoff) *loginGuard {
	return &loginGuard{ip: backoffs{cfg: ip, m: map[string]*failures{}}, pair: backoffs{cfg: pair, m: map[string]*failures{}}}
}

func pairKey(account, ip string) string { return account + "\x00" + ip }

// begin admits a login attempt for account from ip at now, or returns how
// long to wait first. An admitted attempt must be ended with end.
func (g *loginGuard) begin(account, ip string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := max(g.ip.wait(ip, now), g.pair.wait(pairKey(account, ip), now)); w > 0 {
		return w
	}
	g.ip.get(ip, now).inflight++
	g.pair.get(pairKey(account, ip), now).inflight++
	return 0
}

// outcome is how a login attempt ended.
type outcome int

const (
	loginFailed    outcome = iota // wrong email or password
	loginSucceeded                // logged in
	loginAborted                  // not judged (the database failed): nobody's failure
)

// end ends an attempt begun at begin. A failure counts for ip and for the
// pair. A success forgets the pair's failures but not ip's: logging in to
// one account must not reset the count of guesses at others.
func (g *loginGuard) end(account, ip string, o outcome, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pair := pairKey(account, ip)
	if o == loginSucceeded {
		f := g.pair.get(pair, now)
		f.n, f.until = 0, time.Time{}
	}
	g.ip.finish(ip, o == loginFailed, now)
	g.pair.finish(pair, o == loginFailed, now)
}
