package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport/internal/udp"
	"github.com/pion/dtls/v2"
	"github.com/pion/dtls/v2/pkg/protocol"
	"github.com/pion/dtls/v2/pkg/protocol/recordlayer"
)

// Config configures an Endpoint. Zero values are safe defaults.
type Config struct {
	// Identity and Trust are required.
	Identity *identity.Identity
	Trust    *identity.TrustStore
	// Handler answers streams the other side opens. Nil refuses them all.
	Handler Handler
	// Logger receives connection events; default slog.Default().
	Logger *slog.Logger
	// IdleTimeout closes a session that carried no stream and no ping
	// for this long (default 2 minutes).
	IdleTimeout time.Duration
	// Stranger, if set, tells the peers whose sessions idle out after
	// StrangerIdleTimeout (default 20 s) instead: peers this one has no
	// use for (it cannot even reach them), whose sessions would otherwise
	// hold their buffers for the full idle timeout (docs/security.md, H3).
	Stranger            func(peerID string) bool
	StrangerIdleTimeout time.Duration
	// HandshakeTimeout bounds a DTLS+SCTP handshake (default 5 s);
	// FirstAnswer bounds the wait for the first datagram from the address
	// dialed (default 2 s).
	HandshakeTimeout time.Duration
	FirstAnswer      time.Duration
	// MaxHandshakes caps handshakes in progress from addresses that
	// answered the DTLS cookie, so peers that never finish theirs cannot
	// starve others (default 32); MaxHandshakesPerAddr caps those of one
	// IP address (default 4). Hellos that never answer the cookie (forged
	// source addresses) take no slot (hellogate.go).
	MaxHandshakes        int
	MaxHandshakesPerAddr int
	// MaxSessions caps the sessions other peers open to this one (default
	// 256: an office has at most ~100 PCs); a session over it is closed
	// right after its handshake. Identities are free to make, so the cap
	// bounds what fresh identities can hold (docs/security.md, H3).
	MaxSessions int
	// MaxSessionsPerAddr caps the incoming sessions from one IP address
	// (default 16).
	MaxSessionsPerAddr int
	// MaxStreamsPerSession caps the streams of one session served at once
	// (default 64); streams over it are closed unread, which frees them.
	MaxStreamsPerSession int
	// SocketBuffer sets SO_RCVBUF/SO_SNDBUF (default 4 MiB).
	SocketBuffer int
	// DataPlane moves bodies. The default, BulkDataPlane, uses the bulk
	// channel with peers that offer it and data frames with the others;
	// StreamDataPlane turns the bulk channel off (data frames only, and the
	// session is set up as by peers without it).
	DataPlane DataPlane
	// QuietOps are ops that do not keep a session from idling (liveness).
	QuietOps []string
	// OnSession, if set, hears of every session established in either direction.
	OnSession func(PeerInfo)
	// OnPing, if set, hears of every ping a peer sends on its session
	// (Endpoint.Ping): the peer is there. It runs on the goroutine that
	// reads the session's datagrams and must not block.
	OnPing func(PeerInfo)
	// OnRefused, if set, hears of every peer refused for its identity.
	OnRefused func(id, fingerprint string, addr net.Addr, err error)
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.StrangerIdleTimeout == 0 {
		c.StrangerIdleTimeout = 20 * time.Second
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 5 * time.Second
	}
	if c.FirstAnswer == 0 {
		c.FirstAnswer = 2 * time.Second
	}
	if c.MaxHandshakes == 0 {
		c.MaxHandshakes = 32
	}
	if c.MaxHandshakesPerAddr == 0 {
		c.MaxHandshakesPerAddr = 4
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 256
	}
	if c.MaxSessionsPerAddr == 0 {
		c.MaxSessionsPerAddr = 16
	}
	if c.MaxStreamsPerSession == 0 {
		c.MaxStreamsPerSession = 64
	}
	if c.SocketBuffer == 0 {
		c.SocketBuffer = 4 << 20
	}
	if c.DataPlane == nil {
		c.DataPlane = BulkDataPlane{}
	}
}

// Handler answers one request on its stream. The stream is closed by the
// endpoint after ServeStream returns.
type Handler interface {
	ServeStream(ctx context.Context, req Request, s *Stream)
}

