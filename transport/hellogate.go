package transport

import (
	"container/list"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/dtls/v2/pkg/protocol"
	"github.com/pion/dtls/v2/pkg/protocol/handshake"
	"github.com/pion/dtls/v2/pkg/protocol/recordlayer"
)

// Handshakes from addresses that have not proved themselves.
//
// Anyone can send a ClientHello with a forged source address. The DTLS
// cookie exchange (HelloVerifyRequest) proves that the sender receives at
// the address it claims; until it has answered the cookie, a handshake
// costs this peer no handshake slot. pion/dtls keeps the handshake's state
// from the first hello on (its server cannot begin at the hello that
// carries the cookie, and the hello's sequence number is covered by the
// Finished messages, so a stateless cookie in front of it is not possible
// without changing pion), so the state of unproven handshakes is instead
// kept small and bounded: at most maxUnproven at once, the oldest dropped
// for a new one, each for at most unprovenTimeout. A real peer answers the
// cookie within a round trip; a spoofer never does.
var (
	maxUnproven     = 512
	unprovenTimeout = 2 * time.Second
)

// helloKind is what a datagram that opens a handshake holds.
type helloKind int

const (
	notHello        helloKind = iota
	helloFirst                // a ClientHello without cookie
	helloWithCookie           // a ClientHello answering a HelloVerifyRequest
)

// classifyHello tells whether datagram carries a ClientHello and whether
// it carries a cookie. It reads only the first record; it never fails.
func classifyHello(datagram []byte) helloKind {
	recs, err := recordlayer.UnpackDatagram(datagram)
	if err != nil || len(recs) == 0 {
		return notHello
	}
	var h recordlayer.Header
	if h.Unmarshal(recs[0]) != nil || h.ContentType != protocol.ContentTypeHandshake || h.Epoch != 0 {
		return notHello
	}
	var hs handshake.Handshake
	if hs.Unmarshal(recs[0][recordlayer.HeaderSize:]) != nil {
		return notHello
	}
	m, ok := hs.Message.(*handshake.MessageClientHello)
	switch {
	case !ok:
		return notHello
	case len(m.Cookie) == 0:
		return helloFirst
	default:
		return helloWithCookie
	}
}

// helloGate holds the handshakes of unproven addresses and the slots of
// proven ones.
type helloGate struct {
	slots   chan struct{} // handshakes in progress, over all addresses
	perAddr int

	mu       sync.Mutex
	unproven list.List // of *gatedConn, oldest first
	byAddr   map[netip.Addr]int
}

func newHelloGate(slots, perAddr int) *helloGate {
	return &helloGate{slots: make(chan struct{}, slots), perAddr: perAddr, byAddr: map[netip.Addr]int{}}
}

// admit wraps a new conn as unproven, dropping the oldest unproven conn
// if there are too many.
func (g *helloGate) admit(c net.Conn) *gatedConn {
	gc := &gatedConn{Conn: c, gate: g}
	if a, ok := c.RemoteAddr().(*net.UDPAddr); ok {
		gc.ip = a.AddrPort().Addr().Unmap()
	}
	var evict *gatedConn
	g.mu.Lock()
	gc.elem = g.unproven.PushBack(gc)
	if g.unproven.Len() > maxUnproven {
		evict = g.unproven.Remove(g.unproven.Front()).(*gatedConn)
		evict.elem = nil
	}
	g.mu.Unlock()
	if evict != nil {
		evict.Conn.Close()
	}
	gc.timer = time.AfterFunc(unprovenTimeout, gc.expire)
	return gc
}

// take claims a handshake slot for ip, or reports that none is free.
func (g *helloGate) take(ip netip.Addr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byAddr[ip] >= g.perAddr {
		return false
	}
	select {
	case g.slots <- struct{}{}:
	default:
		return false
	}
	g.byAddr[ip]++
	return true
}

// busy reports whether a proven handshake from ip (any zone) is in
// progress.
func (g *helloGate) busy(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	for a := range g.byAddr { // at most the handshake slots
		if a.WithZone("") == ip {
			return true
		}
	}
	return false
}

func (g *helloGate) give(ip netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	<-g.slots
	if g.byAddr[ip]--; g.byAddr[ip] <= 0 {
		delete(g.byAddr, ip)
	}
}

// gatedConn is the conn under a server handshake: until a hello with the
// cookie came it holds no slot, and a hello with the cookie that finds no
// free slot is dropped (the client sends it again).
type gatedConn struct {
	net.Conn
	gate  *helloGate
	ip    netip.Addr
	timer *time.Timer

	mu     sync.Mutex
	elem   *list.Element // in gate.unproven while unproven
	proven bool
	held   bool // a slot
}

func (c *gatedConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if err != nil {
			return n, err
		}
		if c.Proven() || classifyHello(p[:n]) != helloWithCookie {
			return n, nil
		}
		if c.prove() {
			return n, nil
		}
		// No slot free: drop the hello, the client repeats it.
	}
}

// prove moves the conn from the unproven to a handshake slot, if one is free.
func (c *gatedConn) prove() bool {
	if !c.gate.take(c.ip) {
		return false
	}
	c.timer.Stop()
	c.leaveUnproven()
	c.mu.Lock()
	c.proven, c.held = true, true
	c.mu.Unlock()
	return true
}

// expire ends a handshake whose address did not answer the cookie in time.
func (c *gatedConn) expire() {
	if !c.Proven() {
		c.leaveUnproven()
		c.Conn.Close()
	}
}

// leaveUnproven takes the conn off the gate's unproven list, if it is on it.
func (c *gatedConn) leaveUnproven() {
	c.gate.mu.Lock()
	if c.elem != nil {
		c.gate.unproven.Remove(c.elem)
		c.elem = nil
	}
	c.gate.mu.Unlock()
}

// Proven reports whether the address answered the cookie.
func (c *gatedConn) Proven() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proven
}

// done gives the slot back (or leaves the unproven list) once the
// handshake ended, either way.
func (c *gatedConn) done() {
	c.timer.Stop()
	c.leaveUnproven()
	c.mu.Lock()
	held := c.held
	c.held = false
	c.mu.Unlock()
	if held {
		c.gate.give(c.ip)
	}
}
