package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
	"github.com/peerdesk/peerdesk/transport/internal/udp"
)

// Stream is the request stream a body travels beside: it carries the
// transfer's start and end frames, the bulk channel the bytes.
type Stream interface {
	// WriteStart sends the start frame (payload: the transfer's id and
	// chunk size).
	WriteStart(payload []byte) error
	// WriteEnd sends the end frame with the body's length.
	WriteEnd(total int64) error
	// ReadEnd waits for the end frame and returns the length it says,
	// or why none came (the stream ended: errs.Truncated; a refusal in
	// its place; something else: errs.Protocol).
	ReadEnd() (int64, error)
	// SetReadDeadline makes a waiting ReadEnd return (zero: no deadline).
	SetReadDeadline(t time.Time) error
	// Watch ends the stream's reads and writes when ctx ends, until stop.
	Watch(ctx context.Context) (stop func() bool)
}

// ctxErr prefers ctx's reason to the error it caused.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// Tunables, variables so that tests can shorten them.
var (
	// IdleTimeout ends a transfer that heard nothing from the peer
	// for this long: the peer is gone.
	IdleTimeout = 10 * time.Second
	// Window is the receiver's reassembly window and the sender's
	// retransmission buffer, per transfer. 4 MiB is 1 Gbit/s at 33 ms of
	// RTT, more than an office's LAN or VPN needs; where the disk is
	// slower than the network the window fills, so its size is what a
	// download holds (linkbench: 8 MiB was no faster at 1 and 2.5 Gbit/s,
	// with or without loss).
	Window = 4 << 20
)

// ErrStalled is wrapped by the error of a transfer that heard nothing
// from the peer for too long.
var ErrStalled = errors.New("transfer stalled: no answer from peer")

// SetLogger names where the channel logs (its peer, say).
func (m *Mux) SetLogger(l *slog.Logger) { m.log = l }

// Mux is a session's bulk channel: the transfers of both directions,
// as bulk records on the session's UDP flow.
type Mux struct {
	conn     udp.Conn
	keys     *Keys
	maxChunk int // data bytes per packet that fit this side's path
	closed   <-chan struct{}
	log      *slog.Logger

	mu       sync.Mutex
	nextID   uint32
	out      map[uint32]*bulkSend // by our id
	in       map[uint32]*bulkRecv // by the peer's id
	lastStop uint32
	dead     error

	// ackDue is the transfers with data not yet acknowledged, acked when
	// the datagram layer has no more datagrams in hand (FlushAcks).
	ackMu    sync.Mutex
	ackDue   []*bulkRecv
	ackSpare []*bulkRecv

	// path is what the last transfer to the peer learned of the path, so
	// that the next one (a download fetches 8 MiB ranges one after the
	// other) starts at that rate instead of probing from nothing.
	// bgPath is the same for background transfers: what they leave to
	// others is no rate for a normal transfer to start at, and a
	// background one goes on yielding from where the last one was.
	path, bgPath pathEstimate

	pings pings

	// heard counts the authenticated records taken from the peer.
	heard atomic.Uint64
}

// Heard counts the authenticated records taken from the peer so far: a
// session whose count stands still heard nothing on the bulk channel.
func (m *Mux) Heard() uint64 { return m.heard.Load() }

// pathEstimate is a finished transfer's bandwidth and minimum RTT.
type pathEstimate struct {
	bw     float64
	minRTT time.Duration
	at     time.Time
	// cap is the rate cap loss or queueing set (0: none).
	cap float64
	// queuedShare and peak are a background transfer's share of rounds
	// that saw a queue and highest delivery rate (bulkCC.bgQueuedShare,
	// peakBw): the next one yields from where it stopped, above the
	// same floor.
	queuedShare, peak float64
}

// pathMemory is how long a path estimate stays good enough to start at.
const pathMemory = 5 * time.Second

