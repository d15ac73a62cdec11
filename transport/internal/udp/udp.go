// Package udp is the UDP layer under a peer's DTLS sessions. One socket
// serves every remote address (Listener hands each its own net.Conn); a
// dialled session has its own connected socket (Connected). It batches
// datagrams where the system can: the bulk sender corks a conn, pion
// writes a burst of records into it, and uncorking sends them with one
// system call (UDP segmentation offload on Linux; docs/transport.md has
// the numbers). Reads take coalesced datagrams (UDP GRO) apart. Elsewhere
// it falls back to one datagram per call.
package udp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v2/deadline"
)

const (
	// maxGSOSegments and maxGSOBytes bound one segmented send (the
	// kernel's UDP_MAX_SEGMENTS is 64 on older kernels; a UDP length
	// field holds 65,535).
	maxGSOSegments = 64
	maxGSOBytes    = 65000
	// rxBufferSize holds one coalesced read.
	rxBufferSize = 65535
	// peerQueue bounds the read batches waiting for one peer's conn;
	// more are dropped, as a full socket buffer would drop them.
	peerQueue = 256
	// connQueueBytes and listenerQueueBytes bound the buffers of the read
	// batches waiting for one conn and for all conns of a listener; more
	// are dropped too. A host flooding conns of its own with junk made
	// the batches wait while the conns' DTLS layers fell behind dropping
	// it: 128 MB more resident in 12 s (TestHostileJunkFlood). Conns not
	// yet established (see Established) share a small budget of their
	// own, so that such a flood neither holds much nor makes the
	// sessions' datagrams drop.
	connQueueBytes        = 8 << 20
	listenerQueueBytes    = 32 << 20
	newConnQueueBytes     = 256 << 10
	newListenerQueueBytes = 4 << 20
	// smallRead is the most a read may hold to be moved out of its 64 KiB
	// buffer into a small one before it waits for its conn: a datagram
	// that was not coalesced with others (control traffic, junk) then
	// holds 2 KiB, not 64.
	smallRead = 2048
	// acceptBacklog bounds conns waiting for Accept.
	acceptBacklog = 128
)

// Conn is the conn under DTLS as a second consumer of the same socket
// (the bulk channel) uses it: it sends that consumer's datagrams next to
// pion's, batching them while corked, and diverts the datagrams it reads
// that the consumer takes instead of handing them to pion.
type Conn interface {
	// Cork holds writes back until Uncork sends them in as few system
	// calls as the OS allows.
	Cork()
	Uncork() error
	WriteDatagram(b []byte) error
	// SetDivert offers every datagram read to take first: one it takes
	// does not reach pion. drained runs when the datagrams read so far
	// are all handled and the next read may block (the bulk receiver
	// acknowledges then: one ack per batch of datagrams, not per
	// datagram).
	SetDivert(take func(datagram []byte) bool, drained func())
}

// divertHook holds a conn's divert handlers.
type divertHook struct {
	take    atomic.Pointer[func([]byte) bool]
	drained atomic.Pointer[func()]
}

// SetDivert sets the divert handlers (see Conn).
func (k *divertHook) SetDivert(take func([]byte) bool, drained func()) {
	k.drained.Store(&drained)
	k.take.Store(&take)
}

func (k *divertHook) drain() {
	if d := k.drained.Load(); d != nil && *d != nil {
		(*d)()
	}
}

// diverted offers d to the divert handler; it reports whether it was taken.
func (k *divertHook) diverted(d []byte) bool {
	h := k.take.Load()
	return h != nil && *h != nil && (*h)(d)
}

// rxBatch is one read: a buffer and the datagrams in it.
type rxBatch struct {
	buf  []byte
	segs [][]byte
	from netip.AddrPort
	// queuedIn is the listener's budget the batch is counted in while it
	// waits in a conn's queue.
	queuedIn *atomic.Int64
}

var (
	rxPool = sync.Pool{New: func() any {
		return &rxBatch{buf: make([]byte, rxBufferSize), segs: make([][]byte, 0, maxGSOSegments)}
	}}
	rxSmallPool = sync.Pool{New: func() any {
		return &rxBatch{buf: make([]byte, smallRead), segs: make([][]byte, 0, 1)}
	}}
)

