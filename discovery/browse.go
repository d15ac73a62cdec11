package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The browser is our own mDNS querier (RFC 6762), not zeroconf's: that one
// asks for multicast answers and sends no known answers, so every query
// made every peer answer to every other peer. With 50 peers started
// together that was 50 × 50 × 50 packets a query round, and half of each
// daemon's CPU went into parsing answers meant for others
// (docs/performance.md). This one asks for unicast answers (the QU bit,
// from a port of its own), lists the peers it already knows so they stay
// quiet (known-answer suppression), and backs off from 1 s to a minute
// between queries. Announcements and goodbyes still arrive by multicast;
// the announcing side stays zeroconf's Server.

var (
	mdnsGroup4 = net.IPv4(224, 0, 0, 251)
	mdnsGroup6 = net.ParseIP("ff02::fb")
)

const (
	// serviceName is the DNS-SD name the browser asks for.
	serviceName = Service + "." + Domain
	// dnsHeaderLen is a DNS message's fixed header; its third byte's top
	// bit says response (RFC 1035 §4.1.1).
	dnsHeaderLen = 12
	// maxPacket is the largest mDNS message (RFC 6762 §17).
	maxPacket = 9000
	// maxKnown bounds the known answers the browser remembers.
	maxKnown = 1024
	// maxInstancesPerMsg bounds how much of one message is looked at.
	maxInstancesPerMsg = 64
	// queryMin and queryMax bound the back-off between queries.
	queryMin = time.Second
	queryMax = time.Minute
	// restartGap rate-limits AskAgain's fresh queries.
	restartGap = 5 * time.Second
)

// BrowserStats counts the browser's mDNS traffic since it was made.
type BrowserStats struct {
	QueriesSent     int64 `json:"queries_sent"`
	PacketsReceived int64 `json:"packets_received"`
	Answers         int64 `json:"answers"` // peers named in answers
	// Interfaces are the interfaces browsed on now, with what was sent
	// and answered on each (answers to our queries come back unicast on
	// the interface that asked).
	Interfaces []InterfaceStats `json:"interfaces"`
}

// InterfaceStats is one interface's share of the browser's traffic.
type InterfaceStats struct {
	Name        string `json:"name"`
	QueriesSent int64  `json:"queries_sent"`
	Answers     int64  `json:"answers"` // answer packets to our queries
}

// Browser watches mDNS for peers and reports each one it sees.
type Browser struct {
	selfID string
	log    *slog.Logger
	found  func(Observation)

	mu      sync.Mutex
	ifaces  []net.Interface // nil: all
	watched bool            // SetInterfaces was called: browse only on ifaces
	// known maps an instance name to when its record expires, for
	// known-answer suppression; original is its TTL when heard.
	known map[string]knownAnswer

	reopen  chan struct{} // the interfaces changed
	fresh   chan struct{} // AskAgain: query again soon
	queries atomic.Int64
	packets atomic.Int64
	answers atomic.Int64
	// perIface are the query sockets of the current browse, by interface.
	perIface map[string]*querySocket
}

type knownAnswer struct {
	expires time.Time
	ttl     uint32
}

// NewBrowser makes a browser that reports peers other than selfID to found.
func NewBrowser(selfID string, log *slog.Logger, found func(Observation)) *Browser {
	return &Browser{selfID: selfID, log: log, found: found, known: map[string]knownAnswer{},
		reopen: make(chan struct{}, 1), fresh: make(chan struct{}, 1)}
}

// SetInterfaces browses on ifaces from now on; with none, the browser
// waits for some.
func (b *Browser) SetInterfaces(ifaces []net.Interface) {
	b.mu.Lock()
	b.ifaces, b.watched = slices.Clone(ifaces), true
	b.mu.Unlock()
	signal(b.reopen)
}

// AskAgain forgets what peer id's record said and queries again soon,
// rate-limited: after id went away, its return is seen at the next query
// even if its announcement was missed. The other peers' known answers
// stay in the query, so only id answers: forgetting them all made every
// peer on the link answer every peer that saw one go offline, and at 100
// peers on two cores that flood itself made peers miss probes and go
// offline (docs/performance.md).
func (b *Browser) AskAgain(id string) {
	b.mu.Lock()
	delete(b.known, strings.ToLower(id+"."+serviceName))
	b.mu.Unlock()
	signal(b.fresh)
}

