package transport

import (
	"context"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHandlerPanicEndsOnlyItsStream: a handler that panics on what a peer
// sent fails that request; the endpoint keeps serving.
func TestHandlerPanicEndsOnlyItsStream(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	b.mux.Handle("boom", func(context.Context, Request, *Stream) {
		var m map[string]int
		m["x"]++ // nil map: panics
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := []string{b.ep.Addr().String()}
	if _, err := a.ep.Call(ctx, b.id.ID.String(), addrs, "boom", nil, nil); err == nil {
		t.Fatal("call into a panicking handler succeeded")
	}
	if _, err := a.ep.Call(ctx, b.id.ID.String(), addrs, "echo", map[string]string{"text": "still here"}, nil); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
}

// TestStreamsPerSessionCapped: streams over MaxStreamsPerSession are
// closed unread; the ones served hold at most the cap, and once they end
// the session serves new requests again.
func TestStreamsPerSessionCapped(t *testing.T) {
	a := newTestPeer(t, nil)
	b := newTestPeerWith(t, nil, func(c *Config) { c.MaxStreamsPerSession = 8 })
	var (
		inFlight, peak atomic.Int32
		release        = make(chan struct{})
	)
	b.mux.Handle("hold", func(ctx context.Context, _ Request, s *Stream) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		_ = s.Respond(nil)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs := []string{b.ep.Addr().String()}
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			defer ccancel()
			if _, err := a.ep.Call(cctx, b.id.ID.String(), addrs, "hold", nil, nil); err != nil {
				refused.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for inFlight.Load() < 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p > 8 {
		t.Fatalf("%d streams served at once, cap 8", p)
	}
	if refused.Load() == 0 {
		t.Fatalf("no stream over the cap was refused")
	}
	t.Logf("40 concurrent requests, cap 8: peak %d served, %d refused", peak.Load(), refused.Load())
	if _, err := a.ep.Call(ctx, b.id.ID.String(), addrs, "echo", map[string]string{"text": "again"}, nil); err != nil {
		t.Fatalf("after the burst: %v", err)
	}
}

// TestSessionsCapped: incoming sessions over MaxSessions are closed after
// their handshake; an existing peer is not affected.
func TestSessionsCapped(t *testing.T) {
	b := newTestPeerWith(t, nil, func(c *Config) { c.MaxSessions = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs := []string{b.ep.Addr().String()}
	ok := 0
	for range 6 {
		a := newTestPeer(t, nil)
		if _, err := a.ep.Call(ctx, b.id.ID.String(), addrs, "echo", map[string]string{"text": "hi"}, nil); err == nil {
			ok++
		}
	}
	if ok != 3 {
		t.Fatalf("%d of 6 fresh identities got a session, cap 3", ok)
	}
}

// TestDeadPeerSessionClosed: a peer that vanishes while this side still
// sends to it (no goodbye, no close: its socket just stops) is noticed
// within deadAfter of silence, and its session and all it held are freed,
// rather than at the idle timeout; an idle live session stays.
func TestDeadPeerSessionClosed(t *testing.T) {
	// Restored after the peers' cleanups have closed them (cleanups run
	// last registered first), not while their loops still read it.
	old := deadAfter
	t.Cleanup(func() { deadAfter = old })
	deadAfter = 600 * time.Millisecond
	a := newTestPeer(t, nil)
	idle := newTestPeer(t, nil)
	b := newTestPeerWith(t, nil, func(c *Config) { c.DataPlane = StreamDataPlane{} })
	sending := make(chan struct{})
	b.mux.Handle("stream", func(ctx context.Context, _ Request, s *Stream) {
		if s.Respond(nil) != nil {
			return
		}
		close(sending)
		_, _ = s.SendBody(ctx, io.LimitReader(zeroReader{}, 1<<30))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs := []string{b.ep.Addr().String()}
	if _, err := idle.ep.Call(ctx, b.id.ID.String(), addrs, "echo", map[string]string{"text": "hi"}, nil); err != nil {
		t.Fatal(err)
	}
	st, err := a.ep.Open(ctx, b.id.ID.String(), addrs, "stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReadResponse("stream", nil); err != nil {
		t.Fatal(err)
	}
	<-sending
	// a vanishes: its socket closes under it, nothing is said.
	a.ep.ln.Socket().Close()
	gone := time.Now()
	has := func(id string) bool {
		for _, p := range b.ep.Sessions() {
			if p.ID == id {
				return true
			}
		}
		return false
	}
	for has(a.id.ID.String()) {
		if time.Since(gone) > 10*deadAfter {
			t.Fatalf("the session of a vanished peer still open after %v", time.Since(gone))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("a vanished peer's session closed after %v (deadAfter %v)", time.Since(gone).Round(time.Millisecond), deadAfter)
	if !has(idle.id.ID.String()) {
		t.Error("an idle live session was closed")
	}
}

// TestStrangerSessionsIdleOutSooner: an idle session of a peer the
// Stranger hook names closes after StrangerIdleTimeout; another peer's
// stays for the full idle timeout.
func TestStrangerSessionsIdleOutSooner(t *testing.T) {
	a, known := newTestPeer(t, nil), newTestPeer(t, nil)
	var strangerID string
	b := newTestPeerWith(t, nil, func(c *Config) {
		c.StrangerIdleTimeout = 400 * time.Millisecond
		c.Stranger = func(id string) bool { return id == strangerID }
	})
	strangerID = a.id.ID.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := []string{b.ep.Addr().String()}
	for _, p := range []*testPeer{a, known} {
		if _, err := p.ep.Call(ctx, b.id.ID.String(), addrs, "echo", map[string]string{"text": "hi"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	has := func(id string) bool {
		for _, p := range b.ep.Sessions() {
			if p.ID == id {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(3 * time.Second)
	for has(strangerID) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if has(strangerID) {
		t.Fatal("a stranger's idle session is still open after 3 s")
	}
	if !has(known.id.ID.String()) {
		t.Error("another peer's idle session was closed")
	}
}

// TestPingsKeepAKnownPeersSession: a session whose only traffic is
// liveness pings stays past the idle timeout on both ends, the prober's
// and the pinged one's (it used to close, and the next probe dialled a
// new one: a handshake per pair every IdleTimeout); a stranger's closes
// after StrangerIdleTimeout however often it pings.
func TestPingsKeepAKnownPeersSession(t *testing.T) {
	short := func(c *Config) { c.IdleTimeout = 400 * time.Millisecond }
	known, stranger := newTestPeerWith(t, nil, short), newTestPeer(t, nil)
	var strangerID string
	b := newTestPeerWith(t, nil, func(c *Config) {
		short(c)
		c.StrangerIdleTimeout = 400 * time.Millisecond
		c.Stranger = func(id string) bool { return id == strangerID }
	})
	strangerID = stranger.id.ID.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bID, addrs := b.id.ID.String(), []string{b.ep.Addr().String()}
	first := map[*testPeer]*Session{}
	for _, p := range []*testPeer{known, stranger} {
		if _, err := p.ep.Call(ctx, bID, addrs, "echo", map[string]string{"text": "hi"}, nil); err != nil {
			t.Fatal(err)
		}
		s, err := p.ep.Session(ctx, bID, nil)
		if err != nil {
			t.Fatal(err)
		}
		first[p] = s
	}
	// Pings only, every 100 ms, for four idle timeouts.
	for end := time.Now().Add(1600 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if err := known.ep.Ping(ctx, bID); err != nil {
			t.Fatalf("ping from a known peer: %v", err)
		}
		_ = stranger.ep.Ping(ctx, bID) // fails once b closed the session
	}
	has := func(id string) bool {
		return slices.ContainsFunc(b.ep.Sessions(), func(p PeerInfo) bool { return p.ID == id })
	}
	if !has(known.id.ID.String()) {
		t.Error("the pinged end closed a known peer's session that only pings used")
	}
	select {
	case <-first[known].Done():
		t.Error("the pinging end closed its session that only pings used")
	default:
	}
	if has(strangerID) {
		t.Error("a stranger's session stayed because it pinged")
	}
}