func getRx() *rxBatch { return rxPool.Get().(*rxBatch) }

func putRx(b *rxBatch) {
	b.segs = b.segs[:0]
	if cap(b.buf) == smallRead {
		rxSmallPool.Put(b)
		return
	}
	rxPool.Put(b)
}

// compact moves a read of one small datagram into a small buffer and
// gives the large one back.
func compact(b *rxBatch) *rxBatch {
	if len(b.segs) != 1 || len(b.segs[0]) > smallRead || cap(b.buf) == smallRead {
		return b
	}
	s := rxSmallPool.Get().(*rxBatch)
	n := copy(s.buf, b.segs[0])
	s.segs, s.from = append(s.segs, s.buf[:n]), b.from
	putRx(b)
	return s
}

// readOne reads one datagram with a plain blocking read, which needs its
// buffer while it waits.
func readOne(c *net.UDPConn) (*rxBatch, error) {
	b := getRx()
	n, from, err := c.ReadFromUDPAddrPort(b.buf)
	if err != nil {
		putRx(b)
		return nil, err
	}
	b.segs, b.from = append(b.segs, b.buf[:n]), from
	return b, nil
}

// sendQueue batches one destination's datagrams while corked.
type sendQueue struct {
	sock *udpSock
	to   netip.AddrPort // zero on a connected socket

	mu     sync.Mutex
	corked int
	buf    []byte
	seg    int  // segment size of the pending group
	nseg   int  // segments pending
	short  bool // the last segment is shorter: the group is closed
	err    error
	gso    gsoSend // the state of a segmented send
}

func (q *sendQueue) write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.corked == 0 {
		if err := q.sock.send(&q.gso, p, 0, q.to); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if q.nseg > 0 && (len(p) > q.seg || q.short || q.nseg == maxGSOSegments || len(q.buf)+len(p) > maxGSOBytes) {
		if err := q.flushLocked(); err != nil {
			return 0, err
		}
	}
	if q.nseg == 0 {
		q.seg = len(p)
	}
	q.buf = append(q.buf, p...)
	q.nseg++
	q.short = len(p) < q.seg
	return len(p), nil
}

func (q *sendQueue) cork() {
	q.mu.Lock()
	q.corked++
	q.mu.Unlock()
}

func (q *sendQueue) uncork() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.corked--
	if q.corked > 0 {
		return nil
	}
	return q.flushLocked()
}

func (q *sendQueue) flushLocked() error {
	if q.nseg == 0 {
		return nil
	}
	seg := q.seg
	if q.nseg == 1 {
		seg = 0
	}
	err := q.sock.send(&q.gso, q.buf, seg, q.to)
	q.buf, q.nseg, q.seg, q.short = q.buf[:0], 0, 0, false
	return err
}

// Connected is a dialled (connected) UDP socket as the net.Conn DTLS runs
// over: reads hand out coalesced datagrams one by one, writes batch while
// corked.
type Connected struct {
	*net.UDPConn
	divertHook
	sock *udpSock
	q    sendQueue
	rx   *rxBatch
	next int
}

// NewConnected wraps a connected socket; the conn owns it from now on.
func NewConnected(c *net.UDPConn) *Connected {
	s := newUDPSock(c, true)
	return &Connected{UDPConn: c, sock: s, q: sendQueue{sock: s}}
}

func (d *Connected) Read(p []byte) (int, error) {
	for {
		if d.rx == nil || d.next >= len(d.rx.segs) {
			if d.rx != nil {
				putRx(d.rx)
				d.rx = nil
			}
			d.drain()
			b, err := d.sock.readBatch()
			if err != nil {
				return 0, err
			}
			d.rx, d.next = b, 0
		}
		seg := d.rx.segs[d.next]
		d.next++
		if d.diverted(seg) {
			continue
		}
		if len(seg) > len(p) {
			return 0, io.ErrShortBuffer
		}
		return copy(p, seg), nil
	}
}

