package transport

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport/internal/bulk"
	"github.com/peerdesk/peerdesk/transport/internal/udp"
	"github.com/pion/dtls/v2"
	"github.com/pion/logging"
	"github.com/pion/sctp"
)

// PeerInfo is what a completed handshake proved about the other side.
type PeerInfo struct {
	ID          string
	Fingerprint string
	Trust       identity.TrustState
	// Addr is the UDP address the session runs over.
	Addr *net.UDPAddr
}

// Session is the one DTLS association with one peer and the SCTP streams
// over it.
type Session struct {
	peer   PeerInfo
	dconn  *dtls.Conn
	assoc  *sctp.Association
	data   DataPlane
	bulk   *bulk.Mux // nil unless the peer speaks the bulk channel
	client bool
	// local is the address this host reached the peer from as the
	// session began (invalid if unknown): once it is gone from the host,
	// the session's packets go nowhere (Endpoint.CloseSessionsOffAddresses).
	local netip.Addr

	mu     sync.Mutex
	nextID uint16
	// open holds the ids of this side's open streams: ids wrap after
	// 32,768 streams and must not be reused while a stream is open.
	open map[uint16]struct{}

	streams atomic.Int32
	// serving counts the streams the other side opened that are being
	// served (Config.MaxStreamsPerSession).
	serving atomic.Int32
	// moved is when a frame last went in or out on any stream (unix
	// nanos): a session with open streams and no movement is stuck.
	moved      atomic.Int64
	lastActive atomic.Int64 // unix nanos of the last non-quiet stream
	// lastLiveness is the last quiet stream or ping either way (unix
	// nanos): a known peer's liveness traffic keeps its session (see
	// Endpoint.idleLoop).
	lastLiveness atomic.Int64

	// heard and heardAt (the endpoint's liveness check only) are the
	// association's received bytes when they last changed.
	heard   uint64
	heardAt time.Time

	closeOnce sync.Once
	closed    chan struct{}
}

// deadAfter is how long a session waits with data unacknowledged and
// nothing at all heard from the peer before it decides the peer is gone
// (crashed, unplugged, or a stranger that left without closing) and
// closes, freeing what it holds at once rather than at the idle timeout.
// A live peer acknowledges within a round trip, and SCTP retransmits
// what it did not; a variable so that tests can shorten it.
var deadAfter = 15 * time.Second

// heardCount grows with everything authenticated heard from the peer: the
// association's bytes and the bulk channel's records.
func (s *Session) heardCount() uint64 {
	var n uint64
	if s.assoc != nil {
		n = s.assoc.BytesReceived()
	}
	if s.bulk != nil {
		n += s.bulk.Heard()
	}
	return n
}

// peerGone reports whether the peer stopped answering: data waits for its
// acknowledgement and nothing came from it for deadAfter.
func (s *Session) peerGone(now time.Time) bool {
	if s.assoc == nil {
		return false
	}
	// A bulk transfer moves no SCTP traffic for as long as it runs, and
	// has its own idle timeout: it counts as hearing from the peer.
	if rx := s.assoc.BytesReceived(); rx != s.heard || s.heardAt.IsZero() || (s.bulk != nil && s.bulk.Busy()) {
		s.heard, s.heardAt = rx, now
		return false
	}
	return s.assoc.BufferedAmount() > 0 && now.Sub(s.heardAt) > deadAfter
}

// sctpOptions applies the measured facts of docs/performance.md: MTU 1400 fits DTLS and
// UDP/IP headers into a 1500-byte link; blocking writes give backpressure;
// a larger receive window keeps a LAN link busy; zero checksum is safe
// because DTLS already authenticates every record (RFC 9653).
func sctpOptions(conn net.Conn, name string) []sctp.AssociationOption {
	return []sctp.AssociationOption{
		sctp.WithNetConn(conn),
		sctp.WithName(name),
		sctp.WithMTU(1400),
		sctp.WithBlockWrite(true),
		sctp.WithMaxReceiveBufferSize(4 << 20),
		sctp.WithMaxMessageSize(MaxFrameSize),
		sctp.WithEnableZeroChecksum(true),
		sctp.WithLoggerFactory(quietLoggerFactory()),
		// A lone message (a request, a response, a body's end frame) that
		// is lost is found by the tail loss probe, which waits 2 RTT plus
		// this "worst-case delayed ack" (default 200 ms; pion's receiver
		// does delay a lone packet's ack by up to 200 ms). Waiting less
		// costs a spurious probe per lone message that is not acked in
		// time (the duplicate draws an immediate ack) and saves ~200 ms
		// per loss: under 0.5% loss a 512 MiB get over 8 MiB ranges loses
		// about two such messages (docs/transport.md).
		sctp.WithRACKOptions(sctp.WithRackWCDelAck(rackWorstDelayedAck)),
		sctp.WithRTOMax(float64(sctpRTOMax.Milliseconds())),
	}
}