// Endpoint is this peer's side of the transport: it listens for peers on one
// UDP port, dials them, and keeps at most one reusable session per peer.
type Endpoint struct {
	cfg    Config
	ln     *udp.Listener
	quiet  map[string]bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	gate   *helloGate

	mu       sync.Mutex
	sessions map[string]*Session // by peer id
	dialing  map[string]*sync.Mutex
	closed   bool
}

// Listen starts an endpoint on addr (host:port, port 0 for any).
func Listen(ctx context.Context, addr string, cfg Config) (*Endpoint, error) {
	if cfg.Identity == nil || cfg.Trust == nil {
		return nil, errors.New("transport: Config needs Identity and Trust")
	}
	cfg.setDefaults()
	uaddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	// Only a DTLS handshake record may create a connection: stray or
	// forged datagrams cost nothing.
	ln, err := udp.Listen(uaddr, cfg.SocketBuffer, isHandshakeDatagram)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ectx, cancel := context.WithCancel(ctx)
	e := &Endpoint{
		cfg:      cfg,
		ln:       ln,
		quiet:    map[string]bool{},
		ctx:      ectx,
		cancel:   cancel,
		gate:     newHelloGate(cfg.MaxHandshakes, cfg.MaxHandshakesPerAddr),
		sessions: map[string]*Session{},
		dialing:  map[string]*sync.Mutex{},
	}
	for _, op := range cfg.QuietOps {
		e.quiet[op] = true
	}
	if rcv, snd := e.SocketBuffers(); min(rcv, snd) < cfg.SocketBuffer {
		e.cfg.Logger.Warn("UDP socket buffers are smaller than fast transfers need; transfers above 1 Gbit/s lose packets",
			"receive_kib", rcv>>10, "send_kib", snd>>10, "want_kib", cfg.SocketBuffer>>10,
			"fix", BufferFix(cfg.SocketBuffer))
	}
	e.wg.Add(3)
	go e.acceptLoop()
	go e.idleLoop()
	go e.deadPeerLoop()
	return e, nil
}

// SocketBuffers are the kernel's receive and send buffers the endpoint's
// socket got; below SocketBuffer, the system capped them (a stock Linux
// kernel allows 208 KiB to a process without CAP_NET_ADMIN).
func (e *Endpoint) SocketBuffers() (rcv, snd int) { return e.ln.Buffers[0], e.ln.Buffers[1] }

// WantedSocketBuffer is the buffer size the endpoint asks for each way.
func (e *Endpoint) WantedSocketBuffer() int { return e.cfg.SocketBuffer }

// BufferFix is the one thing to do about capped socket buffers of size
// bytes (on Linux what the .deb installs in /usr/lib/sysctl.d/10-peerdesk.conf).
func BufferFix(size int) string {
	switch runtime.GOOS {
	case "linux":
		return fmt.Sprintf("sudo sysctl -w net.core.rmem_max=%d net.core.wmem_max=%d, and the same two settings in /etc/sysctl.d/10-peerdesk.conf to keep them (the Peerdesk .deb installs them)", size, size)
	case "darwin", "freebsd", "openbsd":
		return fmt.Sprintf("sudo sysctl -w kern.ipc.maxsockbuf=%d", 2*size)
	}
	return "allow larger UDP socket buffers in the system's network settings"
}

func isHandshakeDatagram(packet []byte) bool {
	pkts, err := recordlayer.UnpackDatagram(packet)
	if err != nil || len(pkts) < 1 {
		return false
	}
	h := &recordlayer.Header{}
	if err := h.Unmarshal(pkts[0]); err != nil {
		return false
	}
	return h.ContentType == protocol.ContentTypeHandshake
}

// Addr is the UDP address the endpoint listens on.
func (e *Endpoint) Addr() *net.UDPAddr { return e.ln.Addr().(*net.UDPAddr) }

