package bulk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

const (
	// sendBatch is how many packets the sender builds per lock before it
	// writes them: one segmented send of up to 64 KiB on Ethernet (the
	// system call, not the bytes, is what costs; docs/transport.md).
	sendBatch = 40
	// readSize is how much of the body the sender reads at once.
	readSize = 256 << 10
	// readAhead bounds the body read but not yet sent.
	readAhead = 2 * readSize
	// reorderThreshold: a packet is lost once this many later ones are
	// acknowledged (RFC 9002).
	reorderThreshold = 3
	// minLossDelay and minPTO keep the timers above Go's timer and
	// scheduling granularity on a LAN whose RTT is tens of microseconds.
	minLossDelay = time.Millisecond
	minPTO       = 5 * time.Millisecond
)

type pktState uint8

const (
	pktInflight pktState = iota
	pktAcked
	pktLost
)

// sentPkt is what the sender remembers of one packet until it is acked
// or declared lost. Times are nanoseconds since the transfer started.
type sentPkt struct {
	off         int64
	n           int32
	state       pktState
	appLimited  bool
	sentAt      int64
	delivered   int64 // bytes delivered when it was sent
	deliveredAt int64
	firstSentAt int64
}

type retxEntry struct {
	off int64
	n   int32
}

// bulkSend is the sending end of one bulk transfer.
type bulkSend struct {
	mux *Mux
	id  uint32
	t0  time.Time

	mu       sync.Mutex
	chunk    int // 0 until the receiver's first ack
	firstRTT time.Duration
	started  bool
	ring     pagedRing
	acked    []bool // per ring slot: chunk acknowledged selectively
	cumAck   int64  // bytes the receiver holds without a gap
	readOff  int64  // bytes read from the body
	eof      bool
	nextOff  int64 // next new byte to send
	limit    int64 // the receiver's window: send below this offset
	pkts     []sentPkt
	pnBase   uint64 // packet number of pkts[0]
	nextPN   uint64
	largest  uint64 // largest packet number acked (valid if anyAcked)
	anyAcked bool
	inflight int
	retx     []retxEntry
	cc       *bulkCC
	// background: the transfer yields to other traffic (bulkCC).
	background bool

	srtt, rttvar, latestRTT time.Duration
	delivered               int64
	deliveredAt             int64
	firstSentAt             int64
	appLimited              int64
	lastHeard               int64
	ptoCount                int
	probes                  int // packets a probe timeout lets go past cwnd and pacing
	ptoFired, lostPkts      int
	lastProbe               int64
	err                     error

	wake chan struct{}
}

func (s *bulkSend) now() int64 { return int64(time.Since(s.t0)) }

// sendTotals counts the data packets every bulk send of this process has
// sent, and how many of them were a chunk sent again (declared lost, or a
// probe).
var sendTotals struct{ packets, resent atomic.Uint64 }

// SendTotals is sendTotals now: benchmarks read the share of packets
// retransmitted.
func SendTotals() (packets, resent uint64) {
	return sendTotals.packets.Load(), sendTotals.resent.Load()
}

// Send moves head and then the rest of r over the bulk channel, announced
// on st, and ends the body on st once the receiver acknowledged all of it.
// A background send yields to other traffic on the path (bulkCC).
func (m *Mux) Send(ctx context.Context, st Stream, head []byte, r io.Reader, background bool) (int64, error) {
	b := &bulkSend{mux: m, t0: time.Now(), wake: make(chan struct{}, 1), background: background}
	if err := m.addOut(b); err != nil {
		return 0, err
	}
	flowBegan()
	defer m.removeOut(b)
	defer b.end()
	stop := st.Watch(ctx)
	defer stop()
	if err := st.WriteStart(bulkStart{id: b.id, maxChunk: m.maxChunk}.append(nil)); err != nil {
		return 0, ctxErr(ctx, err)
	}
	total, err := b.run(ctx, head, r)
	b.mu.Lock()
	sendTotals.packets.Add(b.nextPN)
	sendTotals.resent.Add(uint64(b.lostPkts + b.ptoFired))
	b.mu.Unlock()
	if err != nil {
		_ = m.write(bulkAbort{tag: recBulkAbort, id: b.id, code: abortCanceled}.append(newMessage(bulkAbortSize)))
		return total, err
	}
	return total, ctxErr(ctx, st.WriteEnd(total))
}

