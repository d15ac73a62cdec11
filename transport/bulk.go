package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/udp"
)

// BulkDataPlane moves bodies over the session's bulk channel: offset-
// addressed chunks in their own DTLS records next to SCTP's, acknowledged
// selectively, retransmitted when lost, paced by a BBR-like rate control
// (docs/transport.md). The request's stream carries only the start (a
// FrameBulk) and the end frame with the total length, so truncation shows
// as it does with data frames. Small bodies, and every body on a session
// whose peer does not speak the bulk channel, go as data frames
// (StreamDataPlane). It is the default DataPlane.
type BulkDataPlane struct{}

// bulkInline is the body size up to which data frames are used anyway: a
// body this small is done before the bulk channel's start round trip
// would pay off.
const bulkInline = 128 << 10

// Tunables, variables so that tests can shorten them.
var (
	// bulkIdleTimeout ends a transfer that heard nothing from the peer
	// for this long: the peer is gone.
	bulkIdleTimeout = 10 * time.Second
	// bulkWindow is the receiver's reassembly window and the sender's
	// retransmission buffer, per transfer.
	bulkWindow = 8 << 20
)

// ErrStalled is wrapped by the error of a transfer that heard nothing
// from the peer for too long.
var ErrStalled = errors.New("transfer stalled: no answer from peer")

// SendBody implements DataPlane.
func (BulkDataPlane) SendBody(ctx context.Context, s *Stream, r io.Reader) (int64, error) {
	mux := s.session.bulk
	if mux == nil {
		return StreamDataPlane{}.SendBody(ctx, s, r)
	}
	// Read the start of the body: a small one goes inline.
	hp := headPool.Get().(*[]byte)
	defer headPool.Put(hp)
	head := *hp
	n, err := io.ReadFull(r, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return StreamDataPlane{}.SendBody(ctx, s, bytesReader(head[:n]))
	case err != nil:
		return 0, err
	}
	return mux.send(ctx, s, head, r)
}

var headPool = sync.Pool{New: func() any { b := make([]byte, bulkInline); return &b }}

// ReceiveBody implements DataPlane: it takes data frames or a bulk
// transfer, whichever the sender chose.
func (BulkDataPlane) ReceiveBody(ctx context.Context, s *Stream, w io.Writer, limit int64) (int64, error) {
	stop := s.Watch(ctx)
	f, err := s.ReadFrame()
	stop()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%w after 0 bytes", ErrTruncated)
		}
		return 0, ctxErr(ctx, err)
	}
	if f.Type != FrameBulk {
		return receiveFrames(ctx, s, w, limit, &f)
	}
	if s.session.bulk == nil {
		return 0, fmt.Errorf("%w: bulk frame on a session without bulk channel", ErrProtocol)
	}
	start, err := decodeBulkStart(f.Payload)
	if err != nil {
		return 0, err
	}
	return s.session.bulk.receive(ctx, s, start, w, limit)
}