// dtlsConfig builds the DTLS configuration for one handshake. wantID, if
// non-empty, is the peer id the caller expects at the other end.
func (e *Endpoint) dtlsConfig(ctx context.Context, wantID string, verdict *error, trust *identity.TrustState) *dtls.Config {
	return &dtls.Config{
		Certificates:         []tls.Certificate{e.cfg.Identity.Certificate},
		CipherSuites:         []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		ExtendedMasterSecret: dtls.RequireExtendedMasterSecret,
		ClientAuth:           dtls.RequireAnyClientCert,
		// The chain is self-signed by design; VerifyPeerCertificate checks
		// the certificate against the pinned fingerprint instead.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			st, err := e.verifyPeer(raw, wantID, expectedFingerprint(ctx))
			*verdict = err
			*trust = st
			return err
		},
		ConnectContextMaker: func() (context.Context, func()) {
			return context.WithTimeout(ctx, e.cfg.HandshakeTimeout)
		},
		MTU:                1400,
		FlightInterval:     250 * time.Millisecond,
		LoggerFactory:      quietLoggerFactory(),
		SupportedProtocols: e.alpn(),
	}
}

// alpn is the application protocols this endpoint offers: the bulk
// channel unless the data plane cannot use it.
func (e *Endpoint) alpn() []string {
	if _, ok := e.cfg.DataPlane.(BulkDataPlane); ok {
		return []string{alpnBulk, alpnBase}
	}
	return nil
}

// expectedFingerprintKey carries ExpectFingerprint's value.
type expectedFingerprintKey struct{}

// ExpectFingerprint returns a ctx whose dials accept the peer only if its
// certificate has fingerprint fp, checked before the trust store sees it,
// so nothing is pinned otherwise. For addresses learned from another peer
// (peer exchange): what that peer reported is a hint to check, never a
// reason to trust.
func ExpectFingerprint(ctx context.Context, fp string) context.Context {
	return context.WithValue(ctx, expectedFingerprintKey{}, fp)
}

func expectedFingerprint(ctx context.Context) string {
	fp, _ := ctx.Value(expectedFingerprintKey{}).(string)
	return fp
}

func (e *Endpoint) verifyPeer(raw [][]byte, wantID, wantFP string) (identity.TrustState, error) {
	if len(raw) == 0 {
		return "", fmt.Errorf("%w: none presented", identity.ErrBadCertificate)
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return "", fmt.Errorf("%w: %v", identity.ErrBadCertificate, err)
	}
	now := time.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return "", fmt.Errorf("%w: outside its validity period", identity.ErrBadCertificate)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return "", fmt.Errorf("%w: not self-signed: %v", identity.ErrBadCertificate, err)
	}
	id, err := identity.CertificatePeerID(cert)
	if err != nil {
		return "", err
	}
	if id == e.cfg.Identity.ID {
		return "", fmt.Errorf("%w: that is this peer itself", ErrWrongPeer)
	}
	if wantID != "" && id.String() != wantID {
		return "", fmt.Errorf("%w: expected %s, found %s", ErrWrongPeer, wantID, id)
	}
	fp := identity.Fingerprint(cert)
	if wantFP != "" && fp != wantFP {
		return "", fmt.Errorf("%w: %s answered with another key than the one reported for it", ErrWrongPeer, id)
	}
	st, err := e.cfg.Trust.Check(id.String(), fp)
	if err != nil && e.cfg.OnRefused != nil {
		e.cfg.OnRefused(id.String(), fp, nil, err)
	}
	return st, err
}

func (e *Endpoint) acceptLoop() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			if e.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				e.cfg.Logger.Warn("accept failed", "err", err)
			}
			return
		}
		gc := e.gate.admit(c)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer gc.done()
			e.serveConn(gc)
		}()
	}
}

