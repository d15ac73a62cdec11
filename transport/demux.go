package transport

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/bulk"
	"github.com/pion/dtls/v2/pkg/protocol"
	"github.com/pion/dtls/v2/pkg/protocol/extension"
	"github.com/pion/dtls/v2/pkg/protocol/handshake"
	"github.com/pion/dtls/v2/pkg/protocol/recordlayer"
)

// alpnBulk is the application protocol (DTLS ALPN) a peer offers when it
// speaks the bulk channel; alpnBase is offered too, so that two peers
// offering ALPN always agree on something. With a peer that offers no ALPN
// (version 1 without bulk), or with StreamDataPlane, bodies go as data
// frames.
const (
	alpnBulk = "peerdesk-bulk/1"
	alpnBase = "peerdesk/1"
	// alpnReach is offered alone by Endpoint.Reach: a handshake that only
	// checks that the port can be reached; the server closes it at once.
	alpnReach = "peerdesk-reach/1"
)

// datagramLimit is the largest datagram that reaches remote without IP
// fragmentation: the MTU of the local interface that routes to remote
// (found by routeTo; 0 when it could not be), less IP and UDP headers, and
// never more than bulk.MaxDatagram. Both sides measure it; the receiver's
// value wins (bulkAck.chunk). When the interface cannot be found it
// assumes the smallest IPv6 MTU.
func datagramLimit(remote *net.UDPAddr, mtu int) int {
	const minMTU = 1280
	if mtu <= 0 {
		mtu = minMTU
	}
	overhead := 20 + 8 // IPv4 + UDP
	if remote != nil && remote.IP.To4() == nil {
		overhead = 40 + 8
	}
	return min(mtu-overhead, bulk.MaxDatagram)
}

// routeTo is how this host reaches remote now: the source address a
// connected UDP socket picks (no packet is sent) and the MTU of the
// interface holding it (0 if none is found).
func routeTo(remote *net.UDPAddr) (netip.Addr, int) {
	if remote == nil {
		return netip.Addr{}, 0
	}
	c, err := net.DialUDP("udp", nil, remote)
	if err != nil {
		return netip.Addr{}, 0
	}
	local := c.LocalAddr().(*net.UDPAddr).IP
	c.Close()
	src, _ := netip.AddrFromSlice(local)
	mtu, _ := mtuCache.lookup(local, time.Now())
	return src.Unmap(), mtu
}

// mtuCache remembers which MTU the interface holding each local address
// has, for mtuCacheTTL: listing the interfaces and their addresses is two
// netlink dumps, and with 50 peers finding each other it was 5% of every
// peer's CPU (docs/performance.md).
var mtuCache = &localMTUs{byIP: map[string]localMTU{}}

const mtuCacheTTL = 10 * time.Second

type localMTUs struct {
	mu   sync.Mutex
	byIP map[string]localMTU
}

type localMTU struct {
	mtu int
	at  time.Time
}

func (m *localMTUs) lookup(local net.IP, now time.Time) (int, error) {
	key := string(local.To16())
	m.mu.Lock()
	e, ok := m.byIP[key]
	m.mu.Unlock()
	if ok && now.Sub(e.at) < mtuCacheTTL {
		return e.mtu, nil
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return 0, err
	}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(local) {
				m.mu.Lock()
				if len(m.byIP) >= 64 {
					clear(m.byIP)
				}
				m.byIP[key] = localMTU{mtu: ifc.MTU, at: now}
				m.mu.Unlock()
				return ifc.MTU, nil
			}
		}
	}
	return 0, fmt.Errorf("no interface holds %s", local)
}

// alpnSniffer is the datagram conn under a DTLS handshake: it reads the
// ALPN extension of the peer's hello as it passes. pion/dtls v2.2.12
// negotiates ALPN but loses the result when it copies its state
// (ConnectionState's NegotiatedProtocol is always empty), so the endpoint
// learns it here. The hellos are covered by the handshake's Finished
// messages: a tampered one fails the handshake before the result is used.
type alpnSniffer struct {
	net.Conn
	client bool

	answered     chan struct{} // closed at the first datagram read
	answeredOnce sync.Once

	mu      sync.Mutex
	stopped bool
	offered []string // the protocols in the peer's hello
}

func newALPNSniffer(c net.Conn, client bool) *alpnSniffer {
	return &alpnSniffer{Conn: c, client: client, answered: make(chan struct{})}
}

func (s *alpnSniffer) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if err == nil {
		s.answeredOnce.Do(func() { close(s.answered) })
		s.mu.Lock()
		if !s.stopped {
			s.inspect(p[:n])
		}
		s.mu.Unlock()
	}
	return n, err
}

func (s *alpnSniffer) inspect(datagram []byte) {
	recs, err := recordlayer.UnpackDatagram(datagram)
	if err != nil {
		return
	}
	for _, rec := range recs {
		var h recordlayer.Header
		if h.Unmarshal(rec) != nil || h.ContentType != protocol.ContentTypeHandshake || h.Epoch != 0 {
			continue
		}
		var hs handshake.Handshake
		if hs.Unmarshal(rec[recordlayer.HeaderSize:]) != nil {
			continue // a fragment, or not a hello
		}
		var exts []extension.Extension
		switch m := hs.Message.(type) {
		case *handshake.MessageClientHello:
			if !s.client {
				exts = m.Extensions
			}
		case *handshake.MessageServerHello:
			if s.client {
				exts = m.Extensions
			}
		}
		for _, e := range exts {
			if a, ok := e.(*extension.ALPN); ok {
				s.offered = a.ProtocolNameList
			}
		}
	}
}

// offeredOnly reports whether the client offered p and nothing else.
func (s *alpnSniffer) offeredOnly(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.offered) == 1 && s.offered[0] == p
}

// negotiated stops sniffing and returns the protocol the handshake chose,
// given the protocols this side offered (in its order of preference, which
// a pion server follows).
func (s *alpnSniffer) negotiated(ours []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.client {
		// The server's hello names its choice.
		if len(s.offered) == 1 && slices.Contains(ours, s.offered[0]) {
			return s.offered[0]
		}
		return ""
	}
	for _, p := range ours {
		if slices.Contains(s.offered, p) {
			return p
		}
	}
	return ""
}
