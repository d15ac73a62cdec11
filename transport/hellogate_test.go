package transport

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
)

// firstHello records the first datagram a real client sends when it dials
// a peer: its ClientHello, without cookie.
func firstHello(t *testing.T) []byte {
	t.Helper()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	a := newTestPeer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = a.ep.Session(ctx, uuid.NewString(), []string{sink.LocalAddr().String()}) }()
	_ = sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := sink.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if classifyHello(buf[:n]) != helloFirst {
		t.Fatalf("the client's first datagram is not a ClientHello without cookie: % x", buf[:n])
	}
	return buf[:n]
}

// TestSpoofedHellosTakeNoSlot (M2): hellos from many addresses that never
// answer the cookie, ten times more than there are handshake slots, leave
// every slot free for a real peer, and are kept no more than maxUnproven
// at a time.
func TestSpoofedHellosTakeNoSlot(t *testing.T) {
	defer func(n int, d time.Duration) { maxUnproven, unprovenTimeout = n, d }(maxUnproven, unprovenTimeout)
	maxUnproven, unprovenTimeout = 16, time.Second
	hello := firstHello(t)
	b := newTestPeerWith(t, nil, func(c *Config) { c.MaxHandshakes = 4 })
	var replies int
	var socks []*net.UDPConn
	for range 40 {
		s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		socks = append(socks, s)
		if _, err := s.WriteToUDP(hello, b.ep.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	// Answers are in the sockets' buffers by now; the unproven are still kept.
	time.Sleep(300 * time.Millisecond)
	b.ep.gate.mu.Lock()
	unproven := b.ep.gate.unproven.Len()
	b.ep.gate.mu.Unlock()
	for _, s := range socks {
		_ = s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		buf := make([]byte, 2048)
		if n, err := s.Read(buf); err == nil {
			replies++
			if n > len(hello) {
				t.Errorf("a %d-byte answer to a %d-byte hello", n, len(hello))
			}
		}
	}
	if unproven > maxUnproven {
		t.Errorf("%d unproven handshakes kept, cap %d", unproven, maxUnproven)
	}
	if held := len(b.ep.gate.slots); held != 0 {
		t.Errorf("%d handshake slots held by hellos that never answered the cookie", held)
	}
	a := newTestPeer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := a.ep.Call(ctx, b.id.ID.String(), []string{b.ep.Addr().String()}, "echo", map[string]string{"text": "hi"}, nil); err != nil {
		t.Fatalf("a real peer during the flood: %v", err)
	}
	t.Logf("40 spoofed hellos: %d answered (cookie), %d kept; a real peer connected in %v", replies, unproven, time.Since(start).Round(time.Millisecond))
	// Unproven handshakes go after unprovenTimeout.
	time.Sleep(unprovenTimeout + 500*time.Millisecond)
	b.ep.gate.mu.Lock()
	left := b.ep.gate.unproven.Len()
	b.ep.gate.mu.Unlock()
	if left != 0 {
		t.Errorf("%d unproven handshakes left after their timeout", left)
	}
}

// TestHandshakesPerAddressCapped: one address that answers cookies holds
// at most MaxHandshakesPerAddr slots.
func TestHandshakesPerAddressCapped(t *testing.T) {
	g := newHelloGate(8, 2)
	ip := mustAddr(t, "10.0.0.1")
	if !g.take(ip) || !g.take(ip) {
		t.Fatal("the first two slots of an address refused")
	}
	if g.take(ip) {
		t.Fatal("a third slot for one address")
	}
	if !g.take(mustAddr(t, "10.0.0.2")) {
		t.Fatal("another address refused")
	}
	g.give(ip)
	if !g.take(ip) {
		t.Fatal("a slot given back is not free again")
	}
}

// TestHandshakeFromSeesProvenHandshakes: a first contact waits for the
// peer's own dial only once that dial answered the cookie (a forged hello
// holds nothing back), whatever the zone or port the address is given with.
func TestHandshakeFromSeesProvenHandshakes(t *testing.T) {
	p := newTestPeer(t, nil)
	v4, v6 := mustAddr(t, "10.0.0.1"), mustAddr(t, "fe80::1").WithZone("eth0")
	cases := []struct {
		addrs []string
		want  bool
	}{
		{[]string{"10.0.0.1:7777"}, true},
		{[]string{"pc12.office.lan:7777", "10.0.0.1"}, true},
		{[]string{"[fe80::1%eth1]:7777"}, true},
		{[]string{"[fe80::1]:7777"}, true},
		{[]string{"10.0.0.2:7777", "[fe80::2%eth0]:7777"}, false},
		{nil, false},
	}
	check := func(when string, held bool) {
		t.Helper()
		for _, c := range cases {
			if got := p.ep.HandshakeFrom(c.addrs); got != (c.want && held) {
				t.Errorf("%s: HandshakeFrom(%q) = %v", when, c.addrs, got)
			}
		}
	}
	check("nothing under way", false)
	if !p.ep.gate.take(v4) || !p.ep.gate.take(v6) {
		t.Fatal("no slot")
	}
	check("handshakes past the cookie", true)
	p.ep.gate.give(v4)
	p.ep.gate.give(v6)
	check("handshakes ended", false)
}

// FuzzClassifyHello runs every parser that reads datagrams before any
// authentication: the listener's filter, the hello gate, and the ALPN
// sniffer on both sides.
func FuzzClassifyHello(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind := classifyHello(b)
		if kind != notHello && !isHandshakeDatagram(b) {
			t.Fatalf("a hello the listener's filter would drop: % x", b)
		}
		for _, client := range []bool{false, true} {
			s := &alpnSniffer{client: client}
			s.inspect(b)
			_ = s.negotiated([]string{alpnBulk, alpnBase})
		}
	})
}

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAssociationOutlivesTheHandshakesDeadline: the SCTP association after
// a completed DTLS handshake has HandshakeTimeout of its own, not what was
// left of the handshake's deadline; cancelling still ends it at once.
func TestAssociationOutlivesTheHandshakesDeadline(t *testing.T) {
	p := newTestPeerWith(t, nil, func(c *Config) { c.HandshakeTimeout = 400 * time.Millisecond })
	expired, cancelExpired := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelExpired()
	<-expired.Done()
	actx, cancel := p.ep.associationContext(expired)
	defer cancel()
	select {
	case <-actx.Done():
		t.Fatal("the association inherited the handshake's spent deadline")
	case <-time.After(200 * time.Millisecond):
	}
	select {
	case <-actx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the association's own HandshakeTimeout did not end it")
	}
	parent, cancelParent := context.WithCancel(context.Background())
	actx2, cancel2 := p.ep.associationContext(parent)
	defer cancel2()
	cancelParent()
	select {
	case <-actx2.Done():
	case <-time.After(time.Second):
		t.Fatal("cancelling the handshake's context did not end the association's")
	}
}
