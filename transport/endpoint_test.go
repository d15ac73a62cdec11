package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peerdesk/peerdesk/identity"
)

type testPeer struct {
	id    *identity.Identity
	trust *identity.TrustStore
	ep    *Endpoint
	mux   *Mux
}

func newTestPeer(t *testing.T, id *identity.Identity) *testPeer {
	t.Helper()
	return newTestPeerWith(t, id, nil)
}

func newTestPeerWith(t *testing.T, id *identity.Identity, tune func(*Config)) *testPeer {
	t.Helper()
	if id == nil {
		var err error
		id, _, _, err = identity.NewIdentity(uuid.New())
		if err != nil {
			t.Fatal(err)
		}
	}
	trust, err := identity.OpenTrustStore(filepath.Join(t.TempDir(), "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	mux := NewMux()
	mux.Handle("echo", func(ctx context.Context, req Request, s *Stream) {
		var in struct{ Text string }
		if err := DecodeBody(req, &in); err != nil {
			_ = s.Fail(err)
			return
		}
		_ = s.Respond(map[string]string{"text": in.Text, "from": s.Peer().ID})
	})
	mux.Handle("upload", func(ctx context.Context, req Request, s *Stream) {
		h := sha256.New()
		n, err := s.ReceiveBody(ctx, h, -1)
		if err != nil {
			_ = s.Fail(err)
			return
		}
		_ = s.Respond(map[string]any{"n": n, "sum": h.Sum(nil)})
	})
	mux.Handle("download", func(ctx context.Context, req Request, s *Stream) {
		var in struct{ Size int64 }
		_ = DecodeBody(req, &in)
		if err := s.Respond(nil); err != nil {
			return
		}
		_, _ = s.SendBody(ctx, io.LimitReader(zeroReader{}, in.Size))
		// Wait for the client to close its side before closing ours.
		_, _ = s.ReadFrame()
	})
	cfg := Config{Identity: id, Trust: trust, Handler: mux, HandshakeTimeout: 2 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	ep, err := Listen(context.Background(), "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return &testPeer{id: id, trust: trust, ep: ep, mux: mux}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestCallPinsOnFirstUseBothWays(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out struct{ Text, From string }
	peer, err := a.ep.Call(ctx, b.id.ID.String(), []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "hi"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "hi" || out.From != a.id.ID.String() {
		t.Fatalf("echo = %+v", out)
	}
	if peer.Fingerprint != b.id.Fingerprint() {
		t.Fatalf("fingerprint %s, want %s", peer.Fingerprint, b.id.Fingerprint())
	}
	if got := a.trust.Get(b.id.ID.String()); got.State != identity.TrustPinned || got.Fingerprint != b.id.Fingerprint() {
		t.Fatalf("a's pin of b = %+v", got)
	}
	if got := b.trust.Get(a.id.ID.String()); got.State != identity.TrustPinned || got.Fingerprint != a.id.Fingerprint() {
		t.Fatalf("b's pin of a = %+v", got)
	}
	// The session is reused: a second call does not dial again.
	if n := len(a.ep.Sessions()); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	if _, err := a.ep.Call(ctx, b.id.ID.String(), nil, "echo", map[string]string{"text": "again"}, &out); err != nil {
		t.Fatalf("reuse without address: %v", err)
	}
}

func TestChangedKeyIsRefused(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.ep.Call(ctx, b.id.ID.String(), []string{b.ep.Addr().String()}, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	// b comes back with a new key under the same uuid.
	b.ep.Close()
	a.ep.Drop(b.id.ID.String())
	forged, _, _, err := identity.NewIdentity(b.id.ID)
	if err != nil {
		t.Fatal(err)
	}
	b2 := newTestPeer(t, forged)
	_, err = a.ep.Call(ctx, b.id.ID.String(), []string{b2.ep.Addr().String()}, "echo", nil, nil)
	if !errors.Is(err, identity.ErrIdentityChanged) {
		t.Fatalf("err = %v, want ErrIdentityChanged", err)
	}
	// The pin stays; the new key is only a candidate.
	if st := a.trust.Get(b.id.ID.String()); st.State != identity.TrustPinned || st.Fingerprint != b.id.Fingerprint() || st.Offered != forged.Fingerprint() {
		t.Fatalf("trust = %+v", st)
	}
	// b2 dialling a is refused by a too.
	_, err = b2.ep.Call(ctx, a.id.ID.String(), []string{a.ep.Addr().String()}, "echo", nil, nil)
	if err == nil {
		t.Fatal("changed peer was let in")
	}
	// A bare re-trust keeps the pinned key: still refused.
	if _, err := a.trust.Trust(b.id.ID.String(), "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ep.Call(ctx, b.id.ID.String(), []string{b2.ep.Addr().String()}, "echo", nil, nil); !errors.Is(err, identity.ErrIdentityChanged) {
		t.Fatalf("after a bare re-trust: %v, want ErrIdentityChanged", err)
	}
	// Trusting the new key by name (its code compared): now it works.
	if _, err := a.trust.Trust(b.id.ID.String(), forged.Fingerprint(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ep.Call(ctx, b.id.ID.String(), []string{b2.ep.Addr().String()}, "echo", nil, nil); err != nil {
		t.Fatalf("after re-trust: %v", err)
	}
}

func TestWrongPeerAtAddress(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := a.ep.Call(ctx, uuid.NewString(), []string{b.ep.Addr().String()}, "echo", nil, nil)
	if !errors.Is(err, ErrWrongPeer) {
		t.Fatalf("err = %v, want ErrWrongPeer", err)
	}
}

func TestBodiesBothWays(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := make([]byte, 3<<20+123)
	rand.Read(data)
	st, err := a.ep.Open(ctx, b.id.ID.String(), []string{b.ep.Addr().String()}, "upload", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SendBody(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var out struct {
		N   int64
		Sum []byte
	}
	if err := st.ReadResponse("upload", &out); err != nil {
		t.Fatal(err)
	}
	st.Close()
	want := sha256.Sum256(data)
	if out.N != int64(len(data)) || !bytes.Equal(out.Sum, want[:]) {
		t.Fatalf("upload: n=%d sum mismatch", out.N)
	}

	st, err = a.ep.Open(ctx, b.id.ID.String(), nil, "download", map[string]int64{"size": 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReadResponse("download", nil); err != nil {
		t.Fatal(err)
	}
	n, err := st.ReceiveBody(ctx, io.Discard, -1)
	st.Close()
	if err != nil || n != 5<<20 {
		t.Fatalf("download: n=%d err=%v", n, err)
	}
}

func TestUnknownOpAndTimeout(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := a.ep.Call(ctx, b.id.ID.String(), []string{b.ep.Addr().String()}, "nosuch", nil, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	b.mux.Handle("slow", func(ctx context.Context, req Request, s *Stream) { time.Sleep(2 * time.Second) })
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = a.ep.Call(short, b.id.ID.String(), nil, "slow", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline", err)
	}
	if time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("call ignored its deadline: %v", time.Since(start))
	}
}

func TestUnreachable(t *testing.T) {
	a := newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := a.ep.Call(ctx, uuid.NewString(), []string{"127.0.0.1:9"}, "echo", nil, nil)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestIdleSessionClosesAndRedials(t *testing.T) {
	a := newTestPeerWith(t, nil, func(c *Config) { c.IdleTimeout = 400 * time.Millisecond })
	b := newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bid := b.id.ID.String()
	var out struct{ Text, From string }
	if _, err := a.ep.Call(ctx, bid, []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "1"}, &out); err != nil {
		t.Fatal(err)
	}
	first, err := a.ep.Session(ctx, bid, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Idle past the timeout: the session ends by itself.
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle session still open after 5s")
	}
	// The next call dials a new one at the address it knew.
	if _, err := a.ep.Call(ctx, bid, []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "2"}, &out); err != nil || out.Text != "2" {
		t.Fatalf("call after idle close: %v %+v", err, out)
	}
	second, err := a.ep.Session(ctx, bid, nil)
	if err != nil || second == first {
		t.Fatalf("no new session: %v", err)
	}
}

func TestStreamIDsAreNotReusedWhileOpen(t *testing.T) {
	s := &Session{open: map[uint16]struct{}{}, nextID: 65534}
	first, err := s.allocID()
	if err != nil || first != 65534 {
		t.Fatalf("first id %d, %v", first, err)
	}
	// Wrap around to 0, then come back round to 65534 while it is open.
	seen := map[uint16]bool{first: true}
	for range 1<<15 - 1 {
		id, err := s.allocID()
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	if _, err := s.allocID(); err == nil {
		t.Fatal("allocated with every id in use")
	}
	s.releaseID(first)
	if id, err := s.allocID(); err != nil || id != first {
		t.Fatalf("after release: %d, %v", id, err)
	}
}

// TestSessionsOffLostAddressesClose: a session whose local address the
// host no longer has (an undocked laptop's cable address) closes when told
// the host's addresses, on both sides of the call; one from an address
// still there stays.
func TestSessionsOffLostAddressesClose(t *testing.T) {
	a, b := newTestPeer(t, nil), newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bid := b.id.ID.String()
	var out struct{ Text, From string }
	if _, err := a.ep.Call(ctx, bid, []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "hi"}, &out); err != nil {
		t.Fatal(err)
	}
	sess, err := a.ep.Session(ctx, bid, nil)
	if err != nil {
		t.Fatal(err)
	}
	loopback := netip.MustParseAddr("127.0.0.1")
	if sess.local != loopback {
		t.Fatalf("the session's local address is %v, want %v", sess.local, loopback)
	}
	if ids := a.ep.CloseSessionsOffAddresses([]netip.Addr{netip.MustParseAddr("10.1.2.3"), loopback}); len(ids) != 0 {
		t.Fatalf("sessions with %v closed with their address still there", ids)
	}
	if ids := a.ep.CloseSessionsOffAddresses([]netip.Addr{netip.MustParseAddr("10.1.2.3")}); len(ids) != 1 || ids[0] != bid {
		t.Fatalf("sessions with %v closed, want %s's", ids, bid)
	}
	select {
	case <-sess.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the session is still open")
	}
	// The next call makes a new session.
	if _, err := a.ep.Call(ctx, bid, []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "again"}, &out); err != nil || out.Text != "again" {
		t.Fatalf("call after the close: %v %+v", err, out)
	}
	if again, err := a.ep.Session(ctx, bid, nil); err != nil || again == sess {
		t.Fatalf("no new session: %v", err)
	}
}
