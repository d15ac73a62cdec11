package node

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/transport"
)

// Peer exchange: connected peers tell each other the peers they have
// reached lately, so that one `peer add` across a router (where mDNS does
// not pass) joins both sides' networks. What a peer reports is a hint: its
// addresses are probed like an mDNS record's, and the fingerprint it gives
// must be the one the answering peer presents (transport.ExpectFingerprint,
// checked before anything is pinned), never a reason to trust it
// (docs/protocol.md, docs/security.md).

// opPeerList asks a peer for the peers it has reached lately.
const opPeerList = "peer.list"

// pexEntry is one peer in a peer.list answer.
type pexEntry struct {
	ID          string   `json:"id"`
	Fingerprint string   `json:"fingerprint"`
	Addresses   []string `json:"addresses"`
	// LastReached is when the answering peer last heard from it (unix s).
	LastReached int64 `json:"last_reached"`
}

// pexAnswer is the answer to opPeerList.
type pexAnswer struct {
	Peers []pexEntry `json:"peers"`
}

const (
	// pexMaxEntries and pexMaxAddrs bound an answer, sent or read.
	pexMaxEntries = 128
	pexMaxAddrs   = 4
	// pexFresh: only peers reached this recently are reported or used.
	pexFresh = 10 * time.Minute
	// pexPeriod is how often each connected peer is asked again.
	pexPeriod = 2 * time.Minute
	// pexAsks bounds the asks in flight at once.
	pexAsks = 4
)

