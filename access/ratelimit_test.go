package access

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for tests that must not sleep.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestLimiterBurst(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	k := LimitKey{Peer: "p1", Subject: "user:alice"}
	verified := 0
	for i := 0; i < 20; i++ {
		if l.Wait(k) > 0 {
			continue
		}
		verified++
		l.Fail(k)
	}
	if verified != 5 {
		t.Fatalf("a burst of 20 wrong passwords got %d verifications, want 5", verified)
	}
	if w := l.Wait(k); w <= 0 {
		t.Fatal("key not blocked after the burst")
	}
	// Another peer, and another account of the same peer, are unaffected.
	if l.Wait(LimitKey{Peer: "p2", Subject: "user:alice"}) != 0 || l.Wait(LimitKey{Peer: "p1", Subject: "user:bob"}) != 0 {
		t.Fatal("block leaked to other keys")
	}
}

func TestLimiterSustainedRate(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	k := LimitKey{Peer: "p1", Subject: "user:alice"}
	// A patient attacker tries as soon as allowed, for one hour.
	start := clk.Now()
	var tries []time.Time
	for clk.Now().Sub(start) < time.Hour {
		if w := l.Wait(k); w > 0 {
			clk.Advance(w)
			continue
		}
		tries = append(tries, clk.Now())
		l.Fail(k)
	}
	if len(tries) > 30 {
		t.Fatalf("%d tries in an hour", len(tries))
	}
	// After the ramp, at most a few tries a minute.
	lastMinute := 0
	for _, at := range tries {
		if clk.Now().Sub(at) <= time.Minute {
			lastMinute++
		}
	}
	if lastMinute > 3 {
		t.Fatalf("%d tries in the last minute", lastMinute)
	}
	t.Logf("%d tries in one hour", len(tries))
}

func TestLimiterSuccessAndForget(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Now: clk.Now, Free: 2, Base: time.Second, Max: time.Minute, Forget: 10 * time.Minute})
	k := LimitKey{Peer: "p", Subject: "s"}
	l.Fail(k)
	l.Fail(k)
	if l.Wait(k) == 0 {
		t.Fatal("not blocked after Free failures")
	}
	l.Success(k)
	if l.Wait(k) != 0 {
		t.Fatal("success did not reset")
	}
	for range 10 {
		l.Fail(k)
	}
	if w := l.Wait(k); w != time.Minute {
		t.Fatalf("wait %v, want the 1 min cap", w)
	}
	clk.Advance(11 * time.Minute)
	if l.Wait(k) != 0 {
		t.Fatal("failures not forgotten after a quiet period")
	}
	l.Fail(k)
	if l.Wait(k) != 0 {
		t.Fatal("count did not restart after being forgotten")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Now: clk.Now, MaxKeys: 100})
	for i := range 1000 {
		l.Fail(LimitKey{Peer: "p", Subject: string(rune(i + 1000))})
		clk.Advance(time.Millisecond)
	}
	if n := len(l.keys); n > 100 {
		t.Fatalf("%d keys kept, cap 100", n)
	}
}

func TestPeerGate(t *testing.T) {
	g := NewPeerGate(2)
	r1, ok1 := g.Enter("a")
	r2, ok2 := g.Enter("a")
	_, ok3 := g.Enter("a")
	rb, okb := g.Enter("b")
	if !ok1 || !ok2 || ok3 || !okb {
		t.Fatalf("gate: %v %v %v %v", ok1, ok2, ok3, okb)
	}
	r1()
	r1() // idempotent
	if _, ok := g.Enter("a"); !ok {
		t.Fatal("slot not released")
	}
	r2()
	rb()
}
