// Package node composes a running peer for the daemon and the GUI: state
// in the home, the transport endpoint and the gate in front of the
// services, mDNS discovery, liveness probing and peer exchange, the
// control socket and its typed client (LocalClient). The file operations
// on other peers are package shares/remote's (files.go hands them the peer
// table and the session's logins). Printing on other peers (print.go) and
// the printers added from them as OS queues (printqueues.go) are still
// here: they join printing with the peer table, the logins and the held
// jobs of the local IPP endpoint.
package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Config configures a running peer. Zero values take the saved settings.
type Config struct {
	Home string
	// Name and Port, if set, replace the saved settings (and are saved).
	Name string
	Port int
	// ListenHost limits the UDP listener to one address (default: all).
	ListenHost string
	// NoMDNS turns mDNS off (tests of manual peers; networks that forbid it).
	NoMDNS bool
	Logger *slog.Logger
	// Liveness tunes crash detection; zero values are the defaults.
	Liveness LivenessConfig
}

// Node is a running peer.
type Node struct {
	*State
	log      *slog.Logger
	lock     *os.File
	endpoint *transport.Endpoint
	mux      *transport.Mux // the node's own ops (hello, bye)
	services *transport.Mux // the services' ops, behind gate
	gate     serviceGate
	mdnsMu   sync.Mutex // guards announce and stopMDNS
	announce *discovery.Announcer
	stopMDNS bool
	browser  *discovery.Browser
	control  *control.Server
	live     *liveness
	pex      *pex
	// hellosServed and pingsHeard count the liveness probes of other
	// peers this one answered, by kind.
	hellosServed, pingsHeard atomic.Int64
	ctrlMux                  map[string]control.HandlerFunc
	// reachMu guards reaching: the peers a peer.reach runs for.
	reachMu  sync.Mutex
	reaching map[string]bool

	files     *shares.Service
	transfers *transfer.Manager
	client    shares.Client
	askMu     sync.Mutex
	asker     AcceptAsker

	// printClient reaches other peers' shared printers (print.go).
	printClient printing.Client
	// printSvc answers other peers' print requests (kept to re-register
	// it when sharing resumes, sharing.go).
	printSvc *printing.Service
	// queues are the shared printers of other peers served in this
	// machine's print system (printqueues.go).
	queues *printQueues

	// instance is random per process: a goodbye names it, so a hello of
	// the same process still in flight cannot bring the peer back, while a
	// restarted peer (a new instance) comes back at once.
	instance string
	stopping atomic.Bool
	// settingsMu guards Settings against control ops changing them.
	settingsMu sync.Mutex
	// limits cap the rate of file contents sent and received, as the
	// settings say (applyLimits).
	limits ratelimit.Limits
	// remote carries out the user's file operations on other peers.
	remote *remote.Files
	// queueKick wakes the delivery loop of queued sends.
	queueKick chan struct{}
	// creds are the credentials each peer accepted in this run.
	creds    peerCreds
	departMu sync.Mutex
	departed map[string]string // peer id → instance that said goodbye

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Ops of the peer protocol owned by the node.
const (
	opHello = "peer.hello"
	opBye   = "peer.bye"
)

// Start starts the peer for cfg.Home. It fails with ErrAlreadyRunning when
// another process runs a peer for the same home.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := PrivateHome(cfg.Home); err != nil {
		return nil, err
	}
	lock, err := lockInstance(ctx, cfg.Home)
	if err != nil {
		return nil, err
	}
	n := &Node{log: log, lock: lock, queueKick: make(chan struct{}, 1), mux: transport.NewMux(), services: transport.NewMux(), ctrlMux: map[string]control.HandlerFunc{},
		instance: rand.Text(), departed: map[string]string{}, reaching: map[string]bool{}}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	n.State, err = OpenState(cfg.Home, log)
	if err != nil {
		return nil, err
	}
	changed := false
	if cfg.Name != "" && cfg.Name != n.Settings.Name {
		n.Settings.Name, changed = cfg.Name, true
	}
	if cfg.Port != 0 && cfg.Port != n.Settings.Port {
		n.Settings.Port, changed = cfg.Port, true
	}
	if changed {
		if err := n.SaveSettings(); err != nil {
			return nil, err
		}
	}
	n.ctx, n.cancel = context.WithCancel(ctx)
	n.live = newLiveness(n, cfg.Liveness)
	n.pex = newPex(n)

	n.mux.Handle(opHello, n.serveHello)
	n.mux.Handle(opBye, n.serveBye)
	n.mux.Handle(opPeerList, n.servePeerList)
	n.mux.Handle(opPeerReach, n.servePeerReach)
	n.gate.own, n.gate.services = n.mux, n.services
	n.endpoint, err = transport.Listen(n.ctx, net.JoinHostPort(cfg.ListenHost, strconv.Itoa(n.Settings.Port)), transport.Config{
		Identity: n.Identity,
		Trust:    n.Trust,
		Handler:  &n.gate,
		Logger:   log,
		QuietOps: []string{opHello, opPeerList},
		// A peer this one cannot reach (no address: it never said where it
		// listens) is of no use once idle; its session goes after 20 s.
		Stranger: func(id string) bool {
			p, ok := n.Peers.Get(id)
			return !ok || len(p.Addresses) == 0
		},
		// A handshake claiming a known id with another key is refused by
		// the trust store and changes nothing the user sees: ids are
		// public, so anyone can present one (docs/security.md, H1).
		// A ping on a session is the peer there: its own probe of us,
		// which spares ours (liveness.quietFor).
		OnPing: func(p transport.PeerInfo) {
			n.pingsHeard.Add(1)
			if n.stopping.Load() {
				return
			}
			if now := time.Now(); !n.Peers.Seen(p.ID, now) {
				n.live.pingedBy(p.ID, now)
			}
		},
		OnRefused: func(id, fp string, _ net.Addr, err error) {
			log.Warn("refused a handshake: another key for a pinned peer id", "peer", id, "fingerprint", fp)
		},
	})
	if err != nil {
		return nil, err
	}
	n.Trust.OnChange(func(e identity.TrustEntry) { n.Peers.TrustChanged(e.ID) })
	if err := n.startFiles(); err != nil {
		return nil, err
	}
	if err := n.startPrinting(); err != nil {
		return nil, err
	}
	n.startPrintQueues()

	n.registerControl()
	n.registerLocalControl()
	n.registerFilesControl()
	n.registerPrintControl()
	n.registerSharingControl()
	n.registerDoctorControl()
	n.control, err = control.Listen(cfg.Home, n.serveControl, Classify, log)
	if err != nil {
		return nil, err
	}

	if !cfg.NoMDNS {
		// Announcing and browsing follow the usable interfaces: a peer
		// started before its network, or that gains one (a dock, a VPN),
		// starts on it as it appears.
		n.browser = discovery.NewBrowser(n.Identity.ID.String(), log, n.onMDNS)
		n.goRun(n.browser.Run)
		n.goRun(discovery.NewInterfaceWatcher(log, n.onInterfaces).Run)
	}
	n.goRun(n.control.Serve)
	n.goRun(n.live.run)
	n.goRun(n.pex.run)
	n.goRun(trimMemory)
	n.goRun(n.files.RunPartialCleaner)
	n.goRun(n.deliverQueued)
	n.goRun(n.trimAfterTransfers)
	ok = true
	log.Info("peer started", "id", n.Identity.ID.String(), "name", n.Settings.Name, "port", n.Settings.Port, "fingerprint", n.Identity.Fingerprint())
	return n, nil
}