func (e *Endpoint) serveConn(c *gatedConn) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	var verdict error
	var trust identity.TrustState
	sniff := newALPNSniffer(c, false)
	cfg := e.dtlsConfig(e.ctx, "", &verdict, &trust)
	if cfg.SupportedProtocols != nil {
		cfg.SupportedProtocols = append(cfg.SupportedProtocols, alpnReach)
	}
	dconn, err := dtls.ServerWithContext(ctx, sniff, cfg)
	if err != nil {
		c.Close()
		if verdict != nil {
			err = verdict
		}
		if !c.Proven() {
			// Never answered the cookie: a spoofed or stray hello, not worth a log line each.
			e.cfg.Logger.Debug("unproven handshake ended", "addr", c.RemoteAddr().String(), "err", err)
			return
		}
		e.cfg.Logger.Info("refused incoming connection", "addr", c.RemoteAddr().String(), "err", err)
		return
	}
	// The conn now carries a session: its reads get a session's share of
	// the socket's queues, no longer the small one of handshakes.
	if q, ok := c.Conn.(interface{ Established() }); ok {
		q.Established()
	}
	if sniff.offeredOnly(alpnReach) {
		// Endpoint.Reach from the peer: the port answered, that was all.
		// The peer closes once its side of the handshake is done: closing
		// first could overtake our last flight, and the peer then saw our
		// close before our Finished and took the port for unreachable
		// (TestDoctor, about 1 run in 10). Wait for its close, not long.
		_ = dconn.SetReadDeadline(time.Now().Add(reachLinger))
		_, _ = dconn.Read(make([]byte, 64))
		dconn.Close()
		return
	}
	actx, cancelAssoc := e.associationContext(ctx)
	defer cancelAssoc()
	sess, err := newSession(actx, dconn, false, trust, e.cfg.DataPlane, sniff.negotiated(e.alpn()), c.Conn, e.cfg.OnPing)
	if err != nil {
		e.cfg.Logger.Info("incoming session failed", "addr", c.RemoteAddr().String(), "err", err)
		return
	}
	if err := e.admit(sess); err != nil {
		e.cfg.Logger.Warn("incoming session refused", "peer", sess.peer.ID, "addr", c.RemoteAddr().String(), "err", err)
		sess.Close()
		return
	}
	e.adopt(sess)
}

// associationContext bounds the SCTP association that follows a DTLS
// handshake both sides completed: HandshakeTimeout of its own, not what
// the handshake left of ctx's deadline. With 100 peers starting together
// on two cores, handshakes took most of their time, the associations then
// ran out of it, and the handshakes' work, the costly part for both peers,
// was thrown away and done again: 269 of about 5,500 first contacts in one
// run (docs/performance.md). ctx being cancelled (the endpoint closing,
// the caller giving up) still ends it; only its deadline is not inherited.
func (e *Endpoint) associationContext(ctx context.Context) (context.Context, context.CancelFunc) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.HandshakeTimeout)
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return actx, func() {
		stop()
		cancel()
	}
}

// reachLinger is how long the answering side of Endpoint.Reach waits for
// the asker to close.
const reachLinger = time.Second

// errTooManySessions refuses an incoming session over the caps.
var errTooManySessions = errors.New("too many sessions")

// admit checks an incoming session against MaxSessions and
// MaxSessionsPerAddr. A session that replaces one of the same peer always
// fits.
func (e *Endpoint) admit(sess *Session) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.sessions[sess.peer.ID]; ok {
		return nil
	}
	if len(e.sessions) >= e.cfg.MaxSessions {
		return errTooManySessions
	}
	same := 0
	for _, s := range e.sessions {
		if s.peer.Addr != nil && sess.peer.Addr != nil && s.peer.Addr.IP.Equal(sess.peer.Addr.IP) {
			same++
		}
	}
	if same >= e.cfg.MaxSessionsPerAddr {
		return fmt.Errorf("%w from %s", errTooManySessions, sess.peer.Addr.IP)
	}
	return nil
}

// retireLimit bounds how long a replaced session may go on carrying
// streams.
const retireLimit = time.Hour

// adopt registers an established session, replacing (and closing) an older
// one with the same peer, and serves the streams the peer opens on it.
func (e *Endpoint) adopt(sess *Session) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		sess.Close()
		return
	}
	old := e.sessions[sess.peer.ID]
	e.sessions[sess.peer.ID] = sess
	e.mu.Unlock()
	if sess.bulk != nil {
		sess.bulk.SetLogger(e.cfg.Logger.With("peer", sess.peer.ID))
	}
	if old != nil && old != sess {
		// Both sides dialled at once, or the peer restarted or moved. Keep
		// the new one but let the old one finish what it carries.
		moved := old.peer.Addr != nil && sess.peer.Addr != nil && !old.peer.Addr.IP.Equal(sess.peer.Addr.IP)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.retire(old, moved)
		}()
	}
	e.cfg.Logger.Debug("session up", "peer", sess.peer.ID, "addr", sess.peer.Addr.String())
	if e.cfg.OnSession != nil {
		e.cfg.OnSession(sess.peer)
	}
	e.wg.Add(1)
	go e.serveSession(sess)
}

