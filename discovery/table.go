// Package discovery finds other peers: it announces this peer over mDNS,
// browses for the others, and keeps the live peer table (online, gone,
// identity changed) including peers added by address, which it remembers
// across restarts so that a network without multicast still works.
package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Peer is one row of the peer table.
type Peer struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	// Addresses are host:port pairs to reach the peer, best first.
	Addresses []string  `json:"addresses"`
	Online    bool      `json:"online"`
	Trust     string    `json:"trust"`
	LastSeen  time.Time `json:"last_seen"`
	// Manual peers were added by address and are always retried.
	Manual bool `json:"manual,omitempty"`
	// Offered is another key a handshake claiming this peer's id
	// presented: a candidate a person may adopt by comparing its code,
	// never trusted by itself. Filled by the node from its trust store.
	Offered string `json:"offered,omitempty"`
}

// EventKind says what happened to a peer.
type EventKind string

const (
	// EventUp: the peer came online.
	EventUp EventKind = "up"
	// EventDown: the peer went offline (goodbye, crash, unplugged).
	EventDown EventKind = "down"
	// EventChanged: the peer's trust state changed (e.g. identity changed).
	EventChanged EventKind = "changed"
	// EventUpdated: name or addresses changed.
	EventUpdated EventKind = "updated"
	// EventRemoved: the peer was forgotten.
	EventRemoved EventKind = "removed"
)

// Event is a change in the table.
type Event struct {
	Kind EventKind
	Peer Peer
	// Reason says why a peer went down ("goodbye", "no answer").
	Reason string
}

// Observation is evidence that a peer exists at an address.
type Observation struct {
	ID          string
	Name        string
	Fingerprint string
	Addresses   []string
	// Alive means the peer itself answered (not just an mDNS record).
	Alive bool
}

// Table is the live table of known peers. It is safe for concurrent use.
type Table struct {
	path   string
	log    *slog.Logger
	mu     sync.Mutex
	peers  map[string]*Peer
	manual []string // host:port added by hand whose peer id is not known yet
	subs   map[chan Event]struct{}
	dirty  bool
	saved  time.Time
	// later, when set, saves what changed since the last write.
	later  *time.Timer
	writes int // files written, for tests
	// trustOf, if set, is where each peer's trust state is read (the
	// trust store): the table keeps no copy of its own to go stale.
	trustOf func(id string) string
}

// SetTrustSource makes the table read each peer's trust state from fn
// (the trust store) whenever it shows a peer; TrustChanged tells it when
// to tell its subscribers.
func (t *Table) SetTrustSource(fn func(id string) string) {
	t.mu.Lock()
	t.trustOf = fn
	t.mu.Unlock()
}

// viewLocked is p as shown: a copy, with its trust state from the source.
func (t *Table) viewLocked(p *Peer) Peer {
	c := clonePeer(p)
	if t.trustOf != nil {
		c.Trust = t.trustOf(p.ID)
	}
	return c
}

// Peers that only ever connected are bounded: identities are free to make,
// and each stranger's hello would otherwise add a row (and a line in
// peers.json) for good. Over maxPeers, the peer heard from longest ago that
// is not verified and was not added by hand is forgotten, offline ones
// first. Structural changes reach the disk at most once every saveEvery
// (the table is what was seen, which the network tells again after a
// crash: with 50 peers starting together, a write a second was 4% of each
// peer's CPU; pins are the trust store's, saved at once). Variables so
// that tests can shorten them.
var (
	maxPeers  = 1024
	saveEvery = 5 * time.Second
)

// OpenTable loads the remembered peers from path (missing: empty). Every
// remembered peer starts offline.
func OpenTable(path string, log *slog.Logger) (*Table, error) {
	if log == nil {
		log = slog.Default()
	}
	t := &Table{path: path, log: log, peers: map[string]*Peer{}, subs: map[chan Event]struct{}{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	var st tableState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read peers %s: %w", path, err)
	}
	for _, p := range st.Peers {
		p := p
		p.Online = false
		t.peers[p.ID] = &p
	}
	t.manual = st.Manual
	return t, nil
}

type tableState struct {
	Peers  []Peer   `json:"peers"`
	Manual []string `json:"manual_addresses,omitempty"`
}

// Subscribe returns a channel of table events and a cancel func. Events are
// dropped for a subscriber that does not keep up (buffer of 256), never
// blocking the table.
func (t *Table) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	t.mu.Lock()
	t.subs[ch] = struct{}{}
	t.mu.Unlock()
	return ch, func() {
		t.mu.Lock()
		if _, ok := t.subs[ch]; ok {
			delete(t.subs, ch)
			close(ch)
		}
		t.mu.Unlock()
	}
}