// run is the sender's loop: read the body into the ring, send what the
// window, the congestion window and the pacing budget allow, resend what
// was lost, until the receiver holds every byte.
func (b *bulkSend) run(ctx context.Context, head []byte, r io.Reader) (int64, error) {
	var bufs [sendBatch][]byte
	for i := range bufs {
		bufs[i] = newMessage(bulkDataHeader + bulkMaxChunk)
	}
	timer := time.NewTimer(windowProbe)
	defer timer.Stop()
	var budget float64
	var lastRefill int64
	for {
		now := b.now()
		b.mu.Lock()
		if b.err != nil {
			err, acked := b.err, b.cumAck
			b.mu.Unlock()
			return acked, err
		}
		if now-b.lastHeard > int64(IdleTimeout) {
			acked := b.cumAck
			b.mu.Unlock()
			return acked, fmt.Errorf("send body after %d bytes: %w (%v)", acked, ErrStalled, time.Duration(now-b.lastHeard).Round(time.Millisecond))
		}
		if b.chunk != 0 && !b.started {
			b.start(head)
			lastRefill = now
			budget = float64(ccInitialWindow * b.chunk)
		}
		if !b.started {
			b.mu.Unlock()
			if err := b.wait(ctx, timer, windowProbe); err != nil {
				return 0, err
			}
			continue
		}
		if b.eof && b.cumAck == b.readOff {
			total := b.readOff
			if b.cc.state == ccProbeBW {
				b.mux.notePath(pathEstimate{bw: b.cc.carried(), minRTT: b.cc.minRTT, at: time.Now(), cap: b.cc.finiteCap(),
					queuedShare: b.cc.bgQueuedShare, peak: b.cc.peakBw}, b.background)
			}
			b.logDone(total)
			b.mu.Unlock()
			return total, nil
		}
		b.checkPTO(now)

		rate := b.cc.pacingRate()
		burst := max(float64(sendBatch*b.chunk), rate*float64(ccAckSlack)/1e9)
		budget = min(budget+rate*float64(now-lastRefill)/1e9, burst)
		lastRefill = now
		batch := 0
		cwnd := b.cc.cwnd()
		limited := false
		// Probes go whatever the window and the pacing say: when the
		// whole flight was lost (a receiver's socket buffer overflowed),
		// the window is full of packets no ack will ever mention, and
		// only a probe's ack can declare them lost.
		for batch < sendBatch && ((budget > 0 && b.inflight+b.chunk <= cwnd) || b.probes > 0) {
			off, n, ok := b.nextToSend()
			if !ok {
				limited = true
				break
			}
			if b.probes > 0 {
				b.probes--
			}
			bufs[batch] = b.packet(bufs[batch][:bulkPrefix], off, n, now)
			budget -= float64(n)
			batch++
		}
		if limited && b.inflight+b.chunk <= cwnd && b.appLimited == 0 {
			b.appLimited = max(b.delivered+int64(b.inflight), 1)
		}
		space := b.space()
		// Read ahead of what was sent only a little: the window holds
		// what is in flight, not the file.
		wantRead := !b.eof && b.readOff-b.nextOff < readAhead &&
			(space >= readSize || (limited && space > 0 && b.nextOff >= b.readOff))
		var pause time.Duration
		switch {
		case budget <= 0 && rate > 0:
			// Paced: wait until a batch may go.
			pause = time.Duration((float64(sendBatch/2*b.chunk) - budget) / rate * 1e9)
		default:
			pause = b.ptoDeadline(now)
		}
		b.mu.Unlock()

		if err := b.mux.writeBatch(bufs[:batch]); err != nil {
			return b.cumAckNow(), fmt.Errorf("send body: %w", err)
		}
		if wantRead {
			if err := b.read(r); err != nil {
				return b.cumAckNow(), err
			}
			continue
		}
		if batch > 0 && budget > 0 {
			continue
		}
		if err := b.wait(ctx, timer, pause); err != nil {
			return b.cumAckNow(), err
		}
	}
}