func (e *Endpoint) serveSession(sess *Session) {
	defer e.wg.Done()
	defer e.forget(sess)
	for {
		st, err := sess.acceptStream()
		if err != nil {
			sess.abort()
			return
		}
		if sess.serving.Add(1) > int32(e.cfg.MaxStreamsPerSession) {
			// Over the cap: closed unread, so it holds nothing.
			sess.serving.Add(-1)
			st.Close()
			continue
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer sess.serving.Add(-1)
			e.serveStream(sess, st)
		}()
	}
}

// requestTimeout bounds reading the request frame of an incoming stream.
const requestTimeout = 10 * time.Second

func (e *Endpoint) serveStream(sess *Session, st *Stream) {
	defer func() {
		// A bug in a handler, hit by whatever a peer sent, ends that
		// stream, never the daemon.
		if r := recover(); r != nil {
			e.cfg.Logger.Error("panic serving a stream", "peer", sess.peer.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			_ = st.Fail(fmt.Errorf("%w: internal error", ErrProtocol))
			st.Close()
		}
	}()
	_ = st.st.SetReadDeadline(time.Now().Add(requestTimeout))
	f, err := st.ReadFrame()
	if err != nil {
		sess.streams.Add(1)
		st.Close()
		return
	}
	_ = st.st.SetReadDeadline(time.Time{})
	var req Request
	if f.Type != FrameRequest {
		err = fmt.Errorf("%w: stream must open with a request, got %s", ErrProtocol, f.Type)
	} else {
		req, err = DecodeRequest(f.Payload)
	}
	sess.streamStarted(err == nil && e.quiet[req.Op])
	defer st.Close()
	if err != nil {
		_ = st.Fail(err)
		return
	}
	if e.cfg.Handler == nil {
		_ = st.Fail(fmt.Errorf("%w: no service", ErrNotFound))
		return
	}
	e.cfg.Handler.ServeStream(e.ctx, req, st)
}

// movedGrace is how long a session replaced by one from another address
// of its peer may go without hearing from the peer before it closes: a
// live path with a transfer on it answers within milliseconds.
const movedGrace = 500 * time.Millisecond

// retire closes a replaced session once it carries no stream (or after
// retireLimit at the latest), and at once when the endpoint closes. One
// replaced by a session from another address of the peer (moved: its
// network changed, a laptop undocked, a new DHCP lease) most likely lost
// its path: it closes if it hears nothing for movedGrace, so that what it
// carried fails now and resumes on the new session, instead of after
// its stall timeout (10-15 s; TestUndockMidTransfer).
func (e *Endpoint) retire(old *Session, moved bool) {
	grace := time.NewTimer(e.cfg.HandshakeTimeout)
	defer grace.Stop()
	var silent <-chan time.Time
	heard := old.heardCount()
	if moved {
		t := time.NewTimer(movedGrace)
		defer t.Stop()
		silent = t.C
	}
	limit := time.NewTimer(retireLimit)
	defer limit.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	graceOver := false
	for {
		select {
		case <-old.Done():
			return
		case <-e.ctx.Done():
			old.Close()
			return
		case <-limit.C:
			old.Close()
			return
		case <-grace.C:
			graceOver = true
		case <-silent:
			if old.heardCount() == heard {
				e.cfg.Logger.Info("session replaced from another address heard nothing: closed", "peer", old.peer.ID, "old", old.peer.Addr.String())
				old.abort() // no graceful shutdown over a dead path: it waited 500 ms
				return
			}
		case <-tick.C:
		}
		if graceOver && old.streams.Load() == 0 {
			old.Close()
			return
		}
	}
}

func (e *Endpoint) forget(sess *Session) {
	e.mu.Lock()
	if e.sessions[sess.peer.ID] == sess {
		delete(e.sessions, sess.peer.ID)
	}
	e.mu.Unlock()
}

// Session returns the live session with peer id, dialling addrs in order if
// there is none. An empty id accepts whoever answers (a peer added by
// address); it is then pinned on first use like any other.
func (e *Endpoint) Session(ctx context.Context, id string, addrs []string) (*Session, error) {
	if id != "" {
		if s := e.live(id); s != nil {
			return s, nil
		}
		// One dial per peer at a time: concurrent callers share its result.
		e.mu.Lock()
		m := e.dialing[id]
		if m == nil {
			m = &sync.Mutex{}
			e.dialing[id] = m
		}
		e.mu.Unlock()
		m.Lock()
		defer m.Unlock()
		if s := e.live(id); s != nil {
			return s, nil
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: no known address", ErrUnreachable)
	}
	var errs []error
	for _, a := range addrs {
		s, err := e.dial(ctx, id, a)
		if err == nil {
			return s, nil
		}
		if errors.Is(err, identity.ErrIdentityChanged) || errors.Is(err, identity.ErrBadCertificate) {
			return nil, err
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrUnreachable, errors.Join(errs...))
}

func (e *Endpoint) live(id string) *Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sessions[id]
	if s == nil {
		return nil
	}
	select {
	case <-s.closed:
		delete(e.sessions, id)
		return nil
	default:
		return s
	}
}

func (e *Endpoint) dial(ctx context.Context, id, addr string) (*Session, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	network := "udp4"
	if raddr.IP.To4() == nil {
		network = "udp6"
	}
	uc, err := net.DialUDP(network, nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	udp.SetBuffers(uc, e.cfg.SocketBuffer)
	dc := udp.NewConnected(uc)
	hctx, cancel := context.WithTimeout(ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	var verdict error
	var trust identity.TrustState
	sniff := newALPNSniffer(dc, true)
	// An address where nothing answers is given up after FirstAnswer, not
	// HandshakeTimeout: the handshake's full time is for peers that are
	// there but slow (many starting at once), and a made-up mDNS record
	// must not draw more hellos at its victim (docs/security.md, M5).
	hctx, cancelSilent := context.WithCancelCause(hctx)
	silent := time.AfterFunc(e.cfg.FirstAnswer, func() {
		select {
		case <-sniff.answered:
		default:
			cancelSilent(fmt.Errorf("%w: no answer in %v", context.DeadlineExceeded, e.cfg.FirstAnswer))
		}
	})
	defer silent.Stop()
	defer cancelSilent(nil)
	dconn, err := dtls.ClientWithContext(hctx, sniff, e.dtlsConfig(hctx, id, &verdict, &trust))
	if err != nil {
		dc.Close()
		if verdict != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, verdict)
		}
		if cause := context.Cause(hctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("handshake: %w", cause) // silent, or out of time
		}
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	actx, cancelAssoc := e.associationContext(hctx)
	defer cancelAssoc()
	sess, err := newSession(actx, dconn, true, trust, e.cfg.DataPlane, sniff.negotiated(e.alpn()), sniff.Conn, e.cfg.OnPing)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	e.adopt(sess)
	return sess, nil
}

// HandshakeFrom reports whether a handshake from one of addrs' hosts
// (host:port or host; names are skipped) is under way here, past the
// cookie: the peer there is dialling this one. A first contact waits for
// it instead of starting a second handshake the other way, which would
// cost both peers the same again for one session (docs/performance.md).
// Only an address that answered the cookie counts, so a forged hello
// cannot hold a dial back.
func (e *Endpoint) HandshakeFrom(addrs []string) bool {
	for _, a := range addrs {
		host := a
		if h, _, err := net.SplitHostPort(a); err == nil {
			host = h
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			continue
		}
		if e.gate.busy(ip) {
			return true
		}
	}
	return false
}

// Reach checks that peer id answers a new handshake at addr (its UDP port
// is reachable from here, whatever session exists), and returns how long
// the handshake took. It opens no session: the peer closes it at once.
// An id not pinned yet is refused rather than pinned.
func (e *Endpoint) Reach(ctx context.Context, id, addr string) (time.Duration, error) {
	if id == "" || e.cfg.Trust.Get(id).Fingerprint == "" {
		return 0, fmt.Errorf("%w: %s is not a known peer", ErrWrongPeer, id)
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return 0, fmt.Errorf("reach %s: %w", addr, err)
	}
	uc, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return 0, fmt.Errorf("reach %s: %w", addr, err)
	}
	hctx, cancel := context.WithTimeout(ctx, e.cfg.HandshakeTimeout)
	defer cancel()
	var verdict error
	var trust identity.TrustState
	cfg := e.dtlsConfig(hctx, id, &verdict, &trust)
	cfg.SupportedProtocols = []string{alpnReach}
	start := time.Now()
	dconn, err := dtls.ClientWithContext(hctx, udp.NewConnected(uc), cfg)
	if err != nil {
		uc.Close()
		if verdict != nil {
			err = verdict
		}
		return 0, fmt.Errorf("%w: reach %s: %w", ErrUnreachable, addr, err)
	}
	rtt := time.Since(start)
	dconn.Close()
	return rtt, nil
}

// Open sends a request on a new stream of the session with peer id and
// returns the stream for the caller to read the response (and any body).
func (e *Endpoint) Open(ctx context.Context, id string, addrs []string, op string, body any) (*Stream, error) {
	sess, err := e.Session(ctx, id, addrs)
	if err != nil {
		return nil, err
	}
	return sess.Request(ctx, op, body, e.quiet[op])
}

// Request opens a stream on the session and sends the request frame. The
// send gives up when ctx ends: with blocking writes, a request waits while
// the association has data queued that its window does not let out yet
// (a lost packet waiting for its retransmission), and a canceled
// download must not wait for that.
func (s *Session) Request(ctx context.Context, op string, body any, quiet bool) (*Stream, error) {
	req := Request{Op: op}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req.Body = b
	}
	st, err := s.OpenStream(quiet)
	if err != nil {
		return nil, err
	}
	stop := st.Watch(ctx)
	err = st.WriteJSON(FrameRequest, req)
	stop()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("%s: send request: %w", op, ctxErr(ctx, err))
	}
	return st, nil
}