func (t *Table) emitLocked(e Event) {
	if t.trustOf != nil {
		e.Peer.Trust = t.trustOf(e.Peer.ID)
	}
	for ch := range t.subs {
		select {
		case ch <- e:
		default:
			t.log.Warn("peer event dropped for a slow subscriber", "peer", e.Peer.ID, "event", string(e.Kind))
		}
	}
}

// Observe records evidence of a peer. A peer becomes (or stays) online. It
// returns the peer as now known and whether it was new to the table.
func (t *Table) Observe(o Observation, now time.Time) (Peer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, known := t.peers[o.ID]
	if !known {
		t.makeRoomLocked()
		p = &Peer{ID: o.ID, Trust: "new"}
		t.peers[o.ID] = p
		t.dirty = true
	}
	updated := false
	if o.Name != "" && o.Name != p.Name {
		p.Name = o.Name
		updated = true
	}
	if o.Fingerprint != "" && o.Fingerprint != p.Fingerprint {
		p.Fingerprint = o.Fingerprint
		updated = true
	}
	if addrs := mergeAddresses(o.Addresses, p.Addresses); !slices.Equal(addrs, p.Addresses) {
		p.Addresses = addrs
		updated = true
	}
	// A manual address that turned out to be this peer now belongs to it.
	for _, a := range o.Addresses {
		if i := slices.Index(t.manual, a); i >= 0 {
			t.manual = slices.Delete(t.manual, i, i+1)
			p.Manual = true
			t.dirty = true
		}
	}
	p.LastSeen = now
	if updated {
		t.dirty = true
	}
	switch {
	case !p.Online:
		p.Online = true
		t.emitLocked(Event{Kind: EventUp, Peer: *p})
	case updated:
		t.emitLocked(Event{Kind: EventUpdated, Peer: *p})
	}
	t.saveLocked(now, false)
	return t.viewLocked(p), !known
}