// Stats returns the browser's traffic counters.
func (b *Browser) Stats() BrowserStats {
	st := BrowserStats{QueriesSent: b.queries.Load(), PacketsReceived: b.packets.Load(), Answers: b.answers.Load()}
	b.mu.Lock()
	for name, q := range b.perIface {
		st.Interfaces = append(st.Interfaces, InterfaceStats{Name: name, QueriesSent: q.sent.Load(), Answers: q.answered.Load()})
	}
	b.mu.Unlock()
	slices.SortFunc(st.Interfaces, func(x, y InterfaceStats) int { return strings.Compare(x.Name, y.Name) })
	return st
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// retryBrowse is how long a browse that could not start waits before it
// tries again (an interface change is sooner).
var retryBrowse = 5 * time.Second

// Run browses until ctx ends. A browse that cannot start (no interface
// yet) is tried again after retryBrowse, or when the interfaces change.
func (b *Browser) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := b.browseOnce(ctx)
		if err == nil || ctx.Err() != nil {
			continue // the interfaces changed: open anew at once
		}
		b.log.Warn("mdns browse unavailable", "err", err)
		select {
		case <-ctx.Done():
		case <-b.reopen:
		case <-time.After(retryBrowse):
		}
	}
}

// querySocket is where one interface's queries leave from and its unicast
// answers arrive.
type querySocket struct {
	iface net.Interface
	v6    bool
	pc4   *ipv4.PacketConn
	pc6   *ipv6.PacketConn
	conn  net.PacketConn
	// sent and answered count queries sent and answer packets received.
	sent, answered atomic.Int64
}

// errNoInterface: nothing to browse on yet.
var errNoInterface = errors.New("no usable multicast interface")

// browseOnce browses on the interfaces of the moment until they change
// (nil) or ctx ends; an error says it could not start.
func (b *Browser) browseOnce(ctx context.Context) error {
	b.mu.Lock()
	ifaces, watched := b.ifaces, b.watched
	b.mu.Unlock()
	if !watched {
		ifaces = multicastInterfaces()
	}
	if len(ifaces) == 0 {
		return errNoInterface
	}
	var conns []net.PacketConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Announcements and goodbyes: the mDNS groups on port 5353.
	if c, err := listenGroup4(ifaces); err == nil {
		conns = append(conns, c)
	}
	if c, err := listenGroup6(ifaces); err == nil {
		conns = append(conns, c)
	}
	// Queries: one socket per interface, IPv4 where it has an IPv4
	// address, else IPv6, so each peer answers once.
	var qs []*querySocket
	for _, ifi := range ifaces {
		q, err := openQuerySocket(ifi)
		if err != nil {
			b.log.Debug("mdns query socket", "iface", ifi.Name, "err", err)
			continue
		}
		qs = append(qs, q)
		conns = append(conns, q.conn)
	}
	if len(qs) == 0 {
		return fmt.Errorf("%w among %d", errNoInterface, len(ifaces))
	}
	perIface := map[string]*querySocket{}
	for _, q := range qs {
		perIface[q.iface.Name] = q
	}
	b.mu.Lock()
	b.perIface = perIface
	b.mu.Unlock()
	var wg sync.WaitGroup
	// Runs before the deferred close above: close, then wait for readers.
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for _, c := range conns {
		var q *querySocket
		for _, x := range qs {
			if x.conn == c {
				q = x
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.readLoop(c, q)
		}()
	}
	// The first query waits 20-120 ms (RFC 6762 §5.2), so peers started
	// together do not all ask at once.
	wait := 20*time.Millisecond + rand.N(100*time.Millisecond)
	interval := queryMin
	var lastFresh time.Time
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.reopen:
			return nil
		case <-b.fresh:
			if time.Since(lastFresh) < restartGap {
				continue
			}
			lastFresh = time.Now()
			// One query soon, the back-off kept: starting it over at 1 s
			// made every peer that saw others go offline ask every second
			// or two, and at 100 peers those queries (each reaching every
			// peer) fed the load that made peers miss probes.
			timer.Reset(rand.N(100 * time.Millisecond))
			continue
		case <-timer.C:
		}
		msg, err := b.query(time.Now())
		if err == nil {
			for _, q := range qs {
				if q.send(msg) == nil {
					b.queries.Add(1)
					q.sent.Add(1)
				}
			}
		}
		timer.Reset(interval + rand.N(interval/10))
		interval = min(2*interval, queryMax)
	}
}

