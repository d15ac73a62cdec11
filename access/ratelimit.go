package access

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// LimiterConfig tunes a Limiter. Zero values are the defaults.
type LimiterConfig struct {
	// Free is how many failures in a row cost nothing (default 5).
	Free int
	// Base is the delay after the first failure beyond Free; it doubles
	// with every further failure (default 1 s).
	Base time.Duration
	// Max caps the delay (default 5 min): a sustained guesser gets at most
	// one try per Max, after a short ramp (1 s, 2 s, 4 s, … 5 min).
	Max time.Duration
	// Forget drops a key's count after this long without a failure
	// (default 15 min, at least 2×Max).
	Forget time.Duration
	// MaxKeys bounds the memory used (default 10,000 keys).
	MaxKeys int
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
}

func (c *LimiterConfig) setDefaults() {
	if c.Free <= 0 {
		c.Free = 5
	}
	if c.Base <= 0 {
		c.Base = time.Second
	}
	if c.Max <= 0 {
		c.Max = 5 * time.Minute
	}
	if c.Forget <= 0 {
		c.Forget = 15 * time.Minute
	}
	c.Forget = max(c.Forget, 2*c.Max)
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// LimitKey is what failures are counted by: the peer and the account (or
// "share:NAME" for resource passwords, "guest" for guests).
type LimitKey struct {
	Peer    string
	Subject string
}

type limitState struct {
	failures int
	last     time.Time
	until    time.Time
}

// Limiter slows down failed logins per (peer, account): the first Free
// failures are free, then each further one blocks the key for an
// exponentially growing time. Attempts refused while blocked are not
// verified and not counted, so a burst of wrong passwords costs the
// attacker time without locking the key for ever; a success resets the
// key. Other peers, and other accounts of the same peer, are unaffected.
type Limiter struct {
	cfg LimiterConfig

	mu   sync.Mutex
	keys map[LimitKey]*limitState
}

// NewLimiter returns a limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.setDefaults()
	return &Limiter{cfg: cfg, keys: map[LimitKey]*limitState{}}
}

// Wait returns how long key must wait before its next attempt (0: go ahead).
func (l *Limiter) Wait(key LimitKey) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.keys[key]
	if st == nil {
		return 0
	}
	now := l.cfg.Now()
	if now.Sub(st.last) > l.cfg.Forget {
		delete(l.keys, key)
		return 0
	}
	if d := st.until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Fail records a failed attempt and returns the wait it imposes.
func (l *Limiter) Fail(key LimitKey) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	st := l.keys[key]
	if st == nil || now.Sub(st.last) > l.cfg.Forget {
		if len(l.keys) >= l.cfg.MaxKeys {
			l.evictLocked(now)
		}
		st = &limitState{}
		l.keys[key] = st
	}
	st.failures++
	st.last = now
	if over := st.failures - l.cfg.Free; over >= 0 {
		d := l.cfg.Max
		if over < 30 {
			d = time.Duration(math.Min(float64(l.cfg.Base)*math.Pow(2, float64(over)), float64(l.cfg.Max)))
		}
		st.until = now.Add(d)
		return d
	}
	return 0
}

// Success forgets key's failures.
func (l *Limiter) Success(key LimitKey) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// evictLocked makes room: forgotten keys first, else the stalest one.
func (l *Limiter) evictLocked(now time.Time) {
	var oldest LimitKey
	var oldestT time.Time
	for k, st := range l.keys {
		if now.Sub(st.last) > l.cfg.Forget {
			delete(l.keys, k)
			continue
		}
		if oldestT.IsZero() || st.last.Before(oldestT) {
			oldest, oldestT = k, st.last
		}
	}
	if len(l.keys) >= l.cfg.MaxKeys {
		delete(l.keys, oldest)
	}
}

// errRateLimited is the refusal of an attempt made while blocked.
func errRateLimited(wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	return fmt.Errorf("%w, retry in %ds", ErrRateLimited, secs)
}

// PeerGate caps requests in flight per peer, so one noisy peer cannot
// occupy every password verification (or offer prompt) and starve the
// others.
type PeerGate struct {
	max int

	mu     sync.Mutex
	active map[string]int
}

// NewPeerGate allows at most max concurrent requests per peer (default 4).
func NewPeerGate(max int) *PeerGate {
	if max <= 0 {
		max = 4
	}
	return &PeerGate{max: max, active: map[string]int{}}
}

// Enter takes a slot for peer, or reports false when it has none left.
// Call the returned release once done.
func (g *PeerGate) Enter(peer string) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active[peer] >= g.max {
		return nil, false
	}
	g.active[peer]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			if g.active[peer]--; g.active[peer] <= 0 {
				delete(g.active, peer)
			}
			g.mu.Unlock()
		})
	}, true
}

// workBudget is a token bucket over argon2 verifications: rate per second,
// burst as many, so however many peers and identities guess at once the
// owner spends at most that much CPU on password hashing.
type workBudget struct {
	rate float64
	now  func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newWorkBudget(rate float64, now func() time.Time) *workBudget {
	return &workBudget{rate: rate, now: now, tokens: rate, last: now()}
}

// take spends one token, if there is one.
func (b *workBudget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