// mergeAddresses puts fresh addresses first and keeps a few older ones, so a
// peer that moved is still tried where it was last seen. DNS names (only a
// user's `peer add` gives one; mDNS and hellos give IP addresses) come
// before all and are never dropped: each dial resolves them anew, which is
// how a peer whose address changed is found again by its name.
func mergeAddresses(fresh, old []string) []string {
	out := make([]string, 0, len(fresh)+len(old))
	for _, list := range [][]string{fresh, old} {
		for _, a := range list {
			if IsDNSName(a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	names := len(out)
	for _, a := range fresh {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range old {
		if len(out)-names >= 6 {
			break
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// IsDNSName reports whether addr ("host:port") names its host by a DNS
// name rather than an IP address.
func IsDNSName(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	_, err = netip.ParseAddr(host)
	return err != nil
}

// Seen refreshes a peer's last-seen time (it answered a probe). It
// reports whether the table has the peer.
func (t *Table) Seen(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	if !ok {
		return false
	}
	p.LastSeen = now
	if !p.Online {
		p.Online = true
		t.emitLocked(Event{Kind: EventUp, Peer: *p})
	}
	t.saveLocked(now, false)
	return true
}

// MarkOffline marks a peer offline with a reason. It reports whether the
// peer was online.
func (t *Table) MarkOffline(id, reason string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	if !ok || !p.Online {
		return false
	}
	p.Online = false
	t.emitLocked(Event{Kind: EventDown, Peer: *p, Reason: reason})
	// Its last-seen time reaches the disk with the next write, at most
	// saveEvery from now: when an office closes, each remaining peer hears
	// dozens of goodbyes within a second, and a write with an fsync for
	// each took 13% of the CPU of a 50-peer run (BenchmarkDiscoveryScale,
	// with its teardown).
	t.dirty = true
	t.saveLocked(time.Now(), false)
	return true
}

// TrustChanged tells the subscribers that id's trust state (read from
// the trust source) changed.
func (t *Table) TrustChanged(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		t.emitLocked(Event{Kind: EventChanged, Peer: *p})
	}
}

// makeRoomLocked forgets one peer when the table holds maxPeers: of those
// not verified and not added by hand, an offline one heard from longest
// ago, else the online one heard from longest ago.
func (t *Table) makeRoomLocked() {
	if len(t.peers) < maxPeers {
		return
	}
	var victim *Peer
	for _, p := range t.peers {
		if t.viewLocked(p).Trust == "verified" || p.Manual {
			continue
		}
		switch {
		case victim == nil,
			victim.Online && !p.Online,
			victim.Online == p.Online && p.LastSeen.Before(victim.LastSeen):
			victim = p
		}
	}
	if victim == nil {
		return
	}
	delete(t.peers, victim.ID)
	t.dirty = true
	t.emitLocked(Event{Kind: EventRemoved, Peer: *victim})
}

// Get returns the peer with id.
func (t *Table) Get(id string) (Peer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		return t.viewLocked(p), true
	}
	return Peer{}, false
}

// List returns all peers: online first, then by name and id.
func (t *Table) List() []Peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Peer, 0, len(t.peers))
	for _, p := range t.peers {
		out = append(out, t.viewLocked(p))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Online != out[j].Online {
			return out[i].Online
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Snapshot appends a copy of every peer to dst[:0] and returns it, in no
// order and without Trust: what the node's periodic loops (liveness
// twice a second, peer exchange every second) read. A caller that keeps
// dst between rounds allocates only the peers' addresses; List sorted,
// asked the trust store for every peer and made a new slice each time,
// 6% of an idle peer's CPU with 100 peers online (docs/performance.md).
func (t *Table) Snapshot(dst []Peer) []Peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	dst = dst[:0]
	for _, p := range t.peers {
		dst = append(dst, clonePeer(p))
	}
	return dst
}

func clonePeer(p *Peer) Peer {
	c := *p
	c.Addresses = slices.Clone(p.Addresses)
	return c
}

// AddManual remembers an address to retry; its peer id is learnt at first
// contact.
func (t *Table) AddManual(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.peers {
		if slices.Contains(p.Addresses, addr) {
			p.Manual = true
			t.dirty = true
			t.saveLocked(time.Now(), true)
			return
		}
	}
	if !slices.Contains(t.manual, addr) {
		t.manual = append(t.manual, addr)
		t.dirty = true
		t.saveLocked(time.Now(), true)
	}
}

// ManualAddresses returns manual addresses whose peer is not known yet.
func (t *Table) ManualAddresses() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.manual)
}

// Remove forgets a peer (by id) or a pending manual address. It reports
// whether anything was removed.
func (t *Table) Remove(idOrAddr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[idOrAddr]; ok {
		delete(t.peers, idOrAddr)
		t.dirty = true
		t.emitLocked(Event{Kind: EventRemoved, Peer: *p})
		t.saveLocked(time.Now(), true)
		return true
	}
	if i := slices.Index(t.manual, idOrAddr); i >= 0 {
		t.manual = slices.Delete(t.manual, i, i+1)
		t.dirty = true
		t.saveLocked(time.Now(), true)
		return true
	}
	return false
}

// Flush writes pending changes now.
func (t *Table) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.later != nil {
		t.later.Stop()
		t.later = nil
	}
	t.dirty = true
	return t.saveLocked(time.Now(), true)
}

// saveLocked persists the table when something structural changed, and
// last-seen times at most every 30 s: liveness updates come every second
// and need not hit the disk.
func (t *Table) saveLocked(now time.Time, force bool) error {
	if !force && !t.dirty && now.Sub(t.saved) < 30*time.Second {
		return nil
	}
	if !force && now.Sub(t.saved) < saveEvery {
		// A burst of changes (strangers' hellos) costs one write.
		if t.later == nil {
			t.later = time.AfterFunc(saveEvery, func() {
				t.mu.Lock()
				defer t.mu.Unlock()
				t.later = nil
				t.saveLocked(time.Now(), true)
			})
		}
		return nil
	}
	st := tableState{Manual: t.manual}
	for _, p := range t.peers {
		c := t.viewLocked(p)
		c.Online = false
		st.Peers = append(st.Peers, c)
	}
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].ID < st.Peers[j].ID })
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(t.path, data, 0o600); err != nil {
		t.log.Error("saving peer table failed", "err", err)
		return err
	}
	t.dirty = false
	t.saved = now
	t.writes++
	return nil
}