func (m *Mux) notePath(e pathEstimate, background bool) {
	m.mu.Lock()
	if background {
		m.bgPath = e
	} else {
		m.path = e
	}
	m.mu.Unlock()
}

// recentPath is the estimate a new transfer starts from: a background
// one takes the last background transfer's if fresh, else (as a normal
// one) the last normal transfer's.
func (m *Mux) recentPath(now time.Time, background bool) (pathEstimate, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fresh := func(e pathEstimate) bool { return e.bw > 0 && now.Sub(e.at) < pathMemory }
	if background && fresh(m.bgPath) {
		return m.bgPath, true
	}
	return m.path, fresh(m.path)
}

// ackLater queues r's acknowledgement until the datagrams in hand are
// handled.
func (m *Mux) ackLater(r *bulkRecv) {
	m.ackMu.Lock()
	m.ackDue = append(m.ackDue, r)
	m.ackMu.Unlock()
}

// FlushAcks acknowledges what arrived in the datagrams just handled.
func (m *Mux) FlushAcks() {
	m.ackMu.Lock()
	due := m.ackDue
	m.ackDue = m.ackSpare[:0]
	m.ackMu.Unlock()
	if len(due) == 0 {
		m.ackMu.Lock()
		m.ackSpare = due
		m.ackMu.Unlock()
		return
	}
	defer func() {
		clear(due)
		m.ackMu.Lock()
		m.ackSpare = due[:0]
		m.ackMu.Unlock()
	}()
	now := time.Now()
	for _, r := range due {
		r.mu.Lock()
		pending := r.pending > 0
		r.mu.Unlock()
		if pending {
			r.sendAck(now)
		}
	}
}

// NewMux is a session's bulk channel over conn, sealed with keys, in
// datagrams of at most maxDatagram bytes; closed is the session's end.
func NewMux(conn udp.Conn, keys *Keys, maxDatagram int, closed <-chan struct{}) *Mux {
	maxChunk := maxDatagram - bulkRecordOverhead - bulkDataHeader
	return &Mux{
		conn:     conn,
		keys:     keys,
		maxChunk: min(max(maxChunk, bulkMinChunk), bulkMaxChunk),
		closed:   closed,
		out:      map[uint32]*bulkSend{},
		in:       map[uint32]*bulkRecv{},
	}
}

// newMessage returns a buffer for one message: bulkPrefix bytes of room
// for the record header, then the message, with room for the tag.
func newMessage(size int) []byte {
	return make([]byte, bulkPrefix, bulkPrefix+size+gcmTag)
}

// write seals msg (built after bulkPrefix bytes of room, see newMessage)
// into a record in place and sends it.
func (m *Mux) write(msg []byte) error {
	rec, err := m.keys.sealRecord(msg)
	if err != nil {
		return err
	}
	return m.conn.WriteDatagram(rec)
}

// writeBatch sends messages with as few system calls as the datagram
// layer allows.
func (m *Mux) writeBatch(msgs [][]byte) error {
	if len(msgs) > 1 {
		m.conn.Cork()
	}
	var err error
	for _, msg := range msgs {
		if err = m.write(msg); err != nil {
			break
		}
	}
	if len(msgs) > 1 {
		if uerr := m.conn.Uncork(); err == nil {
			err = uerr
		}
	}
	return err
}

// divert takes a datagram the UDP layer read if it is a bulk record (DTLS
// gets the others); it runs on the goroutine that reads the session's
// datagrams.
func (m *Mux) Divert(d []byte) bool {
	if !IsRecord(d) {
		return false
	}
	m.takeRecord(d)
	return true
}

// takeRecord takes one bulk record from the datagram layer.
func (m *Mux) takeRecord(rec []byte) {
	msg, err := m.keys.openRecord(rec)
	if err != nil || len(msg) == 0 {
		return // forged, damaged or replayed: dropped, as DTLS does
	}
	m.heard.Add(1)
	m.handle(msg)
}