func (b *bulkSend) cumAckNow() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cumAck
}

// wait blocks until an ack, the timer, or the end of ctx or the session.
func (b *bulkSend) wait(ctx context.Context, timer *time.Timer, d time.Duration) error {
	timer.Reset(max(d, 20*time.Microsecond))
	select {
	case <-b.wake:
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.mux.closed:
		return fmt.Errorf("send body: %w", errs.Closed)
	}
	return nil
}

// start sets the transfer up once the receiver's first ack fixed the
// chunk size.
func (b *bulkSend) start(head []byte) {
	b.started = true
	b.ring = newPagedRing(Window, b.chunk)
	b.acked = make([]bool, b.ring.size/int64(b.chunk))
	for len(head) > 0 && b.space() > 0 {
		n := copy(b.ring.fill(b.readOff, b.space()), head)
		head = head[n:]
		b.readOff += int64(n)
	}
	now := time.Now()
	b.cc = newBulkCC(b.chunk, b.firstRTT, now)
	b.cc.background = b.background
	if e, ok := b.mux.recentPath(now, b.background); ok {
		b.cc.seed(e, now)
	}
}

// end gives the window's pages back.
func (b *bulkSend) end() {
	b.mu.Lock()
	if b.started {
		b.ring.close()
	}
	b.mu.Unlock()
}

// space is how many more bytes of the body the window takes now. A page
// the receiver does not yet hold all of takes no bytes of the next lap:
// pages are freed whole, by acknowledgement.
func (b *bulkSend) space() int64 {
	return b.ring.size - (b.readOff - b.ring.pageStart(b.cumAck))
}

// read fills free window space from the body (up to a page's end).
func (b *bulkSend) read(r io.Reader) error {
	b.mu.Lock()
	buf := b.ring.fill(b.readOff, min(b.space(), readSize))
	b.mu.Unlock()
	n, err := io.ReadFull(r, buf)
	b.mu.Lock()
	b.readOff += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		b.eof, err = true, nil
	}
	b.mu.Unlock()
	return err
}

// nextToSend picks a lost chunk to resend, else the next new chunk. A
// short chunk marks the end of the body, so one goes only at EOF.
func (b *bulkSend) nextToSend() (int64, int, bool) {
	for len(b.retx) > 0 {
		e := b.retx[0]
		b.retx = b.retx[1:]
		if e.off >= b.cumAck && !b.acked[b.slot(e.off)] {
			return e.off, int(e.n), true
		}
	}
	avail := b.readOff - b.nextOff
	if avail <= 0 || (avail < int64(b.chunk) && !b.eof) {
		return 0, 0, false
	}
	n := int(min(avail, int64(b.chunk)))
	if b.nextOff+int64(n) > b.limit {
		return 0, 0, false
	}
	off := b.nextOff
	b.nextOff += int64(n)
	return off, n, true
}

func (b *bulkSend) slot(off int64) int {
	return int((off / int64(b.chunk)) % int64(len(b.acked)))
}

