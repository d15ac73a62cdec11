package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func startNode(t *testing.T, home, name string, port int) *Node {
	t.Helper()
	n, err := Start(context.Background(), Config{
		Home: home, Name: name, Port: port, ListenHost: "127.0.0.1", NoMDNS: true,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Liveness: LivenessConfig{Interval: 200 * time.Millisecond, Timeout: 500 * time.Millisecond, OfflineAfter: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
	return 0
}

func peerState(n *Node, id string) discovery.Peer {
	p, _ := n.Peers.Get(id)
	return p
}

func TestManualPeerGoodbyeAndReturn(t *testing.T) {
	dir := t.TempDir()
	pa, pb := freePort(t), freePort(t)
	a := startNode(t, filepath.Join(dir, "a"), "alice", pa)
	b := startNode(t, filepath.Join(dir, "b"), "bob", pb)
	bID := b.Identity.ID.String()
	aID := a.Identity.ID.String()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := a.AddPeer(ctx, "127.0.0.1:"+strconv.Itoa(pb))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != bID || p.Name != "bob" || p.Fingerprint != b.Identity.Fingerprint() || p.Trust != "pinned" {
		t.Fatalf("added %+v", p)
	}
	// b learnt a from its hello, with a's listening port.
	waitFor(t, 2*time.Second, "b to see a", func() bool {
		q := peerState(b, aID)
		return q.Online && len(q.Addresses) > 0 && q.Addresses[0] == "127.0.0.1:"+strconv.Itoa(pa)
	})

	// Graceful stop: a hears the goodbye at once.
	events, unsub := a.Subscribe()
	defer unsub()
	b.Close()
	d := waitFor(t, time.Second, "a to see b leave", func() bool { return !peerState(a, bID).Online })
	t.Logf("goodbye seen after %v", d)
	for e := range events {
		if e.Kind == discovery.EventDown {
			if e.Reason != "goodbye" {
				t.Fatalf("down reason %q", e.Reason)
			}
			break
		}
	}

	// b restarts from the same home: it remembers a and comes back.
	b2 := startNode(t, filepath.Join(dir, "b"), "", pb)
	if b2.Identity.ID.String() != bID {
		t.Fatal("identity not kept across restart")
	}
	waitFor(t, 5*time.Second, "b back on a", func() bool { return peerState(a, bID).Online })
}

// addedPair starts alice and bob on loopback, alice having added bob by
// address.
func addedPair(t *testing.T) (a, b *Node) {
	t.Helper()
	dir := t.TempDir()
	pb := freePort(t)
	a = startNode(t, filepath.Join(dir, "a"), "alice", 0)
	b = startNode(t, filepath.Join(dir, "b"), "bob", pb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, "127.0.0.1:"+strconv.Itoa(pb)); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestSilentPeerGoesOffline(t *testing.T) {
	a, b := addedPair(t)
	bID := b.Identity.ID.String()
	// Vanish without a goodbye, as a crash would.
	b.endpoint.Close()
	d := waitFor(t, 10*time.Second, "b offline", func() bool { return !peerState(a, bID).Online })
	t.Logf("silent peer offline after %v", d)
}

func TestChangedIdentityIsRefusedUntilRetrusted(t *testing.T) {
	dir := t.TempDir()
	pb := freePort(t)
	a := startNode(t, filepath.Join(dir, "a"), "alice", 0)
	bHome := filepath.Join(dir, "b")
	b := startNode(t, bHome, "bob", pb)
	bID := b.Identity.ID.String()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, "127.0.0.1:"+strconv.Itoa(pb)); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// Same uuid, new key.
	_, certPEM, keyPEM, err := identity.NewIdentity(b.Identity.ID)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bHome, "identity.key"), keyPEM, 0o600)
	os.WriteFile(filepath.Join(bHome, "identity.crt"), certPEM, 0o600)
	b2 := startNode(t, bHome, "", pb)
	_, err = a.Ping(ctx, bID)
	if !errors.Is(err, identity.ErrIdentityChanged) || Code(err) != "changed" {
		t.Fatalf("ping changed peer: %v (code %s)", err, Code(err))
	}
	// The new key is a candidate; the pin and the table's trust stay.
	if got := a.Trust.Get(bID); got.State != identity.TrustPinned || got.Offered != b2.Identity.Fingerprint() {
		t.Fatalf("after the new key was offered: %+v", got)
	}
	if st := peerState(a, bID).Trust; st != string(identity.TrustPinned) {
		t.Fatalf("table trust %q, want pinned", st)
	}
	// A bare trust never adopts what was offered.
	if _, err := a.TrustPeer(bID, ""); !errors.Is(err, identity.ErrIdentityChanged) {
		t.Fatalf("bare trust with a candidate key: %v, want ErrIdentityChanged", err)
	}
	// A wrong code does not re-trust.
	if _, err := a.TrustPeer(bID, "AAAA-AAAA-AAAA-AAAA"); !errors.Is(err, ErrFingerprintMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := a.TrustPeer(bID, b2.Identity.Code()); err != nil {
		t.Fatal(err)
	}
	if got := a.Trust.Get(bID); got.State != identity.TrustVerified || got.Fingerprint != b2.Identity.Fingerprint() {
		t.Fatalf("after re-trust %+v", got)
	}
	if _, err := a.Ping(ctx, bID); err != nil {
		t.Fatalf("ping after re-trust: %v", err)
	}
}

func TestSecondInstanceRefusedAndControlSocket(t *testing.T) {
	home := filepath.Join(t.TempDir(), "a")
	a := startNode(t, home, "alice", 0)
	_, err := Start(context.Background(), Config{Home: home, NoMDNS: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second start: %v", err)
	}
	st, err := os.Stat(filepath.Join(home, control.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v", st.Mode().Perm())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var info IDInfo
	if err := control.Call(ctx, home, "id", nil, &info); err != nil {
		t.Fatal(err)
	}
	if info.ID != a.Identity.ID.String() || info.Name != "alice" || info.Code != a.Identity.Code() {
		t.Fatalf("id over control: %+v", info)
	}
	err = control.Call(ctx, home, "ping", PeerRef{Peer: "nobody"}, nil)
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != "not_found" {
		t.Fatalf("ping unknown: %v", err)
	}
	err = control.Call(ctx, home, "no.such.op", nil, nil)
	if !errors.As(err, &ce) || ce.Code != "usage" {
		t.Fatalf("unknown op: %v", err)
	}
	a.Close()
	if err := control.Call(ctx, home, "id", nil, nil); !errors.Is(err, control.ErrNotRunning) {
		t.Fatalf("after close: %v", err)
	}
}

func TestResolvePeer(t *testing.T) {
	st, err := OpenState(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st.Peers.Observe(discovery.Observation{ID: "11111111-0000-4000-8000-000000000001", Name: "Ana"}, now)
	st.Peers.Observe(discovery.Observation{ID: "11111111-0000-4000-8000-000000000002", Name: "Bo"}, now)
	st.Peers.Observe(discovery.Observation{ID: "22222222-0000-4000-8000-000000000003", Name: "bo"}, now)
	cases := []struct {
		ref  string
		want string
		err  error
	}{
		{"11111111-0000-4000-8000-000000000001", "Ana", nil},
		{"ana", "Ana", nil},
		{"2222", "bo", nil},
		{"1111", "", ErrUsage},
		{"bo", "", ErrUsage},
		{"zed", "", ErrPeerNotFound},
		{"", "", ErrUsage},
	}
	for _, c := range cases {
		p, err := st.ResolvePeer(c.ref)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q: err %v, want %v", c.ref, err, c.err)
			}
			continue
		}
		if err != nil || p.Name != c.want {
			t.Errorf("%q: got %q, %v", c.ref, p.Name, err)
		}
	}
}

// TestPrivateHomeResetsAnExistingHome: a home that exists with wider
// permissions is made 0700 before anything is put in it.
func TestPrivateHomeResetsAnExistingHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := PrivateHome(home); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(home); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("home mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

// TestPauseGatesEveryServiceOp: pausing sharing refuses every op a
// service registered, one added after start included, while the node's
// own hello still answers; resuming serves them again.
func TestPauseGatesEveryServiceOp(t *testing.T) {
	a := startNode(t, t.TempDir(), "a", freePort(t))
	b := startNode(t, t.TempDir(), "b", freePort(t))
	b.Mux().Handle("test.added-later", func(_ context.Context, _ transport.Request, s *transport.Stream) {
		_ = s.Respond(map[string]string{"ok": "yes"})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := []string{b.endpoint.Addr().String()}
	call := func(op string) error {
		_, err := a.endpoint.Call(ctx, b.Identity.ID.String(), addrs, op, map[string]any{}, nil)
		return err
	}
	if err := call("test.added-later"); err != nil {
		t.Fatal(err)
	}
	b.SetSharingPaused(true)
	for _, op := range []string{"test.added-later", shares.OpSharesList, shares.OpChunks, shares.OpSendOffer} {
		if err := call(op); err == nil || !strings.Contains(err.Error(), "sharing is paused") {
			t.Errorf("%s while paused: %v", op, err)
		}
	}
	if err := call(opHello); err != nil {
		t.Errorf("hello while paused: %v", err)
	}
	b.SetSharingPaused(false)
	if err := call("test.added-later"); err != nil {
		t.Errorf("after resuming: %v", err)
	}
}

func TestValidHostname(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"pc12.office.lan", true}, {"PC12", true}, {"pc12.office.lan.", true}, {"a-b.c", true},
		{"", false}, {"-pc", false}, {"pc-", false}, {"pc..lan", false}, {"pc_12", false}, {"pc 12", false},
		{strings.Repeat("a", 64), false}, {strings.Repeat("a.", 127) + "ab", false},
	} {
		if got := validHostname(tc.s); got != tc.ok {
			t.Errorf("validHostname(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

// With many peers online, a peer is probed and said a full hello to less
// often, within bounds that keep a crash detected in 10 s and a hello at
// least every 2 minutes.
func TestProbeAndHelloSpacingGrowWithPeers(t *testing.T) {
	for _, tc := range []struct {
		online        int64
		probe, helloN time.Duration
	}{
		{0, time.Second, 30 * time.Second},
		{10, time.Second, 30 * time.Second},
		{25, time.Second, 30 * time.Second},
		{50, 2 * time.Second, time.Minute},
		{100, 4 * time.Second, 2 * time.Minute},
		{1000, 4 * time.Second, 2 * time.Minute},
	} {
		l := &liveness{cfg: LivenessConfig{Interval: time.Second}}
		l.online.Store(tc.online)
		if got := l.interval(); got != tc.probe {
			t.Errorf("%d online: probe interval %v, want %v", tc.online, got, tc.probe)
		}
		if got := l.helloEvery(); got != tc.helloN {
			t.Errorf("%d online: hello every %v, want %v", tc.online, got, tc.helloN)
		}
	}
}

// A hello from a peer ends the back-off its absence earned: one back by
// its own dial is probed at the usual interval, so a crash right after
// is noticed within the usual time, not after the old retry.
func TestHelloEndsTheBackOff(t *testing.T) {
	l := newLiveness(&Node{}, LivenessConfig{})
	id := "00000000-0000-4000-8000-0000000000d1"
	now := time.Now()
	l.mu.Lock()
	st := l.stateLocked(id)
	st.failures, st.next = 5, now.Add(30*time.Second)
	l.mu.Unlock()
	l.helloFrom(id, hello{}, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if st.failures != 0 || st.next.After(now.Add(l.interval())) {
		t.Errorf("after a hello: %d failures, next probe in %v", st.failures, st.next.Sub(now))
	}
}

// Once a peer's hello said it answers pings, liveness probes it with
// pings on the session (one sealed record each way) and a full hello only
// every helloEvery; the pinged peer counts them as hearing from the
// prober.
func TestProbesArePings(t *testing.T) {
	a, b := addedPair(t)
	aID := a.Identity.ID.String()
	waitFor(t, 5*time.Second, "b sees a", func() bool { return peerState(b, aID).Online })
	time.Sleep(time.Second) // the first hellos both ways
	hellos, pings := b.hellosServed.Load()+a.hellosServed.Load(), b.pingsHeard.Load()+a.pingsHeard.Load()
	time.Sleep(2 * time.Second) // ten probe intervals
	hellos, pings = b.hellosServed.Load()+a.hellosServed.Load()-hellos, b.pingsHeard.Load()+a.pingsHeard.Load()-pings
	if hellos > 0 || pings < 3 {
		t.Errorf("in 2 s of 200 ms probe intervals: %d hellos and %d pings, want pings only", hellos, pings)
	}
	if !peerState(b, aID).Online || time.Since(peerState(b, aID).LastSeen) > time.Second {
		t.Errorf("b's view of a: %+v; want online, heard within the last second", peerState(b, aID))
	}
	t.Logf("2 s of liveness between two peers: %d hellos, %d pings", hellos, pings)
}

// An mDNS record of a peer that is online over a session that is up has
// nothing to confirm: neither a record arriving then nor one that arrived
// before the peer's own dial may cost a hello (with 50 peers started
// together, every answer to every query made one).
func TestRecordsOfAConnectedPeerCostNoHello(t *testing.T) {
	a, b := addedPair(t)
	aID := a.Identity.ID.String()
	waitFor(t, 5*time.Second, "b sees a", func() bool { return peerState(b, aID).Online })
	time.Sleep(time.Second) // the first hellos both ways
	addrs := []string{a.endpoint.Addr().String(), "192.0.2.7:47220"}
	served := a.hellosServed.Load()
	for range 5 {
		b.onMDNS(discovery.Observation{ID: aID, Name: "alice", Addresses: addrs})
		time.Sleep(300 * time.Millisecond)
	}
	// A hint taken before the peer was reached (its record came first).
	b.live.hint(aID, addrs, time.Now().Add(-time.Second))
	b.live.schedule(context.Background(), time.Now())
	time.Sleep(500 * time.Millisecond)
	if n := a.hellosServed.Load() - served; n != 0 {
		t.Errorf("records of a connected peer cost %d hellos, want 0", n)
	}
	b.live.mu.Lock()
	pending := len(b.live.hints)
	b.live.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d hints left for a peer online over its session, want 0", pending)
	}
	if !peerState(b, aID).Online {
		t.Error("a went offline")
	}
}

// A peer that pings this one over a session while the table does not have
// it (our hello on that session timed out, so only the other side knew
// the pair was up) gets a hello on the same session and is online again
// within a probe interval; before, it waited for the other side's next
// full hello, 30 s.
func TestPingFromAPeerNotInTheTableBringsItIn(t *testing.T) {
	// p is the smaller id: it probes q every interval (pings once a hello
	// said q answers them), while q waits for p's probes (quietFor).
	p, q := addedPair(t)
	if p.Identity.ID.String() > q.Identity.ID.String() {
		p, q = q, p
	}
	pID, qID := p.Identity.ID.String(), q.Identity.ID.String()
	waitFor(t, 5*time.Second, "q sees p", func() bool { return peerState(q, pID).Online })
	waitFor(t, 5*time.Second, "p pings q", func() bool { return p.live.pingNow(qID, time.Now()) })
	if !q.Peers.Remove(pID) {
		t.Fatal("p was not in q's table")
	}
	d := waitFor(t, 5*time.Second, "q sees p again", func() bool { return peerState(q, pID).Online })
	t.Logf("back in the table %v after it was taken out", d)
}
