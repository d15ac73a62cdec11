package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/bulk"
)

// relay is an in-process UDP relay between a client and a server endpoint
// on loopback that damages the bulk records passing through it: it drops,
// reorders, duplicates and corrupts them, and can swallow everything (the
// peer vanishes). Other datagrams (handshake, SCTP) pass unharmed, so the
// tests measure the bulk channel's recovery and not SCTP's.
type relay struct {
	t      testing.TB
	front  *net.UDPConn // the client dials this
	back   *net.UDPConn // connected to the server
	client atomic.Pointer[net.UDPAddr]

	mu     sync.Mutex
	rng    *rand.Rand
	imp    impairment
	held   [2][][]byte // per direction: records held back (reordering)
	passed [2]int
	start  time.Time

	blackhole atomic.Bool
	// sctpOutage drops every datagram that is not a bulk record: SCTP's
	// packets (requests, responses, their acks) are lost while bulk
	// records pass.
	sctpOutage atomic.Bool
	bulkSeen   atomic.Int64
	damaged    atomic.Int64
}

// impairment is what the relay does to bulk records, per mille each.
type impairment struct {
	drop, dup, corrupt, reorder int
	// reorderBy is how many later records pass a held-back one.
	reorderBy int
	// Every burstEvery, everything is dropped for burstLen (a receiver
	// that did not read its socket for a while, a radio hiccup: the whole
	// flight and its acks lost).
	burstEvery, burstLen time.Duration
}

func newRelay(t testing.TB, server string, imp impairment) *relay {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	saddr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, saddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*net.UDPConn{front, back} {
		_ = c.SetReadBuffer(4 << 20)
		_ = c.SetWriteBuffer(4 << 20)
	}
	r := &relay{t: t, front: front, back: back, imp: imp, rng: rand.New(rand.NewPCG(1, 2)), start: time.Now()}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.pump(0) }()
	go func() { defer wg.Done(); r.pump(1) }()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		wg.Wait()
	})
	return r
}

func (r *relay) addr() string { return r.front.LocalAddr().String() }

// pump moves datagrams one way: dir 0 is client to server, 1 back.
func (r *relay) pump(dir int) {
	buf := make([]byte, 65536)
	for {
		var n int
		var err error
		if dir == 0 {
			var from *net.UDPAddr
			n, from, err = r.front.ReadFromUDP(buf)
			if err == nil {
				r.client.Store(from)
			}
		} else {
			n, err = r.back.Read(buf)
		}
		if err != nil {
			return
		}
		for _, d := range r.damage(dir, bytes.Clone(buf[:n])) {
			if dir == 0 {
				_, _ = r.back.Write(d)
			} else if to := r.client.Load(); to != nil {
				_, _ = r.front.WriteToUDP(d, to)
			}
		}
	}
}

// damage decides what becomes of one datagram: the datagrams to send now.
func (r *relay) damage(dir int, d []byte) [][]byte {
	if r.blackhole.Load() {
		return nil
	}
	if !bulk.IsRecord(d) {
		if r.sctpOutage.Load() {
			return nil
		}
		return [][]byte{d}
	}
	r.bulkSeen.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	roll := func(perMille int) bool { return perMille > 0 && r.rng.IntN(1000) < perMille }
	var out [][]byte
	// Held-back records go once enough later ones passed them.
	r.passed[dir]++
	if len(r.held[dir]) > 0 && r.passed[dir] >= r.imp.reorderBy {
		out = append(out, r.held[dir]...)
		r.held[dir], r.passed[dir] = nil, 0
	}
	switch {
	case r.imp.burstEvery > 0 && time.Since(r.start)%r.imp.burstEvery >= r.imp.burstEvery-r.imp.burstLen:
		r.damaged.Add(1)
		return out
	case roll(r.imp.drop):
		r.damaged.Add(1)
		return out
	case roll(r.imp.reorder):
		r.damaged.Add(1)
		if len(r.held[dir]) == 0 {
			r.passed[dir] = 0
		}
		r.held[dir] = append(r.held[dir], d)
		return out
	case roll(r.imp.corrupt):
		// A corrupt copy first (a bit flipped anywhere, header included),
		// then the original: the copy must be refused without harm.
		r.damaged.Add(1)
		bad := bytes.Clone(d)
		bad[r.rng.IntN(len(bad))] ^= 1 << r.rng.IntN(8)
		out = append(out, bad, d)
		return out
	case roll(r.imp.dup):
		r.damaged.Add(1)
		return append(out, d, d)
	}
	return append(out, d)
}