func bytesReader(b []byte) io.Reader {
	return &sliceReader{b: b}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// bulkMux is a session's bulk channel: the transfers of both directions,
// as bulk records on the session's UDP flow.
type bulkMux struct {
	conn     udp.Conn
	keys     *bulkKeys
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
	// the datagram layer has no more datagrams in hand (flushAcks).
	ackMu    sync.Mutex
	ackDue   []*bulkRecv
	ackSpare []*bulkRecv

	// path is what the last transfer to the peer learned of the path, so
	// that the next one (a download fetches 8 MiB ranges one after the
	// other) starts at that rate instead of probing from nothing.
	path pathEstimate
}

// pathEstimate is a finished transfer's bandwidth and minimum RTT.
type pathEstimate struct {
	bw     float64
	minRTT time.Duration
	at     time.Time
}

// pathMemory is how long a path estimate stays good enough to start at.
const pathMemory = 5 * time.Second

func (m *bulkMux) notePath(e pathEstimate) {
	m.mu.Lock()
	m.path = e
	m.mu.Unlock()
}

func (m *bulkMux) recentPath(now time.Time) (pathEstimate, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.path, m.path.bw > 0 && now.Sub(m.path.at) < pathMemory
}

// ackLater queues r's acknowledgement until the datagrams in hand are
// handled.
func (m *bulkMux) ackLater(r *bulkRecv) {
	m.ackMu.Lock()
	m.ackDue = append(m.ackDue, r)
	m.ackMu.Unlock()
}

// flushAcks acknowledges what arrived in the datagrams just handled.
func (m *bulkMux) flushAcks() {
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

func newBulkMux(conn udp.Conn, keys *bulkKeys, maxChunk int, closed <-chan struct{}) *bulkMux {
	return &bulkMux{
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
func (m *bulkMux) write(msg []byte) error {
	rec, err := m.keys.sealRecord(msg)
	if err != nil {
		return err
	}
	return m.conn.WriteDatagram(rec)
}

// writeBatch sends messages with as few system calls as the datagram
// layer allows.
func (m *bulkMux) writeBatch(msgs [][]byte) error {
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
func (m *bulkMux) divert(d []byte) bool {
	if !isBulkRecord(d) {
		return false
	}
	m.takeRecord(d)
	return true
}

// takeRecord takes one bulk record from the datagram layer.
func (m *bulkMux) takeRecord(rec []byte) {
	msg, err := m.keys.openRecord(rec)
	if err != nil || len(msg) == 0 {
		return // forged, damaged or replayed: dropped, as DTLS does
	}
	m.handle(msg)
}

// handle dispatches one bulk message; it must not block or keep rec.
func (m *bulkMux) handle(rec []byte) {
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
	}
	// Unknown tags are ignored: a later version may add records.
}

// stopUnknown tells the sender of data for a transfer we do not know
// (any more) to stop, once per transfer id.
func (m *bulkMux) stopUnknown(id uint32) {
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
func (m *bulkMux) close(err error) {
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

func (m *bulkMux) addOut(s *bulkSend) error {
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

func (m *bulkMux) addIn(r *bulkRecv) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead != nil {
		return m.dead
	}
	if _, busy := m.in[r.id]; busy {
		return fmt.Errorf("%w: bulk transfer %d started twice", ErrProtocol, r.id)
	}
	m.in[r.id] = r
	return nil
}

// busy reports whether a transfer is running: the bulk channel watches
// those itself (bulkIdleTimeout), and they move no SCTP traffic.
func (m *bulkMux) busy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.in)+len(m.out) > 0
}

func (m *bulkMux) removeOut(s *bulkSend) {
	m.mu.Lock()
	if m.out[s.id] == s {
		delete(m.out, s.id)
	}
	m.mu.Unlock()
}

func (m *bulkMux) removeIn(r *bulkRecv) {
	m.mu.Lock()
	if m.in[r.id] == r {
		delete(m.in, r.id)
	}
	m.mu.Unlock()
}

// ringPool recycles full-size transfer windows.
var ringPool sync.Pool

// ringSize is the window a receiver needs for a body of at most limit
// bytes (negative: unknown) in chunks of chunk bytes.
func ringSize(limit int64, chunk int) int {
	if limit < 0 || limit >= int64(bulkWindow) {
		return bulkWindow
	}
	return max(1, int((limit+int64(chunk)-1)/int64(chunk))) * chunk
}

// getRing returns a window of n bytes; full-size ones come from the pool.
func getRing(n int) []byte {
	if n != bulkWindow {
		return make([]byte, n)
	}
	if b, ok := ringPool.Get().(*[]byte); ok && len(*b) == bulkWindow {
		return *b
	}
	return make([]byte, bulkWindow)
}

func putRing(b []byte) {
	if len(b) == bulkWindow {
		ringPool.Put(&b)
	}
}