// servePeerList answers with the peers this one reached lately, the asker
// left out, each with the IP addresses it was reached at (names a user
// typed stay on this PC).
func (n *Node) servePeerList(_ context.Context, _ transport.Request, s *transport.Stream) {
	asker := s.Peer().ID
	now := time.Now()
	var out pexAnswer
	for _, p := range n.Peers.List() {
		if len(out.Peers) == pexMaxEntries {
			break
		}
		if p.ID == asker || p.Fingerprint == "" || now.Sub(p.LastSeen) > pexFresh {
			continue
		}
		var addrs []string
		for _, a := range p.Addresses {
			if len(addrs) < pexMaxAddrs && usableLearnedAddr(a) {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			continue
		}
		out.Peers = append(out.Peers, pexEntry{ID: p.ID, Fingerprint: p.Fingerprint, Addresses: addrs, LastReached: p.LastSeen.Unix()})
	}
	_ = s.Respond(out)
}

// usableLearnedAddr accepts an IP:port another peer may tell this one to
// try: a unicast address a LAN peer can have; no loopback, multicast,
// unspecified, or link-local (its zone means nothing here), no names.
func usableLearnedAddr(a string) bool {
	ap, err := netip.ParseAddrPort(a)
	if err != nil || ap.Port() == 0 {
		return false
	}
	ip := ap.Addr()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsMulticast() && !ip.IsUnspecified() &&
		!ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() && ip.Zone() == ""
}

// validPexEntry checks one reported entry; the addresses kept are the
// usable ones.
func validPexEntry(e pexEntry, self, from string, now time.Time) (pexEntry, error) {
	if !discovery.ValidPeerID(e.ID) || e.ID == self || e.ID == from {
		return e, fmt.Errorf("%w: peer id %q", transport.ErrProtocol, e.ID)
	}
	if !validFingerprint(e.Fingerprint) {
		return e, fmt.Errorf("%w: fingerprint of %s", transport.ErrProtocol, e.ID)
	}
	if now.Sub(time.Unix(e.LastReached, 0)) > pexFresh {
		return e, fmt.Errorf("%s: last reached too long ago", e.ID)
	}
	var addrs []string
	for _, a := range e.Addresses {
		if len(addrs) == pexMaxAddrs {
			break
		}
		if usableLearnedAddr(a) && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return e, fmt.Errorf("%w: no usable address for %s", transport.ErrProtocol, e.ID)
	}
	e.Addresses = addrs
	return e, nil
}

func validFingerprint(fp string) bool {
	if len(fp) != 64 {
		return false
	}
	for _, c := range fp {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// pex asks connected peers for the peers they know. A peer that is not on
// this one's mDNS (added by address, learned, across a router) may know a
// network this one cannot see: it is asked as soon as it is connected,
// and it asks back, so what one `peer add` joined spreads in a few round
// trips. A peer on the same mDNS sees what this one sees: asking each of
// them cost 50 peers started together a sixth of their CPU, so one of
// them is asked now and then (pexLocalEvery), the one asked longest ago.
type pex struct {
	n     *Node
	mu    sync.Mutex
	asked map[string]time.Time
	// seen is when each connected peer was first seen connected.
	seen map[string]time.Time
	// local is when each peer was last on this one's mDNS.
	local map[string]time.Time
	// lastLocal is when a peer on this one's mDNS was last asked.
	lastLocal time.Time
	slots     chan struct{}
	// peers is the table's snapshot, kept for the next round (only run's
	// goroutine uses it).
	peers []discovery.Peer
}

func newPex(n *Node) *pex {
	return &pex{n: n, asked: map[string]time.Time{}, seen: map[string]time.Time{}, local: map[string]time.Time{},
		slots: make(chan struct{}, pexAsks)}
}

// pexSettle is how long a new contact waits to be asked, per peer online:
// in an office where 50 PCs start at once, mDNS finds them all anyway, and
// exchanging lists in the middle of that only adds to the handshakes (it
// doubled the time 50 peers took to converge). Two subnets of a few PCs
// each are asked within a second.
const (
	pexSettlePerPeer = 100 * time.Millisecond
	pexSettleMax     = 10 * time.Second
	// pexLocalEvery is how often a peer on the same mDNS is asked.
	pexLocalEvery = time.Minute
	// pexLocalMax bounds the peers remembered as seen on mDNS.
	pexLocalMax = 1024
)

// sawOnMDNS notes that peer id is on this one's mDNS.
func (x *pex) sawOnMDNS(id string, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.local[id]; !ok && len(x.local) >= pexLocalMax {
		return
	}
	x.local[id] = now
}

func (x *pex) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		x.round(ctx, time.Now())
	}
}

// round asks the online peers that are due.
func (x *pex) round(ctx context.Context, now time.Time) {
	x.peers = x.n.Peers.Snapshot(x.peers)
	peers := x.peers
	online := 0
	for _, p := range peers {
		if p.Online {
			online++
		}
	}
	settle := min(time.Duration(online)*pexSettlePerPeer, pexSettleMax)
	x.mu.Lock()
	for _, m := range []map[string]time.Time{x.asked, x.seen, x.local} {
		for id, at := range m {
			if now.Sub(at) > 2*pexPeriod {
				delete(m, id)
			}
		}
	}
	// The peer on this mDNS to ask this round, if one is due.
	var localPick string
	if now.Sub(x.lastLocal) >= pexLocalEvery {
		var oldest time.Time
		for _, p := range peers {
			first, connected := x.seen[p.ID]
			if _, local := x.local[p.ID]; !local || !p.Online || !connected || now.Sub(first) < settle {
				continue
			}
			if last := x.asked[p.ID]; localPick == "" || last.Before(oldest) {
				localPick, oldest = p.ID, last
			}
		}
	}
	x.mu.Unlock()
	for _, p := range peers {
		if !p.Online || len(p.Addresses) == 0 || !x.n.endpoint.Connected(p.ID) {
			continue
		}
		x.mu.Lock()
		first, ok := x.seen[p.ID]
		if !ok {
			first = now
			x.seen[p.ID] = now
		}
		last, asked := x.asked[p.ID]
		_, local := x.local[p.ID]
		due := (!asked && now.Sub(first) >= settle) || (asked && now.Sub(last) >= pexPeriod)
		if local {
			due = p.ID == localPick
		}
		x.mu.Unlock()
		if !due {
			continue
		}
		select {
		case x.slots <- struct{}{}:
		default:
			return // the rest next second
		}
		x.mu.Lock()
		x.asked[p.ID] = now
		if local {
			x.lastLocal = now
		}
		x.mu.Unlock()
		x.n.wg.Add(1)
		go func() {
			defer x.n.wg.Done()
			defer func() { <-x.slots }()
			x.ask(ctx, p)
		}()
	}
}

// ask gets p's list and hands what is new to liveness as learned hints.
// Only over a session that is up: the exchange never dials (liveness
// does), so it neither competes with a probe for the peer's one dial nor
// keeps a gone peer's session looking busy.
func (x *pex) ask(ctx context.Context, p discovery.Peer) {
	if !x.n.endpoint.Connected(p.ID) {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var ans pexAnswer
	if _, err := x.n.endpoint.Call(cctx, p.ID, p.Addresses, opPeerList, nil, &ans); err != nil {
		x.n.log.Debug("peer exchange failed", "peer", p.ID, "err", err)
		return
	}
	self, now := x.n.Identity.ID.String(), time.Now()
	if len(ans.Peers) > pexMaxEntries {
		x.n.log.Debug("peer exchange: answer too long, the rest ignored", "peer", p.ID, "entries", strconv.Itoa(len(ans.Peers)))
		ans.Peers = ans.Peers[:pexMaxEntries]
	}
	for _, e := range ans.Peers {
		e, err := validPexEntry(e, self, p.ID, now)
		if err != nil {
			continue
		}
		if cur, ok := x.n.Peers.Get(e.ID); ok && cur.Online {
			continue
		}
		if x.n.live.learn(e.ID, e.Fingerprint, e.Addresses, p.ID, now) {
			x.n.log.Debug("learned a peer", "peer", e.ID, "from", p.ID, "addrs", e.Addresses)
		}
	}
}
