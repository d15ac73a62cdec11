package node

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

// LivenessConfig tunes how peers are probed. mDNS records outlive a crashed
// peer, so whether a peer is online is decided by whether it answers.
type LivenessConfig struct {
	// Interval between probes of an online peer (default 1 s).
	Interval time.Duration
	// Timeout of one probe (default 2 s).
	Timeout time.Duration
	// OfflineAfter: an online peer not heard from for this long after a
	// failed probe is marked offline (default 5 s; with the defaults a
	// crashed peer is offline within about 7 s).
	OfflineAfter time.Duration
	// RetryMax caps the back-off between attempts to reach an offline
	// remembered peer (default 30 s).
	RetryMax time.Duration
}

func (c *LivenessConfig) setDefaults() {
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.OfflineAfter == 0 {
		c.OfflineAfter = 5 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
}

type probeState struct {
	inflight bool
	next     time.Time
	failures int
	// kept: the last failure kept the peer's session (a first failure in
	// a row on a session that is up).
	kept bool
	// named: the peer has a DNS name from `peer add`, which a redial
	// resolves anew; an address change is found by retrying soon.
	named bool
	// pings: the peer's last hello said it answers pings, at helloAt.
	// Probes ping it on the session that is up, with a full hello every
	// helloEvery to learn what a ping does not say (name, port, clock).
	pings   bool
	helloAt time.Time
}

// helloEvery is how often a peer that answers pings gets a hello anyway:
// every 30 s, and with many peers online perPeerHello each, up to
// maxHelloEvery. A hello is a request on a new SCTP stream with JSON
// both ways; with 100 peers online, hellos every 30 s were about a
// quarter of an idle peer's CPU (docs/performance.md). What only a hello
// says changes seldom: a peer's name, and its clock for doctor's check.
func (l *liveness) helloEvery() time.Duration {
	d := time.Duration(l.online.Load()) * perPeerHello
	return max(minHelloEvery, min(d, maxHelloEvery))
}

const (
	minHelloEvery = 30 * time.Second
	perPeerHello  = 1200 * time.Millisecond
	maxHelloEvery = 2 * time.Minute
)

// helloFrom notes what a hello from peer id (either direction) said.
func (l *liveness) helloFrom(id string, h hello, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateLocked(id)
	st.pings, st.helloAt = h.Ping, now
	// The peer is there: whatever back-off its absence earned is over. A
	// peer back by its own dial kept the retry time of its absence (up to
	// 30 s away), and no probe came before it: a crash right after went
	// unnoticed for that long (TestDiscoveryLifecycle, step 6).
	st.failures, st.kept = 0, false
	if next := now.Add(l.interval()); st.next.After(next) {
		st.next = next
	}
}

// pingNow reports whether a probe of id may be a ping.
func (l *liveness) pingNow(id string, now time.Time) bool {
	l.mu.Lock()
	st := l.state[id]
	ok := st != nil && st.pings && now.Sub(st.helloAt) < l.helloEvery()
	l.mu.Unlock()
	return ok && l.n.endpoint.Connected(id)
}

// namedRetry caps the back-off of a peer added by DNS name.
const namedRetry = 4 * time.Second

type liveness struct {
	n    *Node
	cfg  LivenessConfig
	kick chan struct{}
	// dials holds a token per probe that needs a handshake: with 50 peers
	// started together, all first contacts at once made every handshake
	// slow enough to time out (docs/performance.md). Waiting for a token
	// is not counted in the probe's timeout.
	dials chan struct{}
	// online is how many peers were online at the last schedule.
	online atomic.Int64

	mu    sync.Mutex
	state map[string]*probeState // by peer id, "addr:" + address for manual peers, "hint:" + id for hints
	// hints are addresses an unauthenticated source (an mDNS record) names
	// for a peer id. They change nothing the user sees: they are probed,
	// and only the peer's authenticated hello puts an address, a name or
	// "online" into the table. Unconfirmed ones are dropped after
	// hintTries probes or hintTTL, and a (id, address) that failed is not
	// taken again for hintQuarantine, so fake records cannot make a peer
	// probe a victim forever (docs/security.md, M5).
	hints map[string]*hint
	// failed is when each "id addr" hint last failed.
	failed map[string]time.Time
	// learned are peers other peers reported (peer exchange): probed like
	// hints, and accepted only with the fingerprint reported.
	learned map[string]*hint
	// pinged are peers not in the table that pinged this one over an
	// authenticated session, with when they were said hello to on it
	// (zero: not yet). See pingedBy.
	pinged map[string]time.Time

	// peers is the table's snapshot, kept for the next schedule.
	scheduling sync.Mutex
	peers      []discovery.Peer
}

// hint is one peer id's unconfirmed addresses.
type hint struct {
	fp      string    // learned peers only: the key the probe must find
	since   time.Time // first heard
	addrs   []string
	expires time.Time
	tries   int
}

const (
	hintTries      = 3
	hintTTL        = 30 * time.Second
	hintQuarantine = 10 * time.Minute
	maxHints       = 256
	maxHintAddrs   = 4
)

func newLiveness(n *Node, cfg LivenessConfig) *liveness {
	cfg.setDefaults()
	return &liveness{n: n, cfg: cfg, kick: make(chan struct{}, 1), dials: make(chan struct{}, maxDials), state: map[string]*probeState{},
		hints: map[string]*hint{}, failed: map[string]time.Time{}, learned: map[string]*hint{},
		pinged: map[string]time.Time{}}
}

// hint takes addresses an mDNS record names for id, to be confirmed by an
// authenticated probe. It reports whether any was new.
func (l *liveness) hint(id string, addrs []string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, at := range l.failed {
		if now.Sub(at) > hintQuarantine {
			delete(l.failed, k)
		}
	}
	return l.addLocked(l.hints, "hint:", id, "", addrs, now)
}

// learn takes a peer that peer from reported, to be confirmed by a probe
// that only accepts fingerprint fp. It reports whether anything was new.
// Bounded like the mDNS hints: maxHints peers, maxHintAddrs addresses
// each, hintTries probes within hintTTL, and an address that failed is
// not taken again for hintQuarantine.
func (l *liveness) learn(id, fp string, addrs []string, from string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hints[id] != nil {
		return false // mDNS named it too: its probe is under way
	}
	if lp := l.learned[id]; lp != nil && lp.fp != fp {
		// Two peers disagree about id's key: keep the first report; the
		// probe settles it either way.
		return false
	}
	return l.addLocked(l.learned, "pex:", id, fp, addrs, now)
}

// addLocked adds addrs (those not in quarantine) to id's entry of m,
// whose probe state is under prefix+id, and makes it due now if any was
// new.
func (l *liveness) addLocked(m map[string]*hint, prefix, id, fp string, addrs []string, now time.Time) bool {
	h := m[id]
	added := false
	for _, a := range addrs {
		if at, bad := l.failed[id+" "+a]; bad && now.Sub(at) <= hintQuarantine {
			continue
		}
		if h == nil {
			if len(m) >= maxHints {
				return false
			}
			h = &hint{since: now, fp: fp}
			m[id] = h
		}
		if len(h.addrs) < maxHintAddrs && !slices.Contains(h.addrs, a) {
			h.addrs = append(h.addrs, a)
			added = true
		}
	}
	if h != nil && added {
		h.expires = now.Add(hintTTL)
		if st := l.state[prefix+id]; st != nil {
			st.next = time.Time{}
		}
	}
	return added
}

// dueLearned are the learned peers to probe now, with their fingerprints.
func (l *liveness) dueLearned(now time.Time) map[string]hint {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]hint{}
	for id, h := range l.dueLocked(l.learned, "pex:", now) {
		out[id] = hint{fp: h.fp, addrs: slices.Clone(h.addrs)}
	}
	return out
}