func (d *Connected) Write(p []byte) (int, error)  { return d.q.write(p) }
func (d *Connected) WriteDatagram(b []byte) error { _, err := d.q.write(b); return err }
func (d *Connected) Cork()                        { d.q.cork() }
func (d *Connected) Uncork() error                { return d.q.uncork() }

// Listener is the endpoint's UDP socket: it hands each remote address
// its own conn (only a datagram that passes filter may create one) and
// reads in batches.
type Listener struct {
	// Buffers are the kernel's receive and send buffers the socket got
	// (SetBuffers).
	Buffers [2]int

	sock   *udpSock
	filter func([]byte) bool
	accept chan *udpPeerConn
	// queued and queuedNew are the bytes of buffers waiting in the
	// queues of established and of new conns.
	queued, queuedNew atomic.Int64

	mu     sync.Mutex
	conns  map[netip.AddrPort]*udpPeerConn
	closed bool
	done   chan struct{}
}

// Listen opens the socket at addr with buffer bytes of kernel buffers each
// way. A remote address gets its conn only with a datagram filter accepts
// (a DTLS ClientHello), so stray datagrams hold nothing.
func Listen(addr *net.UDPAddr, buffer int, filter func([]byte) bool) (*Listener, error) {
	c, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	rcv, snd := SetBuffers(c, buffer)
	l := &Listener{
		Buffers: [2]int{rcv, snd},
		sock:    newUDPSock(c, false),
		filter:  filter,
		accept:  make(chan *udpPeerConn, acceptBacklog),
		conns:   map[netip.AddrPort]*udpPeerConn{},
		done:    make(chan struct{}),
	}
	go l.readLoop()
	return l, nil
}

func (l *Listener) readLoop() {
	defer close(l.done)
	for {
		b, err := l.sock.readBatch()
		if err != nil {
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// An ICMP error or the like: keep serving the others.
			time.Sleep(time.Millisecond)
			continue
		}
		b.from = canonical(b.from)
		c := l.conn(b)
		if c == nil {
			putRx(b)
			continue
		}
		if b = compact(b); !c.enqueue(b) {
			putRx(b) // its queue is full: dropped
		}
	}
}

// canonical maps IPv4-mapped IPv6 addresses to IPv4, so one peer has one
// key whichever form the socket reports.
func canonical(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// conn finds the conn of b's sender, making one if b may open it.
func (l *Listener) conn(b *rxBatch) *udpPeerConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.conns[b.from]; c != nil {
		return c
	}
	if l.closed || len(b.segs) == 0 || (l.filter != nil && !l.filter(b.segs[0])) {
		return nil
	}
	c := &udpPeerConn{
		l:      l,
		addr:   b.from,
		uaddr:  net.UDPAddrFromAddrPort(b.from),
		rx:     make(chan *rxBatch, peerQueue),
		rdl:    deadline.New(),
		closed: make(chan struct{}),
	}
	c.q = sendQueue{sock: l.sock, to: b.from}
	select {
	case l.accept <- c:
		l.conns[b.from] = c
		return c
	default:
		return nil // backlog full: a real peer retries its handshake
	}
}

func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the socket; conns still open fail.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.sock.c.Close()
	<-l.done
	return err
}

func (l *Listener) Addr() net.Addr { return l.sock.c.LocalAddr() }

// Socket is the socket itself (tests close it under the conns, as a
// machine that vanishes would).
func (l *Listener) Socket() *net.UDPConn { return l.sock.c }

// udpPeerConn is one remote address's share of the listener's socket.
type udpPeerConn struct {
	divertHook
	l     *Listener
	addr  netip.AddrPort
	uaddr *net.UDPAddr
	q     sendQueue

	rx   chan *rxBatch
	cur  *rxBatch
	next int
	rdl  *deadline.Deadline

	qmu         sync.Mutex
	queued      int64 // bytes of buffers waiting in rx
	stopping    bool  // closed: nothing more is queued
	established bool

	closeOnce sync.Once
	closed    chan struct{}
}