// Call sends a request and decodes the response into out.
func (e *Endpoint) Call(ctx context.Context, id string, addrs []string, op string, in, out any) (PeerInfo, error) {
	st, err := e.Open(ctx, id, addrs, op, in)
	if err != nil {
		return PeerInfo{}, err
	}
	defer st.Close()
	stop := st.Watch(ctx)
	defer stop()
	if err := st.ReadResponse(op, out); err != nil {
		if ctx.Err() != nil {
			return st.Peer(), fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return st.Peer(), err
	}
	return st.Peer(), nil
}

// Drop ends the session with peer id at once, e.g. when it stopped
// answering; the next request dials anew.
func (e *Endpoint) Drop(id string) {
	e.mu.Lock()
	s := e.sessions[id]
	delete(e.sessions, id)
	e.mu.Unlock()
	if s != nil {
		s.abort()
	}
}

// Connected reports whether there is a live session with peer id: a
// request to it needs no handshake.
func (e *Endpoint) Connected(id string) bool { return id != "" && e.live(id) != nil }

// Heard returns how many bytes the session with peer id has received
// (0 without one): a count that moves says the peer is there, however
// slow its answers.
func (e *Endpoint) Heard(id string) uint64 {
	if s := e.live(id); s != nil {
		return s.assoc.BytesReceived()
	}
	return 0
}

// Ping proves that peer id is there, on the session that is up: one
// sealed record each way instead of a request on a new stream. It fails
// with ErrNoSession without a session, and with ErrNoPing when the
// session has no bulk channel to carry pings; a peer of a version that
// does not answer pings lets it run until ctx ends.
func (e *Endpoint) Ping(ctx context.Context, id string) error {
	s := e.live(id)
	if s == nil {
		return ErrNoSession
	}
	if s.bulk == nil {
		return ErrNoPing
	}
	if err := s.bulk.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", id, err)
	}
	s.livenessSeen()
	return nil
}