// dueLocked drops m's expired entries and returns the others.
func (l *liveness) dueLocked(m map[string]*hint, prefix string, now time.Time) map[string]*hint {
	out := map[string]*hint{}
	for id, h := range m {
		if now.After(h.expires) {
			delete(m, id)
			delete(l.state, prefix+id)
			continue
		}
		out[id] = h
	}
	return out
}

// learnedDone settles a learned peer: confirmed, or one more failed try.
func (l *liveness) learnedDone(id string, ok bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.doneLocked(l.learned, "pex:", id, ok, now)
}

// doneLocked settles id's entry of m: confirmed, or one more failed try;
// after hintTries its addresses go into quarantine.
func (l *liveness) doneLocked(m map[string]*hint, prefix, id string, ok bool, now time.Time) {
	h := m[id]
	if h == nil {
		return
	}
	h.tries++
	if ok || h.tries >= hintTries || now.After(h.expires) {
		if !ok {
			for _, a := range h.addrs {
				if len(l.failed) < 4*maxHints {
					l.failed[id+" "+a] = now
				}
			}
		}
		delete(m, id)
		delete(l.state, prefix+id)
	}
}

// hintDone settles id's hint: confirmed, or one more failed try.
func (l *liveness) hintDone(id string, ok bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.doneLocked(l.hints, "hint:", id, ok, now)
}