// rackWorstDelayedAck: see sctpOptions.
const rackWorstDelayedAck = 20 * time.Millisecond

// sctpRTOMax caps SCTP's retransmission timeout (RFC 9260 6.3.3 C7 allows
// a cap). Each timeout doubles it from 1 s, up to pion's 60 s: after a few
// seconds of loss (a full socket buffer on a busy receiver, Wi-Fi roaming)
// a lost request or response then went again only 8 or 16 s later, longer
// than a transfer waits for its peer (bulk.IdleTimeout), and meanwhile
// every write on the association waits too (blocking writes wait for the
// queue to drain). 2 s is well above any office or VPN round trip, so it
// adds no spurious retransmissions there.
const sctpRTOMax = 2 * time.Second

// quietLoggerFactory is what pion's DTLS and SCTP log through: nothing,
// unless a developer asks with pion's own PION_LOG_<LEVEL>=scope,...
// variables. One for the process: pion's default factory reads those
// variables each time it is made and gives every conn and association
// loggers of their own (five log.Loggers each), which at a hundred peers
// starting together was a measurable part of a first contact's
// allocations (docs/performance.md).
var quietLoggerFactory = sync.OnceValue(func() logging.LoggerFactory {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PION_LOG_") || strings.HasPrefix(kv, "PIONS_LOG_") {
			f := logging.NewDefaultLoggerFactory()
			f.DefaultLogLevel = logging.LogLevelDisabled
			return f
		}
	}
	return silentLogs{}
})

// silentLogs gives every scope the same logger that drops everything.
type silentLogs struct{}

func (silentLogs) NewLogger(string) logging.LeveledLogger { return silentLogger{} }

type silentLogger struct{}

func (silentLogger) Trace(string)          {}
func (silentLogger) Tracef(string, ...any) {}
func (silentLogger) Debug(string)          {}
func (silentLogger) Debugf(string, ...any) {}
func (silentLogger) Info(string)           {}
func (silentLogger) Infof(string, ...any)  {}
func (silentLogger) Warn(string)           {}
func (silentLogger) Warnf(string, ...any)  {}
func (silentLogger) Error(string)          {}
func (silentLogger) Errorf(string, ...any) {}

// newSession sets up SCTP over an established DTLS conn. alpn is the
// application protocol the handshake negotiated ("" for none); under is
// the datagram conn below DTLS (the bulk sender batches its writes).
// onPing (may be nil) hears of the peer's pings from the first datagram
// on.
func newSession(ctx context.Context, dconn *dtls.Conn, client bool, trust identity.TrustState, data DataPlane, alpn string, under net.Conn, onPing func(PeerInfo)) (*Session, error) {
	state := dconn.ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return nil, fmt.Errorf("%w: no peer certificate", identity.ErrBadCertificate)
	}
	cert, err := x509.ParseCertificate(state.PeerCertificates[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", identity.ErrBadCertificate, err)
	}
	id, err := identity.CertificatePeerID(cert)
	if err != nil {
		return nil, err
	}
	addr, _ := dconn.RemoteAddr().(*net.UDPAddr)
	local, mtu := routeTo(addr)
	s := &Session{
		local:  local,
		peer:   PeerInfo{ID: id.String(), Fingerprint: identity.Fingerprint(cert), Trust: trust, Addr: addr},
		dconn:  dconn,
		data:   data,
		client: client,
		closed: make(chan struct{}),
		open:   map[uint16]struct{}{},
	}
	// Client-opened streams are even, server-opened odd, so both sides can
	// open streams without colliding.
	if !client {
		s.nextID = 1
	}
	if alpn == alpnBulk {
		// The bulk channel needs keys from the handshake and the datagram
		// layer to send and take its records; without either, bodies go
		// as data frames.
		dc, ok := under.(udp.Conn)
		keys, err := bulk.NewKeys(state, client)
		if ok && err == nil {
			s.bulk = bulk.NewMux(dc, keys, datagramLimit(addr, mtu), s.closed)
			peer := s.peer
			s.bulk.SetOnPing(func() {
				s.livenessSeen()
				if onPing != nil {
					onPing(peer)
				}
			})
			dc.SetDivert(s.bulk.Divert, s.bulk.FlushAcks)
		}
	}
	opts := sctpOptions(dconn, id.String())
	type result struct {
		a   *sctp.Association
		err error
	}
	done := make(chan result, 1)
	go func() {
		var a *sctp.Association
		var err error
		if client {
			a, err = sctp.ClientContext(ctx, toClientOptions(opts)...)
		} else {
			a, err = sctp.ServerWithOptions(toServerOptions(opts)...)
		}
		done <- result{a, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			dconn.Close()
			return nil, fmt.Errorf("sctp association: %w", r.err)
		}
		s.assoc = r.a
	case <-ctx.Done():
		// Closing the DTLS conn ends the server-side handshake wait.
		dconn.Close()
		return nil, fmt.Errorf("sctp association: %w", ctx.Err())
	}
	s.lastActive.Store(time.Now().UnixNano())
	return s, nil
}