// enqueue hands b to the conn unless its queue, or all queues of the
// listener, hold their most; it reports whether it did.
func (c *udpPeerConn) enqueue(b *rxBatch) bool {
	size := int64(cap(b.buf))
	c.qmu.Lock()
	defer c.qmu.Unlock()
	limit, budget, total := int64(newConnQueueBytes), &c.l.queuedNew, int64(newListenerQueueBytes)
	if c.established {
		limit, budget, total = connQueueBytes, &c.l.queued, listenerQueueBytes
	}
	if c.stopping || c.queued+size > limit || budget.Load()+size > total {
		return false
	}
	select {
	case c.rx <- b:
		c.queued += size
		budget.Add(size)
		b.queuedIn = budget
		return true
	default:
		return false
	}
}

// dequeued accounts for a batch taken from the queue.
func (c *udpPeerConn) dequeued(b *rxBatch) *rxBatch {
	size := int64(cap(b.buf))
	c.qmu.Lock()
	c.queued -= size
	c.qmu.Unlock()
	b.queuedIn.Add(-size)
	b.queuedIn = nil
	return b
}

// Established gives the conn the queue of a session: its owner calls it
// once the handshake is done. Until then the conn's reads share the small
// budget of handshakes, which anyone can open.
func (c *udpPeerConn) Established() {
	c.qmu.Lock()
	c.established = true
	c.qmu.Unlock()
}

func (c *udpPeerConn) Read(p []byte) (int, error) {
	for {
		if c.cur != nil {
			if c.next < len(c.cur.segs) {
				seg := c.cur.segs[c.next]
				c.next++
				if c.diverted(seg) {
					continue
				}
				if len(seg) > len(p) {
					return 0, io.ErrShortBuffer
				}
				return copy(p, seg), nil
			}
			putRx(c.cur)
			c.cur = nil
		}
		select {
		case b := <-c.rx:
			c.cur, c.next = c.dequeued(b), 0
			continue
		default:
		}
		c.drain()
		select {
		case b := <-c.rx:
			c.cur, c.next = c.dequeued(b), 0
		case <-c.rdl.Done():
			return 0, os.ErrDeadlineExceeded
		case <-c.closed:
			return 0, net.ErrClosed
		case <-c.l.done:
			return 0, net.ErrClosed
		}
	}
}

func (c *udpPeerConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	return c.q.write(p)
}

func (c *udpPeerConn) WriteDatagram(b []byte) error { _, err := c.Write(b); return err }
func (c *udpPeerConn) Cork()                        { c.q.cork() }
func (c *udpPeerConn) Uncork() error                { return c.q.uncork() }

func (c *udpPeerConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.l.mu.Lock()
		if c.l.conns[c.addr] == c {
			delete(c.l.conns, c.addr)
		}
		c.l.mu.Unlock()
		// What waits in the queue goes back now, not when the conn is
		// collected: the listener's share counts it until then.
		c.qmu.Lock()
		c.stopping = true
		c.qmu.Unlock()
		for drained := false; !drained; {
			select {
			case b := <-c.rx:
				putRx(c.dequeued(b))
			default:
				drained = true
			}
		}
	})
	return nil
}

func (c *udpPeerConn) LocalAddr() net.Addr                { return c.l.Addr() }
func (c *udpPeerConn) RemoteAddr() net.Addr               { return c.uaddr }
func (c *udpPeerConn) SetDeadline(t time.Time) error      { c.rdl.Set(t); return nil }
func (c *udpPeerConn) SetReadDeadline(t time.Time) error  { c.rdl.Set(t); return nil }
func (c *udpPeerConn) SetWriteDeadline(t time.Time) error { return nil }

func (c *udpPeerConn) String() string { return fmt.Sprintf("udp %s", c.addr) }

// sendEach sends b as datagrams of seg bytes each (the last may be
// shorter), or as one datagram if seg is 0: a system call per datagram,
// where segmentation offload is missing or refused.
func (s *udpSock) sendEach(b []byte, seg int, to netip.AddrPort) error {
	if seg == 0 {
		seg = len(b)
	}
	for len(b) > 0 {
		n := min(seg, len(b))
		var err error
		if s.connected {
			_, err = s.c.Write(b[:n])
		} else {
			_, err = s.c.WriteToUDPAddrPort(b[:n], to)
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