// dueHints are the hints to probe now. Of two peers that see each other's
// records at the same moment, the one with the greater id lets the other
// dial first (firstContactDefer): one handshake per pair instead of two,
// which is what lets 50 peers started together converge (docs/performance.md).
// Its own dial follows if none came.
func (l *liveness) dueHints(now time.Time, self string) map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]string{}
	for id, h := range l.dueLocked(l.hints, "hint:", now) {
		if self > id && h.tries == 0 && now.Sub(h.since) < firstContactDefer {
			continue
		}
		out[id] = slices.Clone(h.addrs)
	}
	return out
}

// firstContactDefer is how long the greater id waits for the other's dial.
const firstContactDefer = 500 * time.Millisecond

// quietFor is how long an online peer may go unheard before it is probed.
// Both sides probe each other; the greater id waits longer, so while the
// other's probes keep arriving it has nothing to ask: one probe per pair
// and interval instead of two.
func (l *liveness) quietFor(self, peer string) time.Duration {
	if self > peer {
		return l.interval() * 3 / 2
	}
	return l.interval()
}

// interval is how often an online peer is probed: the configured interval,
// longer with many peers online (perPeerProbe each, up to maxInterval),
// so that 100 peers do not spend their CPU asking each other whether they
// are there (at 100 peers on two cores, pings every 2 s took most of a
// core). maxInterval keeps a crashed peer's detection within 10 s: the
// greater id's 1.5 × 4 s of quiet, then a probe of 2 s.
func (l *liveness) interval() time.Duration {
	d := time.Duration(l.online.Load()) * perPeerProbe
	return max(l.cfg.Interval, min(d, maxInterval))
}

const (
	perPeerProbe = 40 * time.Millisecond
	maxInterval  = 4 * time.Second
)

func (l *liveness) run(ctx context.Context) {
	tick := time.NewTicker(l.cfg.Interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-l.kick:
		}
		l.schedule(ctx, time.Now())
	}
}