// lockInstance takes the home's instance lock. A CLI command reading the
// home holds the same lock for a few milliseconds; a running peer holds it
// for good and answers on the control socket. So a held lock fails at once
// only when a peer answers, and is otherwise retried for a moment.
func lockInstance(ctx context.Context, home string) (*os.File, error) {
	path := filepath.Join(home, "peerdesk.lock")
	deadline := time.Now().Add(3 * time.Second)
	for {
		lock, err := lockFile(path)
		if !errors.Is(err, ErrAlreadyRunning) {
			return lock, err
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		perr := control.Call(pctx, home, OpID, nil, nil)
		cancel()
		if perr == nil || time.Now().After(deadline) {
			return nil, ErrAlreadyRunning
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *Node) goRun(fn func(context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn(n.ctx)
	}()
}

func (n *Node) announcement() discovery.Announcement {
	return discovery.Announcement{
		ID:          n.Identity.ID.String(),
		Name:        n.Settings.Name,
		Fingerprint: n.Identity.Fingerprint(),
		Port:        n.Settings.Port,
		Version:     transport.ProtocolVersion,
	}
}

// Endpoint is the transport endpoint, for services that register ops.
func (n *Node) Endpoint() *transport.Endpoint { return n.endpoint }

// Mux is where services register the ops they answer.
func (n *Node) Mux() *transport.Mux { return n.services }

// Done is closed when the node stops.
func (n *Node) Done() <-chan struct{} { return n.ctx.Done() }

// Close stops the peer gracefully: goodbye to every connected peer over the
// transport (immediate), goodbye over mDNS, then shutdown of the sessions.
func (n *Node) Close() error {
	n.once.Do(func() {
		n.stopping.Store(true)
		// mDNS goodbye first, so a browse restarted by the transport
		// goodbye below no longer finds this peer's records.
		n.mdnsMu.Lock()
		n.stopMDNS = true
		if n.announce != nil {
			n.announce.Close()
			n.announce = nil
		}
		n.mdnsMu.Unlock()
		if n.endpoint != nil {
			n.sayGoodbye()
		}
		if n.cancel != nil {
			n.cancel()
		}
		if n.control != nil {
			n.control.Close()
		}
		if n.endpoint != nil {
			n.endpoint.Close()
		}
		n.wg.Wait()
		if n.files != nil {
			n.files.Close()
		}
		if n.State != nil {
			_ = n.Peers.Flush()
			_ = n.Trust.Flush()
		}
		if n.lock != nil {
			n.lock.Close()
		}
		n.log.Info("peer stopped")
	})
	return nil
}

func (n *Node) sayGoodbye() {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range n.endpoint.Sessions() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = n.endpoint.Call(ctx, p.ID, nil, opBye, n.hello(), nil)
		}()
	}
	wg.Wait()
}

// hello is the body of a peer.hello request and response.
type hello struct {
	Name     string `json:"name"`
	Port     int    `json:"port"`
	Version  int    `json:"version"`
	Instance string `json:"instance,omitempty"`
	// Time is the sender's clock (unix ms), for the network check.
	Time int64 `json:"time,omitempty"`
	// Ping: the sender answers pings on the session (transport.Endpoint.Ping),
	// which then stand in for most hellos.
	Ping bool `json:"ping,omitempty"`
}

func (n *Node) hello() hello {
	return hello{Name: n.Settings.Name, Port: n.Settings.Port, Version: transport.ProtocolVersion, Instance: n.instance, Time: time.Now().UnixMilli(), Ping: true}
}

// serveHello answers a liveness probe. The prober is alive and reachable at
// the address its packets come from, on the port it listens on.
func (n *Node) serveHello(ctx context.Context, req transport.Request, s *transport.Stream) {
	var h hello
	if err := transport.DecodeBody(req, &h); err != nil {
		_ = s.Fail(err)
		return
	}
	n.hellosServed.Add(1)
	n.observeHello(s.Peer(), h)
	n.live.helloFrom(s.Peer().ID, h, time.Now())
	_ = s.Respond(n.hello())
}

func (n *Node) serveBye(ctx context.Context, req transport.Request, s *transport.Stream) {
	peer := s.Peer()
	var h hello
	if err := transport.DecodeBody(req, &h); err != nil {
		_ = s.Fail(err)
		return
	}
	if h.Instance != "" {
		n.departMu.Lock()
		n.departed[peer.ID] = h.Instance
		n.departMu.Unlock()
	}
	_ = s.Respond(nil)
	n.log.Info("peer said goodbye", "peer", peer.ID)
	n.live.gone(peer.ID)
	if n.Peers.MarkOffline(peer.ID, "goodbye") && n.browser != nil {
		n.browser.AskAgain(peer.ID)
	}
}

func (n *Node) observeHello(p transport.PeerInfo, h hello) {
	if n.stopping.Load() || n.hasDeparted(p.ID, h.Instance) {
		return
	}
	n.departMu.Lock()
	delete(n.departed, p.ID)
	n.departMu.Unlock()
	var addrs []string
	if p.Addr != nil && h.Port > 0 && h.Port < 65536 {
		addrs = append(addrs, net.JoinHostPort(p.Addr.IP.String(), strconv.Itoa(h.Port)))
	}
	name := h.Name
	if len(name) > 128 {
		name = name[:128]
	}
	_, isNew := n.Peers.Observe(discovery.Observation{ID: p.ID, Name: name, Fingerprint: p.Fingerprint, Addresses: addrs, Alive: true}, time.Now())
	n.Trust.Touch(p.ID)
	if isNew {
		n.log.Info("new peer", "peer", p.ID, "name", name)
	}
	n.kickQueue() // sends may wait for it
}

// hasDeparted reports whether this instance of peer id said goodbye.
func (n *Node) hasDeparted(id, instance string) bool {
	if instance == "" {
		return false
	}
	n.departMu.Lock()
	defer n.departMu.Unlock()
	return n.departed[id] == instance
}

// onInterfaces starts announcing and browsing anew on the usable
// interfaces of the moment.
func (n *Node) onInterfaces(ifaces []net.Interface) {
	// Sessions from an address the host no longer has (a laptop
	// undocked from its cable, a Wi-Fi lost, a new DHCP lease) close
	// now, and their peers are probed at once from an address it has:
	// what the sessions carried resumes on new ones within a second or
	// two, not after its stall timeout (TestUndockMidTransfer).
	if local, err := hostAddresses(); err == nil {
		for _, id := range n.endpoint.CloseSessionsOffAddresses(local) {
			n.live.probeSoon(id)
		}
	}
	n.browser.SetInterfaces(ifaces)
	n.mdnsMu.Lock()
	defer n.mdnsMu.Unlock()
	if n.stopMDNS {
		return
	}
	if n.announce != nil {
		n.announce.Close()
		n.announce = nil
	}
	if len(ifaces) == 0 {
		n.log.Info("no usable network interface yet: peers find this one once it has one, or by address")
		return
	}
	a, err := discovery.Announce(n.announcement(), ifaces)
	if err != nil {
		n.log.Warn("mdns announce failed; peers must be added by address until it works", "err", err)
		return
	}
	n.announce = a
}

// hostAddresses is every address of every interface of this host.
func hostAddresses() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

// onMDNS handles a peer seen on mDNS. A record is an unauthenticated hint:
// anyone on the LAN can send one with any id, name and address. Its
// addresses are probed, and only the peer's authenticated hello changes
// what the user sees (name, address, online, trust).
func (n *Node) onMDNS(o discovery.Observation) {
	n.departMu.Lock()
	_, departed := n.departed[o.ID]
	n.departMu.Unlock()
	if departed {
		// A record still cached or re-sent after the goodbye says nothing
		// about the peer being alive; only its own hello can.
		n.live.probeSoon(o.ID)
		return
	}
	n.pex.sawOnMDNS(o.ID, time.Now())
	if n.live.confirmed(o.ID) {
		// Its hello came over a session that is up: a probe of the
		// record's addresses would ride that session and confirm nothing.
		// Every answer to every query made one (three or four extra
		// hellos per pair while 50 peers started).
		n.live.probeSoon(o.ID)
		return
	}
	if n.live.hint(o.ID, o.Addresses, time.Now()) {
		n.log.Debug("mdns hint", "peer", o.ID, "addrs", o.Addresses)
	}
	n.live.probeSoon(o.ID)
}

// PeerList returns the peer table.
func (n *Node) PeerList() []discovery.Peer {
	list := n.Peers.List()
	for i := range list {
		list[i].Offered = n.Trust.Get(list[i].ID).Offered
	}
	return list
}

// Subscribe returns peer table events.
func (n *Node) Subscribe() (<-chan discovery.Event, func()) { return n.Peers.Subscribe() }

// AddPeer remembers a peer by address and tries to reach it now (up to
// ctx's deadline). It returns the peer if it answered.
func (n *Node) AddPeer(ctx context.Context, addr string) (discovery.Peer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return discovery.Peer{}, fmt.Errorf("%w: %q is not HOST:PORT", ErrUsage, addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return discovery.Peer{}, fmt.Errorf("%w: bad port in %q", ErrUsage, addr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		addr = net.JoinHostPort(ip.String(), port)
	} else {
		// A DNS name is kept as given: every dial resolves it anew, so a
		// peer whose address changes is found again by its name.
		if !validHostname(host) {
			return discovery.Peer{}, fmt.Errorf("%w: %q is not a host name or an IP address", ErrUsage, host)
		}
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil || len(ips) == 0 {
			return discovery.Peer{}, fmt.Errorf("%w: cannot resolve %q", ErrPeerNotFound, host)
		}
		addr = net.JoinHostPort(strings.ToLower(strings.TrimSuffix(host, ".")), port)
	}
	n.Peers.AddManual(addr)
	id, err := n.live.probeAddr(ctx, addr)
	if err != nil {
		return discovery.Peer{}, fmt.Errorf("peer at %s remembered, but not reachable now (will retry): %w", addr, err)
	}
	p, _ := n.Peers.Get(id)
	return p, nil
}

// validHostname reports whether s is a DNS host name: dot-separated labels
// of letters, digits and inner hyphens, 253 bytes at most.
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// RemovePeer forgets a peer (and its pin stays: untrust removes that).
func (n *Node) RemovePeer(ref string) error {
	if _, _, err := net.SplitHostPort(ref); err == nil {
		if n.Peers.Remove(ref) {
			return nil
		}
	}
	p, err := n.ResolvePeer(ref)
	if err != nil {
		return err
	}
	n.endpoint.Drop(p.ID)
	n.Peers.Remove(p.ID)
	return nil
}

// PingResult is what `peerdesk ping` shows.
type PingResult struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Fingerprint string  `json:"fingerprint"`
	Trust       string  `json:"trust"`
	RTTMillis   float64 `json:"rtt_ms"`
}

// Ping reaches a peer over the transport.
func (n *Node) Ping(ctx context.Context, ref string) (PingResult, error) {
	p, err := n.ResolvePeer(ref)
	if err != nil {
		return PingResult{}, err
	}
	start := time.Now()
	var h hello
	info, err := n.endpoint.Call(ctx, p.ID, p.Addresses, opHello, n.hello(), &h)
	if err != nil {
		return PingResult{}, fmt.Errorf("ping %s: %w", p.Name, retrustHint(p, err))
	}
	rtt := time.Since(start)
	n.observeHello(info, h)
	return PingResult{ID: p.ID, Name: h.Name, Fingerprint: info.Fingerprint, Trust: string(n.Trust.Get(p.ID).State), RTTMillis: float64(rtt.Microseconds()) / 1000}, nil
}

// HandleControl registers an extra control op (used by the GUI and services).
func (n *Node) HandleControl(op string, fn control.HandlerFunc) { n.ctrlMux[op] = fn }

func (n *Node) serveControl(ctx context.Context, op string, args json.RawMessage) (any, error) {
	fn := n.ctrlMux[op]
	if fn == nil {
		return nil, fmt.Errorf("%w: %w %q for the running peer (is it an older version?)", ErrUsage, ErrUnknownCommand, op)
	}
	return fn(ctx, op, args)
}

// PeerRef is the argument of control ops that name a peer.
type PeerRef struct {
	Peer        string `json:"peer"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Addr        string `json:"addr,omitempty"`
}

func decodeArgs(args json.RawMessage, v any) error {
	if len(args) == 0 {
		return nil
	}
	if err := json.Unmarshal(args, v); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return nil
}

func (n *Node) registerControl() {
	handle(n, opID, func(context.Context, none) (IDInfo, error) { return n.ID(), nil })
	handle(n, opPeers, func(context.Context, none) ([]discovery.Peer, error) { return n.PeerList(), nil })
	handle(n, opPeerAdd, func(ctx context.Context, a PeerRef) (discovery.Peer, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return n.AddPeer(ctx, a.Addr)
	})
	handle(n, opPeerRemove, func(_ context.Context, a PeerRef) (none, error) { return none{}, n.RemovePeer(a.Peer) })
	handle(n, opTrust, func(_ context.Context, a PeerRef) (identity.TrustEntry, error) {
		e, err := n.TrustPeer(a.Peer, a.Fingerprint)
		if err != nil {
			return e, err
		}
		// Talk to it again now rather than at the next probe.
		n.endpoint.Drop(e.ID)
		n.live.probeSoon(e.ID)
		return e, nil
	})
	handle(n, opUntrust, func(_ context.Context, a PeerRef) (none, error) {
		p, err := n.ResolvePeer(a.Peer)
		if err != nil {
			return none{}, err
		}
		if err := n.Trust.Untrust(p.ID); err != nil && !errors.Is(err, identity.ErrNotPinned) {
			return none{}, err
		}
		n.endpoint.Drop(p.ID)
		return none{}, nil
	})
	handle(n, opPing, func(ctx context.Context, a PeerRef) (PingResult, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return n.Ping(ctx, a.Peer)
	})
}