func toClientOptions(in []sctp.AssociationOption) []sctp.ClientOption {
	out := make([]sctp.ClientOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

func toServerOptions(in []sctp.AssociationOption) []sctp.ServerOption {
	out := make([]sctp.ServerOption, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

// Peer is the authenticated peer.
func (s *Session) Peer() PeerInfo { return s.peer }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.closed }

// OpenStream opens a new stream. quiet streams (liveness pings) do not count
// as activity, so a session that carries only pings still closes when idle.
func (s *Session) OpenStream(quiet bool) (*Stream, error) {
	select {
	case <-s.closed:
		return nil, ErrClosed
	default:
	}
	id, err := s.allocID()
	if err != nil {
		return nil, err
	}
	st, err := s.assoc.OpenStream(id, sctp.PayloadTypeWebRTCBinary)
	if err != nil {
		s.releaseID(id)
		s.Close()
		return nil, fmt.Errorf("open stream: %w", err)
	}
	s.streamStarted(quiet)
	return newStream(st, s), nil
}

// allocID picks the next free stream id of this side's parity.
func (s *Session) allocID() (uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 1 << 15 {
		id := s.nextID
		s.nextID += 2
		if _, busy := s.open[id]; !busy {
			s.open[id] = struct{}{}
			return id, nil
		}
	}
	return 0, fmt.Errorf("%w: every stream id is in use", ErrClosed)
}

func (s *Session) releaseID(id uint16) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
}

func (s *Session) acceptStream() (*Stream, error) {
	st, err := s.assoc.AcceptStream()
	if err != nil {
		return nil, err
	}
	return newStream(st, s), nil
}

func (s *Session) streamStarted(quiet bool) {
	s.streams.Add(1)
	if quiet {
		s.livenessSeen()
	} else {
		s.lastActive.Store(time.Now().UnixNano())
	}
}

// livenessSeen notes a ping or a quiet stream on the session.
func (s *Session) livenessSeen() {
	s.lastLiveness.Store(time.Now().UnixNano())
}

func (s *Session) streamDone(id uint16) {
	s.releaseID(id)
	if s.streams.Add(-1) < 0 {
		s.streams.Store(0)
	}
}

// idleSince reports how long the session has carried no non-quiet stream
// (zero while any stream is open).
func (s *Session) idleSince(now time.Time) time.Duration {
	if s.streams.Load() > 0 {
		return 0
	}
	return now.Sub(time.Unix(0, s.lastActive.Load()))
}

// quietSince reports how long the session has carried neither a stream
// nor a ping (zero while any stream is open).
func (s *Session) quietSince(now time.Time) time.Duration {
	return min(s.idleSince(now), now.Sub(time.Unix(0, s.lastLiveness.Load())))
}

// Close ends the session gracefully: SCTP shutdown first, so nothing already
// written is dropped, then the DTLS close_notify.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.closeBulk()
		if s.assoc != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			if err := s.assoc.Shutdown(ctx); err != nil {
				s.assoc.Abort("closing")
			}
			cancel()
			s.assoc.Close()
		}
		s.dconn.Close()
	})
	return nil
}

// Abort ends the session at once (the peer is presumed gone).
func (s *Session) abort() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.closeBulk()
		if s.assoc != nil {
			s.assoc.Abort("peer gone")
			s.assoc.Close()
		}
		s.dconn.Close()
	})
}

func (s *Session) closeBulk() {
	if s.bulk != nil {
		s.bulk.Close(fmt.Errorf("session with %s: %w", s.peer.ID, ErrClosed))
	}
}