// readLoop reads one socket until it is closed; q is set for a query
// socket, whose answers it counts.
func (b *Browser) readLoop(c net.PacketConn, q *querySocket) {
	buf := make([]byte, maxPacket)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		b.packets.Add(1)
		if n < dnsHeaderLen || buf[2]&0x80 == 0 {
			// Not a response: other peers' queries reach the group
			// socket too, and at 100 peers parsing each in full (with
			// its known answers) cost more than all the answers.
			continue
		}
		var m dns.Msg
		if m.Unpack(buf[:n]) != nil || !m.Response || m.Opcode != dns.OpcodeQuery || m.Rcode != dns.RcodeSuccess {
			continue
		}
		if q != nil {
			q.answered.Add(1)
		}
		b.handle(&m, time.Now())
	}
}

// query builds the question with the known answers whose TTL is still
// above half (RFC 6762 §7.1).
func (b *Browser) query(now time.Time) ([]byte, error) {
	m := new(dns.Msg)
	m.Question = []dns.Question{{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET | 1<<15}}
	m.Compress = true
	b.mu.Lock()
	for name, k := range b.known {
		left := k.expires.Sub(now)
		if left <= 0 {
			delete(b.known, name)
			continue
		}
		if left < time.Duration(k.ttl)*time.Second/2 {
			continue
		}
		m.Answer = append(m.Answer, &dns.PTR{
			Hdr: dns.RR_Header{Name: serviceName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: uint32(left / time.Second)},
			Ptr: name,
		})
	}
	b.mu.Unlock()
	// Known answers that do not fit are left out: those peers answer.
	for {
		buf, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("mdns query: %w", err)
		}
		if len(buf) <= maxPacket || len(m.Answer) == 0 {
			return buf, nil
		}
		m.Answer = m.Answer[:len(m.Answer)*3/4]
	}
}

// instanceRecords gathers what one message says about one instance.
type instanceRecords struct {
	ttl    uint32 // of the PTR or SRV; 0 is a goodbye
	port   int
	target string
	txt    []string
	hasSRV bool
}

// handle reads an answer: every instance of our service in it with its
// SRV, TXT and the target's addresses becomes an observation. All of it is
// an unauthenticated claim; liveness confirms it with an authenticated
// hello before anything the user sees changes.
func (b *Browser) handle(m *dns.Msg, now time.Time) {
	insts := map[string]*instanceRecords{}
	get := func(name string) *instanceRecords {
		name = strings.ToLower(name)
		if !isInstanceOf(name) {
			return nil
		}
		r := insts[name]
		if r == nil {
			if len(insts) >= maxInstancesPerMsg {
				return nil
			}
			r = &instanceRecords{ttl: 1<<32 - 1}
			insts[name] = r
		}
		return r
	}
	v4 := map[string][]net.IP{}
	v6 := map[string][]net.IP{}
	for _, rr := range slices.Concat(m.Answer, m.Extra) {
		h := rr.Header()
		switch rr := rr.(type) {
		case *dns.PTR:
			if strings.EqualFold(h.Name, serviceName) {
				if r := get(rr.Ptr); r != nil {
					r.ttl = min(r.ttl, h.Ttl)
				}
			}
		case *dns.SRV:
			if r := get(h.Name); r != nil {
				r.port, r.target, r.hasSRV = int(rr.Port), strings.ToLower(rr.Target), true
				r.ttl = min(r.ttl, h.Ttl)
			}
		case *dns.TXT:
			if r := get(h.Name); r != nil {
				r.txt = rr.Txt
			}
		case *dns.A:
			host := strings.ToLower(h.Name)
			if len(v4[host]) < 8 && len(v4) < maxInstancesPerMsg {
				v4[host] = append(v4[host], rr.A)
			}
		case *dns.AAAA:
			host := strings.ToLower(h.Name)
			if len(v6[host]) < 8 && len(v6) < maxInstancesPerMsg {
				v6[host] = append(v6[host], rr.AAAA)
			}
		}
	}
	for name, r := range insts {
		if r.ttl == 0 {
			b.forget(name)
			continue
		}
		if !r.hasSRV || r.txt == nil || r.port <= 0 || r.port > 65535 {
			continue
		}
		a, err := ParseTXT(r.txt)
		if err != nil {
			b.log.Debug("ignoring malformed announcement", "instance", name, "err", err)
			continue
		}
		if a.ID == b.selfID || !strings.HasPrefix(name, a.ID+".") {
			continue // ours, or a record whose instance is not the id it claims
		}
		addrs := EntryAddresses(v4[r.target], v6[r.target], r.port)
		if len(addrs) == 0 {
			continue
		}
		b.remember(name, r.ttl, now)
		b.answers.Add(1)
		b.found(Observation{ID: a.ID, Name: a.Name, Fingerprint: a.Fingerprint, Addresses: addrs})
	}
}