// packet builds the record for chunk [off, off+n) and records it as sent.
func (b *bulkSend) packet(dst []byte, off int64, n int, now int64) []byte {
	pn := b.nextPN
	b.nextPN++
	if b.appLimited != 0 && b.delivered > b.appLimited {
		b.appLimited = 0
	}
	if b.inflight == 0 {
		// Nothing in flight: the rate sample's interval starts now.
		b.firstSentAt, b.deliveredAt = now, now
	}
	b.pkts = append(b.pkts, sentPkt{
		off: off, n: int32(n), sentAt: now,
		delivered: b.delivered, deliveredAt: b.deliveredAt, firstSentAt: b.firstSentAt,
		appLimited: b.appLimited != 0,
	})
	b.inflight += n
	dst = appendBulkDataHeader(dst, b.id, pn, off)
	return append(dst, b.ring.span(off, off+int64(n))...)
}

// lossDelay is how long after its sending a packet below the largest
// acknowledged one counts as lost (RFC 9002's time threshold).
func (b *bulkSend) lossDelay() int64 {
	return int64(max(max(b.srtt, b.latestRTT)*9/8, minLossDelay))
}

func (b *bulkSend) pto() int64 {
	d := b.srtt + max(4*b.rttvar, time.Millisecond) + ackDelay
	return int64(max(d, minPTO)) << min(b.ptoCount, 6)
}

// ptoDeadline is how long until the probe timeout of the oldest packet in
// flight (or a window probe's interval when nothing is in flight).
func (b *bulkSend) ptoDeadline(now int64) time.Duration {
	for i := range b.pkts {
		if b.pkts[i].state == pktInflight {
			// After a probe, the next one waits for the backed-off timeout.
			return time.Duration(max(b.pkts[i].sentAt, b.lastProbe) + b.pto() - now)
		}
	}
	return windowProbe
}

// checkPTO sends a probe when the oldest packet in flight is overdue (a
// lost tail, a lost ack, or a stalled receiver): its chunk goes again, and
// the acks the probe draws declare the real losses (RFC 9002's PTO).
func (b *bulkSend) checkPTO(now int64) {
	for i := range b.pkts {
		p := &b.pkts[i]
		if p.state != pktInflight {
			continue
		}
		if now-p.sentAt >= b.pto() && now-b.lastProbe >= b.pto() {
			b.retx = append(b.retx, retxEntry{p.off, p.n})
			b.probes = 2
			b.lastProbe = now
			b.ptoFired++
			b.ptoCount++
		}
		return
	}
}

func (b *bulkSend) lose(p *sentPkt) {
	p.state = pktLost
	b.lostPkts++
	b.inflight -= int(p.n)
	if p.off >= b.cumAck && !b.acked[b.slot(p.off)] {
		b.retx = append(b.retx, retxEntry{p.off, p.n})
	}
}

// trim drops settled packets from the front of the history.
func (b *bulkSend) trim() {
	k := 0
	for k < len(b.pkts) && b.pkts[k].state != pktInflight {
		k++
	}
	if k > 0 {
		b.pkts = b.pkts[k:]
		b.pnBase += uint64(k)
	}
}