// Busy reports whether the session with peer id carried data on an open
// stream since the given time (a transfer, say). A liveness probe that
// timed out behind a busy session says little about the peer being gone;
// one behind a session whose streams moved nothing while it waited does,
// even with a request still open on it (another caller's, waiting too).
func (e *Endpoint) Busy(id string, since time.Time) bool {
	e.mu.Lock()
	s := e.sessions[id]
	e.mu.Unlock()
	return s != nil && s.streams.Load() > 0 && time.Unix(0, s.moved.Load()).After(since)
}

// CloseSessionsOffAddresses closes every session whose local address (the
// one this host reached the peer from as it began) is not among local,
// the host's addresses now, and returns the peers whose session it
// closed. An undocked laptop's cable address, or a lost Wi-Fi's, takes
// its sessions' path with it: their packets go nowhere or leave from an address the peer's
// side does not take, and their transfers waited out their stall timeout
// (10-15 s) before resuming on a new session. Closed, they fail at once,
// and the next request makes a session from an address the host has.
func (e *Endpoint) CloseSessionsOffAddresses(local []netip.Addr) []string {
	e.mu.Lock()
	var gone []*Session
	for _, s := range e.sessions {
		if s.local.IsValid() && !slices.Contains(local, s.local) {
			gone = append(gone, s)
		}
	}
	e.mu.Unlock()
	ids := make([]string, 0, len(gone))
	for _, s := range gone {
		e.cfg.Logger.Info("session closed: its local address is gone", "peer", s.peer.ID, "local", s.local)
		s.abort() // no graceful shutdown over a dead path: it waited 500 ms
		ids = append(ids, s.peer.ID)
	}
	return ids
}