// isInstanceOf reports whether name (lower case) is an instance of our
// service: "<id>._peerdesk._udp.local.".
func isInstanceOf(name string) bool {
	label, rest, ok := strings.Cut(name, ".")
	return ok && label != "" && rest == serviceName
}

func (b *Browser) remember(name string, ttl uint32, now time.Time) {
	ttl = min(ttl, 75*60) // RFC 6762's longest sensible TTL
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.known[name]; !ok && len(b.known) >= maxKnown {
		for n, k := range b.known {
			if now.After(k.expires) {
				delete(b.known, n)
			}
		}
		if len(b.known) >= maxKnown {
			return
		}
	}
	b.known[name] = knownAnswer{expires: now.Add(time.Duration(ttl) * time.Second), ttl: ttl}
}

func (b *Browser) forget(name string) {
	b.mu.Lock()
	delete(b.known, name)
	b.mu.Unlock()
}

// groupJoiner is what ipv4.PacketConn and ipv6.PacketConn share.
type groupJoiner interface {
	JoinGroup(ifi *net.Interface, group net.Addr) error
}

// listenGroup4 receives the IPv4 mDNS group on ifaces (as zeroconf's
// Server does, binding the group's port with address reuse).
func listenGroup4(ifaces []net.Interface) (net.PacketConn, error) {
	return listenGroup("udp4", net.IPv4(224, 0, 0, 0), mdnsGroup4, ifaces,
		func(c *net.UDPConn) groupJoiner { return ipv4.NewPacketConn(c) })
}

// listenGroup6 is listenGroup4 for IPv6.
func listenGroup6(ifaces []net.Interface) (net.PacketConn, error) {
	return listenGroup("udp6", net.ParseIP("ff02::"), mdnsGroup6, ifaces,
		func(c *net.UDPConn) groupJoiner { return ipv6.NewPacketConn(c) })
}

func listenGroup(network string, bind, group net.IP, ifaces []net.Interface, wrap func(*net.UDPConn) groupJoiner) (net.PacketConn, error) {
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: bind, Port: 5353})
	if err != nil {
		return nil, err
	}
	pc := wrap(c)
	joined := 0
	for _, ifi := range ifaces {
		if pc.JoinGroup(&ifi, &net.UDPAddr{IP: group}) == nil {
			joined++
		}
	}
	if joined == 0 {
		c.Close()
		return nil, errNoInterface
	}
	return c, nil
}

// openQuerySocket opens an unbound-port socket that sends ifi's queries
// to the group: IPv4 if ifi has an IPv4 address, else IPv6.
func openQuerySocket(ifi net.Interface) (*querySocket, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	has4, has6 := false, false
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ipn.IP.To4() != nil {
				has4 = true
			} else {
				has6 = true
			}
		}
	}
	q := &querySocket{iface: ifi}
	switch {
	case has4:
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		if err != nil {
			return nil, err
		}
		q.conn, q.pc4 = c, ipv4.NewPacketConn(c)
		_ = q.pc4.SetMulticastTTL(255)
		if err := q.pc4.SetMulticastInterface(&ifi); err != nil {
			c.Close()
			return nil, err
		}
	case has6:
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
		if err != nil {
			return nil, err
		}
		q.conn, q.pc6, q.v6 = c, ipv6.NewPacketConn(c), true
		_ = q.pc6.SetMulticastHopLimit(255)
		if err := q.pc6.SetMulticastInterface(&ifi); err != nil {
			c.Close()
			return nil, err
		}
	default:
		return nil, errors.New("no address")
	}
	return q, nil
}

func (q *querySocket) send(msg []byte) error {
	if q.v6 {
		_, err := q.pc6.WriteTo(msg, nil, &net.UDPAddr{IP: mdnsGroup6, Port: 5353, Zone: q.iface.Name})
		return err
	}
	_, err := q.pc4.WriteTo(msg, nil, &net.UDPAddr{IP: mdnsGroup4, Port: 5353})
	return err
}

// multicastInterfaces lists the interfaces that are up and can multicast.
func multicastInterfaces() []net.Interface {
	all, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 {
			out = append(out, ifi)
		}
	}
	return out
}