// handle dispatches one bulk message; it must not block or keep rec.
func (m *Mux) handle(rec []byte) {
	switch rec[0] {
	case recBulkData:
		d, err := decodeBulkData(rec)
		if err != nil {
			return
		}
		m.mu.Lock()
		r := m.in[d.id]
		m.mu.Unlock()
		if r == nil {
			m.stopUnknown(d.id)
			return
		}
		r.onData(d)
	case recBulkAck:
		var a bulkAck
		if err := decodeBulkAck(rec, &a); err != nil {
			return
		}
		m.mu.Lock()
		s := m.out[a.id]
		m.mu.Unlock()
		if s != nil {
			s.onAck(&a)
		}
	case recBulkStop, recBulkAbort:
		b, err := decodeBulkAbort(rec)
		if err != nil {
			return
		}
		m.mu.Lock()
		var failer interface{ fail(error) }
		if b.tag == recBulkStop {
			if s := m.out[b.id]; s != nil {
				failer = s
			}
		} else if r := m.in[b.id]; r != nil {
			failer = r
		}
		m.mu.Unlock()
		if failer != nil {
			failer.fail(fmt.Errorf("peer ended the transfer: %s", abortReason(b.code)))
		}
	case recBulkPing, recBulkPong:
		m.handlePing(rec)
	}
	// Unknown tags are ignored: a later version may add records.
}

// stopUnknown tells the sender of data for a transfer we do not know
// (any more) to stop, once per transfer id.
func (m *Mux) stopUnknown(id uint32) {
	m.mu.Lock()
	if m.lastStop == id+1 {
		m.mu.Unlock()
		return
	}
	m.lastStop = id + 1
	m.mu.Unlock()
	_ = m.write(bulkAbort{tag: recBulkStop, id: id, code: abortUnknown}.append(newMessage(bulkAbortSize)))
}

// close fails every transfer: the session is gone.
func (m *Mux) Close(err error) {
	m.mu.Lock()
	m.dead = err
	var fs []interface{ fail(error) }
	for _, s := range m.out {
		fs = append(fs, s)
	}
	for _, r := range m.in {
		fs = append(fs, r)
	}
	m.mu.Unlock()
	for _, f := range fs {
		f.fail(err)
	}
}

func (m *Mux) addOut(s *bulkSend) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead != nil {
		return m.dead
	}
	for {
		m.nextID++
		if _, busy := m.out[m.nextID]; !busy {
			break
		}
	}
	s.id = m.nextID
	m.out[s.id] = s
	return nil
}

func (m *Mux) addIn(r *bulkRecv) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead != nil {
		return m.dead
	}
	if _, busy := m.in[r.id]; busy {
		return fmt.Errorf("%w: bulk transfer %d started twice", errs.Protocol, r.id)
	}
	m.in[r.id] = r
	return nil
}

// busy reports whether a transfer is running: the bulk channel watches
// those itself (IdleTimeout), and they move no SCTP traffic.
func (m *Mux) Busy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.in)+len(m.out) > 0
}

// removeOut and removeIn end what addOut and addIn began (and the flow
// counted after them); each is called once for each successful add.
func (m *Mux) removeOut(s *bulkSend) {
	m.mu.Lock()
	if m.out[s.id] == s {
		delete(m.out, s.id)
	}
	m.mu.Unlock()
	flowEnded()
}

func (m *Mux) removeIn(r *bulkRecv) {
	m.mu.Lock()
	if m.in[r.id] == r {
		delete(m.in, r.id)
	}
	m.mu.Unlock()
	flowEnded()
}

// ringSize is the window a receiver needs for a body of at most limit
// bytes (negative: unknown) in chunks of chunk bytes.
func ringSize(limit int64, chunk int) int {
	if limit < 0 || limit >= int64(Window) {
		return Window
	}
	return max(1, int((limit+int64(chunk)-1)/int64(chunk))) * chunk
}