// Sessions returns the peers with a live session.
func (e *Endpoint) Sessions() []PeerInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]PeerInfo, 0, len(e.sessions))
	for _, s := range e.sessions {
		out = append(out, s.peer)
	}
	return out
}

func (e *Endpoint) idleLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(min(e.cfg.IdleTimeout, e.cfg.StrangerIdleTimeout) / 4)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case now := <-tick.C:
			// Who is a stranger is asked outside the lock: the answer
			// comes from the node's tables, with locks of their own.
			strangers := map[string]bool{}
			if e.cfg.Stranger != nil {
				for _, p := range e.Sessions() {
					strangers[p.ID] = e.cfg.Stranger(p.ID)
				}
			}
			e.mu.Lock()
			var idle []*Session
			for id, s := range e.sessions {
				// A stranger's session goes when no request used it for
				// StrangerIdleTimeout, whatever it pings. A known peer's
				// stays while liveness probes keep going either way: it
				// went after IdleTimeout and the next probe, seconds
				// later, dialled it again, a handshake per pair every two
				// minutes (with 100 peers online, most of an idle peer's
				// CPU; docs/performance.md).
				limit, quiet := e.cfg.IdleTimeout, s.quietSince(now)
				if strangers[id] {
					limit, quiet = min(limit, e.cfg.StrangerIdleTimeout), s.idleSince(now)
				}
				if quiet > limit {
					idle = append(idle, s)
					delete(e.sessions, id)
				}
			}
			e.mu.Unlock()
			for _, s := range idle {
				e.cfg.Logger.Debug("closing idle session", "peer", s.peer.ID)
				s.Close()
			}
		}
	}
}

// deadPeerLoop closes the sessions whose peer stopped answering
// (Session.peerGone).
func (e *Endpoint) deadPeerLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(deadAfter / 3)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case now := <-tick.C:
			e.mu.Lock()
			var gone []*Session
			for id, s := range e.sessions {
				if s.peerGone(now) {
					gone = append(gone, s)
					delete(e.sessions, id)
				}
			}
			e.mu.Unlock()
			for _, s := range gone {
				e.cfg.Logger.Info("peer stopped answering: session closed", "peer", s.peer.ID, "silent_for", deadAfter.String())
				s.Close()
			}
		}
	}
}

// Close shuts every session down gracefully and stops listening.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.sessions = map[string]*Session{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Add(1)
		go func() { defer wg.Done(); s.Close() }()
	}
	wg.Wait()
	e.cancel()
	err := e.ln.Close()
	e.wg.Wait()
	return err
}