// pingedBy notes that peer id, which the table does not have, pinged this
// one over a session: it dialled us and took our answer to its hello,
// but our own hello on that session timed out (a loaded machine), so
// only id knows the pair is up. A hello on the same session, at the next
// schedule, puts it into the table without a handshake; without it the
// session was closed as a stranger's 20 s later and the pair took
// minutes to meet again (100 peers on two cores). Once per id and
// hintTTL, and at most maxHints ids at once.
func (l *liveness) pingedBy(id string, now time.Time) {
	l.mu.Lock()
	_, dup := l.pinged[id]
	add := !dup && len(l.pinged) < maxHints
	if add {
		l.pinged[id] = time.Time{}
	}
	l.mu.Unlock()
	if add {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// duePinged are the ids pingedBy noted and no hello went to yet; they are
// marked as said hello to now. Ids said hello to more than hintTTL ago
// are forgotten here, on the schedule's tick rather than on each ping.
func (l *liveness) duePinged(now time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, at := range l.pinged {
		switch {
		case at.IsZero():
			out = append(out, id)
			l.pinged[id] = now
		case now.Sub(at) > hintTTL:
			delete(l.pinged, id)
		}
	}
	return out
}

// helloOnSession says hello to id over the session that is up, if one is.
func (l *liveness) helloOnSession(ctx context.Context, id string) {
	if !l.n.endpoint.Connected(id) {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	if err := l.sayHello(pctx, id, nil); err != nil {
		l.n.log.Debug("hello on a session the peer pinged on failed", "peer", id, "err", err)
	}
}

// sayHello sends peer id a hello (over its session, or dialling addrs)
// and takes in what its answer says.
func (l *liveness) sayHello(ctx context.Context, id string, addrs []string) error {
	var h hello
	info, err := l.n.endpoint.Call(ctx, id, addrs, opHello, l.n.hello(), &h)
	if err != nil {
		return err
	}
	l.n.observeHello(info, h)
	l.helloFrom(id, h, time.Now())
	return nil
}

// probeSoon asks for a probe of id at the next opportunity.
func (l *liveness) probeSoon(id string) {
	l.mu.Lock()
	if st := l.state[id]; st != nil {
		st.next = time.Time{}
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// gone notes that id said goodbye: no need to probe it right away.
func (l *liveness) gone(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateLocked(id)
	st.failures = 1
	st.next = time.Now().Add(2 * time.Second)
}

func (l *liveness) stateLocked(key string) *probeState {
	st := l.state[key]
	if st == nil {
		st = &probeState{}
		l.state[key] = st
	}
	return st
}

// claim marks key in flight if it is due; it reports whether to probe.
func (l *liveness) claim(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateLocked(key)
	if st.inflight || now.Before(st.next) {
		return false
	}
	st.inflight = true
	return true
}

func (l *liveness) finish(key string, ok bool, online bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stateLocked(key)
	st.inflight = false
	if ok {
		st.failures, st.kept = 0, false
		st.next = now.Add(l.interval())
		return
	}
	st.failures++
	if online {
		st.next = now.Add(l.interval())
		return
	}
	// The back-off grows with the failures alone. Retrying a peer seen
	// lately sooner (within an eighth of its time away) found a restarted
	// peer that cannot reach out in 4.5 s instead of 8-30 s, but it is
	// the peer starved of CPU that most often fails its probes, and with
	// a hundred peers retrying it every 4 s one run stayed at 99% online
	// for 95 s (docs/performance.md): not kept.
	backoff := min(2*time.Second<<min(st.failures, 5), l.cfg.RetryMax)
	if st.named {
		backoff = min(backoff, namedRetry)
	}
	st.next = now.Add(backoff)
}

func (l *liveness) setNamed(key string, named bool) {
	l.mu.Lock()
	l.stateLocked(key).named = named
	l.mu.Unlock()
}

func (l *liveness) schedule(ctx context.Context, now time.Time) {
	if ctx.Err() != nil {
		return
	}
	self := l.n.Identity.ID.String()
	l.scheduling.Lock()
	defer l.scheduling.Unlock()
	l.peers = l.n.Peers.Snapshot(l.peers)
	peers := l.peers
	online := 0
	for _, p := range peers {
		if p.Online {
			online++
		}
	}
	l.online.Store(int64(online))
	for _, p := range peers {
		if len(p.Addresses) == 0 {
			continue
		}
		if p.Online && now.Sub(p.LastSeen) < l.quietFor(self, p.ID) {
			// Heard from lately (its own probe of us counts): nothing to ask.
			continue
		}
		if !l.claim(p.ID, now) {
			continue
		}
		l.setNamed(p.ID, slices.ContainsFunc(p.Addresses, discovery.IsDNSName))
		l.n.wg.Add(1)
		go func() {
			defer l.n.wg.Done()
			l.probe(ctx, p)
		}()
	}
	for id, addrs := range l.dueHints(now, self) {
		if l.confirmed(id) {
			// Reached meanwhile (its own dial, say): nothing left to confirm.
			l.hintDone(id, true, now)
			continue
		}
		key := "hint:" + id
		if !l.claim(key, now) {
			continue
		}
		l.n.wg.Add(1)
		go func() {
			defer l.n.wg.Done()
			ok := l.probeHint(ctx, id, addrs)
			l.finish(key, ok, false, time.Now())
			l.hintDone(id, ok, time.Now())
		}()
	}
	for id, lp := range l.dueLearned(now) {
		if p, ok := l.n.Peers.Get(id); ok && p.Online {
			l.learnedDone(id, true, now)
			continue
		}
		key := "pex:" + id
		if !l.claim(key, now) {
			continue
		}
		l.n.wg.Add(1)
		go func() {
			defer l.n.wg.Done()
			ok := l.probeHint(transport.ExpectFingerprint(ctx, lp.fp), id, lp.addrs)
			l.finish(key, ok, false, time.Now())
			l.learnedDone(id, ok, time.Now())
		}()
	}
	for _, id := range l.duePinged(now) {
		l.n.wg.Add(1)
		go func() {
			defer l.n.wg.Done()
			l.helloOnSession(ctx, id)
		}()
	}
	for _, addr := range l.n.Peers.ManualAddresses() {
		key := "addr:" + addr
		if !l.claim(key, now) {
			continue
		}
		l.n.wg.Add(1)
		go func() {
			defer l.n.wg.Done()
			_, err := l.probeAddr(ctx, addr)
			l.finish(key, err == nil, false, time.Now())
		}()
	}
}

// maxDials bounds the handshakes this peer's probes start at once. When
// many peers start together, every peer's dials share the same CPUs (on
// the bed, two cores for all): with 8 each, 100 peers had ~800 handshakes
// in flight, most timed out half done, and the retries kept the machine
// overloaded, so they never converged. With 3 they did, in 67 s; with 2
// in 53-76 s; with 4 once in two runs (docs/performance.md).
const maxDials = 3

// dialToken waits for a handshake token if reaching id needs a handshake;
// the returned function gives it back. ok is false if ctx ended first.
func (l *liveness) dialToken(ctx context.Context, id string) (release func(), ok bool) {
	if l.n.endpoint.Connected(id) {
		return func() {}, true
	}
	select {
	case l.dials <- struct{}{}:
		return func() { <-l.dials }, true
	case <-ctx.Done():
		return nil, false
	}
}

func (l *liveness) probe(ctx context.Context, p discovery.Peer) {
	release, ok := l.dialToken(ctx, p.ID)
	if !ok {
		l.finish(p.ID, false, p.Online, time.Now())
		return
	}
	defer release()
	pctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	heard, started := l.n.endpoint.Heard(p.ID), time.Now()
	l.mu.Lock()
	lastOK := l.stateLocked(p.ID).failures == 0
	l.mu.Unlock()
	err := transport.ErrNoPing
	if l.pingNow(p.ID, started) {
		err = l.n.endpoint.Ping(pctx, p.ID)
	}
	if errors.Is(err, transport.ErrNoPing) || errors.Is(err, transport.ErrNoSession) {
		err = l.sayHello(pctx, p.ID, p.Addresses)
	} else if err == nil && !l.n.stopping.Load() {
		l.n.Peers.Seen(p.ID, time.Now())
	}
	now := time.Now()
	if err == nil {
		l.finish(p.ID, true, true, now)
		return
	}
	if ctx.Err() != nil {
		l.finish(p.ID, false, p.Online, now)
		return
	}
	if p.Online && lastOK && !errors.Is(err, identity.ErrIdentityChanged) && l.n.endpoint.Heard(p.ID) != heard {
		// The peer's side of the session moved while the probe waited: it
		// is there, only slow (a loaded machine). Dropping the session
		// would cost both a new handshake and load them more: 50 peers on
		// two cores collapsed that way (docs/performance.md). Once only:
		// a second failure in a row drops it, so that a crashed peer is
		// still offline within 10 s.
		l.finish(p.ID, false, true, now)
		return
	}
	if l.n.endpoint.Busy(p.ID, started) && !errors.Is(err, identity.ErrIdentityChanged) {
		// The probe waited behind a transfer on the same session; the
		// transfer itself fails if the peer is really gone.
		l.finish(p.ID, false, p.Online, now)
		return
	}
	// A first failure in a row on a session that is up keeps the session
	// for the next probe; whether the peer is offline is decided below as
	// before. A peer starved of CPU answers late; dropping its session made
	// the next probe a new handshake, which loaded both more: with 100 peers
	// starting together one session in ten was such a redial
	// (docs/performance.md). A crashed or restarted peer fails the next
	// probe too, which drops the session, and that probe and the dial after
	// it come at the usual interval, not after a back-off: a failure on a
	// kept session says nothing about a new handshake.
	keep := lastOK && l.n.endpoint.Connected(p.ID) && !errors.Is(err, identity.ErrIdentityChanged)
	if !keep {
		l.n.endpoint.Drop(p.ID)
	}
	l.mu.Lock()
	st := l.stateLocked(p.ID)
	keptBefore := st.kept
	st.kept = keep
	l.mu.Unlock()
	if errors.Is(err, identity.ErrIdentityChanged) {
		// Another key answered at the peer's address: the pin stays, the
		// peer is not reachable there.
		l.n.Peers.MarkOffline(p.ID, "another key answered at its address")
		l.finish(p.ID, false, false, now)
		return
	}
	cur, _ := l.n.Peers.Get(p.ID)
	online := cur.Online
	if online && now.Sub(cur.LastSeen) >= l.cfg.OfflineAfter {
		if l.n.Peers.MarkOffline(p.ID, "no answer") {
			l.n.log.Info("peer offline", "peer", p.ID, "name", p.Name, "err", err)
			if l.n.browser != nil {
				l.n.browser.AskAgain(p.ID)
			}
		}
		online = false
	}
	l.finish(p.ID, false, online || keep || keptBefore, now)
}

// confirmed reports whether peer id is online over a session that is up:
// what an unauthenticated record says about it then has nothing to add.
func (l *liveness) confirmed(id string) bool {
	p, ok := l.n.Peers.Get(id)
	return ok && p.Online && l.n.endpoint.Connected(id)
}

// probeHint reaches peer id at addresses an mDNS record named; only an
// authenticated hello from id (its pinned key, or first contact) puts one
// of them into the table.
func (l *liveness) probeHint(ctx context.Context, id string, addrs []string) bool {
	l.awaitInbound(ctx, id, addrs)
	release, ok := l.dialToken(ctx, id)
	if !ok {
		return false
	}
	defer release()
	// Waiting for the token took a while: its dial may have begun since.
	l.awaitInbound(ctx, id, addrs)
	pctx, cancel := context.WithTimeout(ctx, l.timeout(id))
	defer cancel()
	if err := l.sayHello(pctx, id, addrs); err != nil {
		l.n.log.Debug("mdns hint not confirmed", "peer", id, "err", err)
		return false
	}
	return true
}

// awaitInbound waits while the peer at addrs is dialling this one (its
// handshake is past the cookie here) and no session with id is up: that
// handshake gives the session a dial would, and two at once cost both
// peers twice. When 50 peers started together, one session in eight was
// such a second one (docs/performance.md). The inbound handshake ends
// within its timeout either way; inboundWait bounds the wait besides.
func (l *liveness) awaitInbound(ctx context.Context, id string, addrs []string) {
	deadline := time.Now().Add(inboundWait)
	for !l.n.endpoint.Connected(id) && l.n.endpoint.HandshakeFrom(addrs) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(inboundPoll):
		}
	}
}

const (
	inboundWait = 6 * time.Second
	inboundPoll = 20 * time.Millisecond
)

// timeout is how long a probe of id may take: a first contact also needs
// the handshake, which on a loaded machine (many peers starting together)
// takes longer than a hello on a session that is up; cutting it off at
// the hello's timeout wasted the handshake's work and cost a back-off.
func (l *liveness) timeout(id string) time.Duration {
	if l.n.endpoint.Connected(id) {
		return l.cfg.Timeout
	}
	return l.cfg.Timeout + firstContactExtra
}

// firstContactExtra is the time a probe that needs a handshake gets on top.
const firstContactExtra = 3 * time.Second

// probeAddr reaches whatever peer answers at addr and records it.
func (l *liveness) probeAddr(ctx context.Context, addr string) (string, error) {
	release, ok := l.dialToken(ctx, "")
	if !ok {
		return "", ctx.Err()
	}
	defer release()
	pctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	var h hello
	info, err := l.n.endpoint.Call(pctx, "", []string{addr}, opHello, l.n.hello(), &h)
	if err != nil {
		return "", err
	}
	if l.n.stopping.Load() || l.n.hasDeparted(info.ID, h.Instance) {
		return info.ID, nil
	}
	// The address answered: it belongs to this peer from now on.
	l.n.Peers.Observe(discovery.Observation{ID: info.ID, Addresses: []string{addr}, Alive: true}, time.Now())
	l.n.observeHello(info, h)
	return info.ID, nil
}