// patternBody is the test body: a byte sequence that differs at every offset
// within a chunk and between chunks, so a misplaced or stale chunk shows.
type patternBody struct{ off int64 }

func (p *patternBody) Read(b []byte) (int, error) {
	for i := range b {
		o := p.off + int64(i)
		b[i] = byte(o) ^ byte(o>>8)*31 ^ byte(o>>16)*7
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(n int64) [32]byte {
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(&patternBody{}, n))
	return [32]byte(h.Sum(nil))
}

// relayPair is a server peer with a "pattern" download, and a client
// endpoint with a live session to it through a relay.
type relayPair struct {
	server, client *testPeer
	relay          *relay
	peer           string
	addrs          []string
	sent           chan error // the server's SendBody results
}

func newRelayPair(t *testing.T, imp impairment) *relayPair {
	t.Helper()
	p := &relayPair{sent: make(chan error, 4)}
	p.server = newTestPeer(t, nil)
	p.server.mux.Handle("pattern", func(ctx context.Context, req Request, s *Stream) {
		var in struct{ Size int64 }
		_ = DecodeBody(req, &in)
		if err := s.Respond(nil); err != nil {
			return
		}
		_, err := s.SendBody(ctx, io.LimitReader(&patternBody{}, in.Size))
		p.sent <- err
		if err == nil {
			_, _ = s.ReadFrame()
		}
	})
	p.client = newTestPeer(t, nil)
	p.relay = newRelay(t, p.server.ep.Addr().String(), imp)
	p.peer = p.server.id.ID.String()
	p.addrs = []string{p.relay.addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := p.client.ep.Session(ctx, p.peer, p.addrs)
	if err != nil {
		t.Fatal(err)
	}
	if sess.bulk == nil {
		t.Fatal("no bulk channel negotiated")
	}
	return p
}

func (p *relayPair) download(ctx context.Context, n int64) ([32]byte, int64, error) {
	st, err := p.client.ep.Open(ctx, p.peer, p.addrs, "pattern", map[string]int64{"size": n})
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer st.Close()
	if err := st.ReadResponse("pattern", nil); err != nil {
		return [32]byte{}, 0, err
	}
	h := sha256.New()
	got, err := st.ReceiveBody(ctx, h, -1)
	return [32]byte(h.Sum(nil)), got, err
}

func (p *relayPair) upload(ctx context.Context, n int64) ([32]byte, int64, error) {
	st, err := p.client.ep.Open(ctx, p.peer, p.addrs, "upload", nil)
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer st.Close()
	if _, err := st.SendBody(ctx, io.LimitReader(&patternBody{}, n)); err != nil {
		return [32]byte{}, 0, err
	}
	var out struct {
		N   int64
		Sum []byte
	}
	if err := st.ReadResponse("upload", &out); err != nil {
		return [32]byte{}, 0, err
	}
	var sum [32]byte
	copy(sum[:], out.Sum)
	return sum, out.N, nil
}

// TestBulkSurvivesDamage moves bodies both ways through a relay that
// drops, reorders, duplicates and corrupts bulk records (data and acks);
// every body must arrive complete and unaltered.
func TestBulkSurvivesDamage(t *testing.T) {
	const size = 24<<20 + 12345 // not a multiple of any chunk size
	want := patternSum(size)
	tests := []struct {
		name string
		imp  impairment
	}{
		{"clean", impairment{}},
		{"loss 2%", impairment{drop: 20}},
		{"loss 10%", impairment{drop: 100}},
		{"reordering", impairment{reorder: 50, reorderBy: 20}},
		{"duplication", impairment{dup: 100}},
		{"corruption", impairment{corrupt: 50}},
		{"burst loss", impairment{burstEvery: 100 * time.Millisecond, burstLen: 20 * time.Millisecond}},
		{"everything", impairment{drop: 10, reorder: 20, reorderBy: 7, dup: 20, corrupt: 20, burstEvery: 150 * time.Millisecond, burstLen: 15 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newRelayPair(t, tc.imp)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			sum, n, err := p.download(ctx, size)
			if err != nil || n != size || sum != want {
				t.Fatalf("download: %d of %d bytes, hash ok %v: %v", n, size, sum == want, err)
			}
			if err := <-p.sent; err != nil {
				t.Fatalf("server's send: %v", err)
			}
			down := time.Since(start)
			start = time.Now()
			sum, n, err = p.upload(ctx, size)
			if err != nil || n != size || sum != want {
				t.Fatalf("upload: %d of %d bytes, hash ok %v: %v", n, size, sum == want, err)
			}
			if tc.imp != (impairment{}) && p.relay.damaged.Load() == 0 {
				t.Fatalf("the relay damaged none of %d bulk records", p.relay.bulkSeen.Load())
			}
			t.Logf("down %v, up %v; %d bulk records, %d damaged", down, time.Since(start), p.relay.bulkSeen.Load(), p.relay.damaged.Load())
		})
	}
}

// TestBulkPeerVanishes cuts the path in the middle of a transfer (a peer
// that crashed or left the network): both ends must give up with an error
// within a bounded time, not hang.
func TestBulkPeerVanishes(t *testing.T) {
	defer func(d time.Duration) { bulk.IdleTimeout = d }(bulk.IdleTimeout)
	bulk.IdleTimeout = time.Second
	p := newRelayPair(t, impairment{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const size = 1 << 40 // far more than can move before the cut
	go func() {
		for p.relay.bulkSeen.Load() < 2000 {
			time.Sleep(time.Millisecond)
		}
		p.relay.blackhole.Store(true)
	}()
	start := time.Now()
	_, n, err := p.download(ctx, size)
	if err == nil {
		t.Fatal("download of a vanished peer succeeded")
	}
	if ctx.Err() != nil {
		t.Fatalf("receiver only stopped at the test's deadline: %v", err)
	}
	t.Logf("receiver: %v after %d bytes, %v", err, n, time.Since(start))
	select {
	case err := <-p.sent:
		if err == nil {
			t.Fatal("sender to a vanished peer succeeded")
		}
		t.Logf("sender: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("sender still sending 5s after the receiver gave up")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("gave up only after %v", el)
	}
}

// TestBulkReceiverGivesUp: a receiver that stops (its writer fails) ends
// the sender's transfer too, promptly.
func TestBulkReceiverGivesUp(t *testing.T) {
	p := newRelayPair(t, impairment{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := p.client.ep.Open(ctx, p.peer, p.addrs, "pattern", map[string]int64{"size": 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.ReadResponse("pattern", nil); err != nil {
		t.Fatal(err)
	}
	errFull := errors.New("disk full")
	_, err = st.ReceiveBody(ctx, &failingWriter{after: 8 << 20, err: errFull}, -1)
	if !errors.Is(err, errFull) {
		t.Fatalf("receive: %v", err)
	}
	select {
	case err := <-p.sent:
		if err == nil {
			t.Fatal("sender succeeded after the receiver stopped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sender still sending 5s after the receiver stopped")
	}
	// The session still works.
	sum, n, err := p.download(ctx, 3<<20)
	if err != nil || n != 3<<20 || sum != patternSum(3<<20) {
		t.Fatalf("download after an abort: %d bytes: %v", n, err)
	}
}

// TestBulkLimit: a body over the receiver's limit is refused, and the
// sender learns it.
func TestBulkLimit(t *testing.T) {
	p := newRelayPair(t, impairment{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := p.client.ep.Open(ctx, p.peer, p.addrs, "pattern", map[string]int64{"size": 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.ReadResponse("pattern", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReceiveBody(ctx, io.Discard, 4<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("receive over limit: %v", err)
	}
	select {
	case err := <-p.sent:
		if err == nil {
			t.Fatal("sender succeeded past the receiver's limit")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sender still sending 5s after the receiver refused")
	}
}

type failingWriter struct {
	n, after int64
	err      error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.after {
		return 0, w.err
	}
	w.n += int64(len(p))
	return len(p), nil
}