// onAck takes the receiver's ack; it runs on the session's datagram reader.
func (b *bulkSend) onAck(a *bulkAck) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return
	}
	b.lastHeard = now
	if b.chunk == 0 {
		if a.chunk > b.mux.maxChunk {
			b.failLocked(fmt.Errorf("%w: receiver asks for %d-byte chunks", errs.Protocol, a.chunk))
			return
		}
		b.chunk = a.chunk
		b.firstRTT = time.Duration(now)
		b.limit = a.limit
		b.signal()
		return
	}
	if !b.started {
		b.limit = max(b.limit, a.limit)
		return
	}
	if a.chunk != b.chunk || a.cum > b.nextOff || (len(a.ranges) > 0 && a.ranges[0].hi >= b.nextPN) {
		b.failLocked(fmt.Errorf("%w: bulk ack for data never sent", errs.Protocol))
		return
	}
	b.limit = max(b.limit, a.limit)
	if a.cum > b.cumAck {
		for off := b.cumAck - b.cumAck%int64(b.chunk); off < a.cum; off += int64(b.chunk) {
			b.acked[b.slot(off)] = false
		}
		b.ring.release(b.cumAck, a.cum)
		b.cumAck = a.cum
	}

	var newest *sentPkt
	var acked int64
	var rtt time.Duration
	for _, rg := range a.ranges {
		if rg.hi < b.pnBase {
			break
		}
		for pn := max(rg.lo, b.pnBase); pn <= rg.hi; pn++ {
			p := &b.pkts[pn-b.pnBase]
			if p.state == pktAcked {
				continue
			}
			if p.state == pktInflight {
				b.inflight -= int(p.n)
			}
			p.state = pktAcked
			if p.off >= b.cumAck {
				b.acked[b.slot(p.off)] = true
			}
			b.delivered += int64(p.n)
			acked += int64(p.n)
			if newest == nil || p.sentAt > newest.sentAt {
				newest = p
			}
			if pn == a.ranges[0].hi && (!b.anyAcked || pn > b.largest) {
				rtt = time.Duration(now - p.sentAt)
				if d := time.Duration(a.delay) * time.Microsecond; rtt-d >= b.cc.minRTT {
					rtt -= d
				}
			}
		}
	}
	if len(a.ranges) > 0 && (!b.anyAcked || a.ranges[0].hi > b.largest) {
		b.largest, b.anyAcked = a.ranges[0].hi, true
	}
	if rtt > 0 {
		b.updateRTT(rtt)
	}
	var rs rateSample
	if newest != nil {
		b.deliveredAt = now
		b.firstSentAt = newest.sentAt
		rs = rateSample{
			delivered:      b.delivered - newest.delivered,
			interval:       time.Duration(max(newest.sentAt-newest.firstSentAt, now-newest.deliveredAt)),
			appLimited:     newest.appLimited,
			priorDelivered: newest.delivered,
		}
		b.ptoCount = 0
	}

	// Losses: packets well below the largest acknowledged one.
	var lost int64
	if b.anyAcked {
		delay := b.lossDelay()
		for i := range b.pkts {
			pn := b.pnBase + uint64(i)
			if pn >= b.largest {
				break
			}
			p := &b.pkts[i]
			if p.state == pktInflight && (b.largest-pn >= reorderThreshold || now-p.sentAt > delay) {
				b.lose(p)
				lost += int64(p.n)
			}
		}
	}
	b.trim()
	b.cc.onAck(time.Now(), rs, rtt, b.delivered, acked, lost, b.inflight)
	b.signal()
}

func (b *bulkSend) updateRTT(rtt time.Duration) {
	b.latestRTT = rtt
	if b.srtt == 0 {
		b.srtt, b.rttvar = rtt, rtt/2
		return
	}
	d := b.srtt - rtt
	if d < 0 {
		d = -d
	}
	b.rttvar = (3*b.rttvar + d) / 4
	b.srtt = (7*b.srtt + rtt) / 8
}

func (b *bulkSend) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *bulkSend) fail(err error) {
	b.mu.Lock()
	b.failLocked(err)
	b.mu.Unlock()
}

func (b *bulkSend) failLocked(err error) {
	if b.err == nil {
		b.err = err
		b.signal()
	}
}

// logDone reports a finished transfer's figures at debug level.
func (b *bulkSend) logDone(total int64) {
	log := b.mux.log
	if log == nil || !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	el := time.Since(b.t0)
	log.Debug("bulk send done", "bytes", total, "seconds", el.Seconds(),
		"mb_per_s", float64(total)/1e6/el.Seconds(), "packets", b.nextPN, "lost", b.lostPkts,
		"probes", b.ptoFired, "bw_mb_per_s", b.cc.bw.get()/1e6, "bw_cap", b.cc.bwCap/1e6,
		"min_rtt", b.cc.minRTT, "srtt", b.srtt, "cwnd", b.cc.cwnd(), "state", b.cc.state, "rounds", b.cc.round)
}
