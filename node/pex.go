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
	// pexPeriod is how often each online peer is asked when nothing
	// changes; pexGap is the least time between two asks of one peer
	// (a change in the table asks everyone again, no sooner than that).
	pexPeriod = 2 * time.Minute
	pexGap    = 5 * time.Second
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

// pex asks online peers for the peers they know: each every pexPeriod, and
// all of them again (each no sooner than pexGap) when one comes online, so
// that what one `peer add` joined spreads in a few round trips.
type pex struct {
	n     *Node
	mu    sync.Mutex
	asked map[string]time.Time
	slots chan struct{}
}

func (x *pex) run(ctx context.Context) {
	events, stop := x.n.Peers.Subscribe()
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	changed := true
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			if e.Kind == discovery.EventUp {
				changed = true
			}
			continue
		case <-tick.C:
		}
		x.round(ctx, changed, time.Now())
		changed = false
	}
}

// round asks the online peers that are due.
func (x *pex) round(ctx context.Context, changed bool, now time.Time) {
	for _, p := range x.n.Peers.List() {
		if !p.Online || len(p.Addresses) == 0 {
			continue
		}
		x.mu.Lock()
		last, seen := x.asked[p.ID]
		due := !seen || now.Sub(last) >= pexPeriod || (changed && now.Sub(last) >= pexGap)
		if due {
			x.asked[p.ID] = now
		}
		for id, at := range x.asked {
			if now.Sub(at) > 2*pexPeriod {
				delete(x.asked, id)
			}
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
		x.n.wg.Add(1)
		go func() {
			defer x.n.wg.Done()
			defer func() { <-x.slots }()
			x.ask(ctx, p)
		}()
	}
}

// ask gets p's list and hands what is new to liveness as learned hints.
func (x *pex) ask(ctx context.Context, p discovery.Peer) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
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
