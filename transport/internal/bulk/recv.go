package bulk

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

const (
	// ackEvery is the most data packets the receiver takes before it
	// acknowledges. Usually it acknowledges sooner: when it has handled
	// every datagram one read brought (Mux.FlushAcks), and at once on
	// out-of-order arrivals.
	ackEvery = 64
	// ackDelay bounds how long a received packet waits for its ack.
	ackDelay = time.Millisecond
	// windowProbe is how often a receiver that gets no data repeats its
	// ack, so a lost ack or window update cannot stall a transfer.
	windowProbe = 50 * time.Millisecond
	// maxRecvRanges bounds the packet-number ranges a receiver keeps.
	maxRecvRanges = 2 * bulkMaxRanges
	// windowAdjustEvery is how often the receiver reconsiders the window
	// it advertises: many round trips on a LAN, a few on a VPN.
	windowAdjustEvery = 50 * time.Millisecond
	// minAdvertised is the least window a receiver whose writer lags
	// advertises: a LAN's round trip at several Gbit/s, so the writer
	// never waits for the sender.
	minAdvertised = 1 << 20
)

// recvHeld is the bytes of window pages the receivers of this process
// hold (ReceiveHeld).
var recvHeld atomic.Int64

// ReceiveHeld reports how many bytes of window pages the bodies this
// process receives hold now: what arrived and waits for its writer (or
// for a gap before it to fill).
func ReceiveHeld() int64 { return recvHeld.Load() }

// bulkRecv is the receiving end of one bulk transfer. Data packets land in
// a ring (the window) at their offset; the application's writer drains it
// in order.
type bulkRecv struct {
	mux   *Mux
	id    uint32
	chunk int
	limit int64 // < 0: none

	mu      sync.Mutex
	win     pagedRing
	lens    []int32 // per ring slot: bytes held, 0 if none
	base    int64   // bytes handed to the writer; the ring starts here
	cum     int64   // bytes received without a gap
	final   int64   // body size once a short (last) chunk came, else -1
	highest int64   // end of the highest chunk received
	ranges  []pnRange
	largeAt time.Time // when the largest packet number arrived
	pending int       // packets not yet acknowledged
	sentLim int64     // limit of the last ack sent
	// adv is the window advertised beyond base, at most win.size: it
	// shrinks while the writer lags behind what arrives (see adjustWindow).
	adv      int64
	minHeld  int64     // least bytes waiting for the writer since adjustAt
	limitHit bool      // the sender reached the advertised limit since adjustAt
	adjustAt time.Time // when adv was last reconsidered
	lastAck  time.Time
	lastRx   time.Time
	err      error
	ack      bulkAck
	ackBuf   []byte

	wake chan struct{}
}

// Receive takes the body a peer announced on s with startFrame (the
// payload of its start frame) into w, at most limit bytes (negative: no
// limit), and returns its length once s brought the end and every byte
// arrived in order.
func (m *Mux) Receive(ctx context.Context, s Stream, startFrame []byte, w io.Writer, limit int64) (int64, error) {
	start, err := decodeBulkStart(startFrame)
	if err != nil {
		return 0, err
	}
	r := &bulkRecv{
		mux:     m,
		id:      start.id,
		chunk:   min(start.maxChunk, m.maxChunk),
		limit:   limit,
		final:   -1,
		wake:    make(chan struct{}, 1),
		lastRx:  time.Now(),
		ranges:  make([]pnRange, 0, maxRecvRanges+1),
		ackBuf:  newMessage(bulkAckFixed + 8*bulkMaxRanges),
		sentLim: -1,
	}
	// The window never exceeds what the receiver accepts: a body known to
	// be small (a file list, a small file) takes a small ring, not Window.
	// Whole chunks only, so that a chunk never wraps around the ring.
	r.win = newPagedRing(ringSize(limit, r.chunk), r.chunk)
	r.win.count = &recvHeld
	r.adv, r.minHeld, r.adjustAt = r.win.size, math.MaxInt64, time.Now()
	defer r.end()
	r.lens = make([]int32, r.win.size/int64(r.chunk))
	if err := m.addIn(r); err != nil {
		return 0, err
	}
	flowBegan()
	defer m.removeIn(r)

	// The stream carries the end: read it alongside the data.
	stop := s.Watch(ctx)
	defer stop()
	type endResult struct {
		total int64
		err   error
	}
	ends := make(chan endResult, 1)
	go func() {
		total, err := s.ReadEnd()
		ends <- endResult{total: total, err: err}
	}()
	readerDone := false
	defer func() {
		if !readerDone {
			// Unblock the frame reader and wait for it: it must not
			// outlive the call (the caller owns the stream again).
			_ = s.SetReadDeadline(time.Now())
			<-ends
			_ = s.SetReadDeadline(time.Time{})
		}
	}()

	r.sendAck(time.Now()) // the window: the sender starts on it
	total := int64(-1)
	timer := time.NewTimer(windowProbe)
	defer timer.Stop()
	for {
		// Hand what arrived in order to the writer.
		r.mu.Lock()
		from, to, err := r.base, r.cum, r.err
		r.mu.Unlock()
		if err != nil {
			return from, err
		}
		if total >= 0 && to > total {
			r.abort(abortProtocol)
			return from, fmt.Errorf("%w: %d bytes arrived for a body of %d", errs.Protocol, to, total)
		}
		if to > from {
			if err := r.deliver(w, from, to); err != nil {
				r.abort(abortCanceled)
				return from, err
			}
			continue
		}
		if total >= 0 && from == total {
			return total, nil
		}
		select {
		case <-r.wake:
		case e := <-ends:
			readerDone = true
			if e.err != nil {
				r.abort(abortCanceled)
				return from, ctxErr(ctx, e.err)
			}
			total = e.total
			r.mu.Lock()
			bad := r.final >= 0 && r.final != total || r.highest > total
			cum := r.cum
			r.mu.Unlock()
			if bad || total < from {
				r.abort(abortProtocol)
				return from, fmt.Errorf("%w: body end says %d bytes, data says otherwise", errs.Truncated, total)
			}
			if cum < total {
				// The sender ends only once everything is acknowledged.
				return from, fmt.Errorf("%w: got %d of %d bytes", errs.Truncated, cum, total)
			}
		case <-ctx.Done():
			r.abort(abortCanceled)
			return from, ctx.Err()
		case <-m.closed:
			return from, fmt.Errorf("receive body: %w", errs.Closed)
		case <-timer.C:
		}
		now := time.Now()
		r.mu.Lock()
		idle := now.Sub(r.lastRx)
		due := r.pending > 0 && now.Sub(r.largeAt) >= ackDelay
		probe := now.Sub(r.lastAck) >= windowProbe && r.final < 0
		r.mu.Unlock()
		if idle > IdleTimeout {
			r.abort(abortCanceled)
			return from, fmt.Errorf("receive body after %d bytes: %w (%v)", from, ErrStalled, idle.Round(time.Millisecond))
		}
		if due || probe {
			r.sendAck(now)
		}
		next := windowProbe
		r.mu.Lock()
		if r.pending > 0 {
			next = ackDelay
		}
		r.mu.Unlock()
		timer.Reset(next)
	}
}

// end gives the window back once Receive returns; a packet the session's
// reader hands over after that is dropped.
func (r *bulkRecv) end() {
	r.mu.Lock()
	if r.err == nil {
		r.err = errs.Closed
	}
	r.win.close()
	r.mu.Unlock()
}

// deliver writes window bytes [from, to) to w and frees their slots and
// the pages they leave.
func (r *bulkRecv) deliver(w io.Writer, from, to int64) error {
	for from < to {
		// Read outside the lock: onData does not touch these slots
		// until base has moved past them.
		r.mu.Lock()
		b := r.win.span(from, to)
		r.mu.Unlock()
		if len(b) == 0 {
			return fmt.Errorf("%w: bulk window lost bytes at %d", errs.Protocol, from)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		n := int64(len(b))
		r.mu.Lock()
		for off := from; off < from+n; off += int64(r.chunk) {
			r.lens[(off/int64(r.chunk))%int64(len(r.lens))] = 0
			r.win.clear(off)
		}
		r.base += n
		// Tell a sender that may be waiting for room; acks carry the
		// window anyway while data flows.
		update := r.base+r.adv-r.sentLim >= r.adv/4
		r.mu.Unlock()
		from += n
		if update {
			r.sendAck(time.Now())
		}
	}
	return nil
}

// onData takes one data packet; it runs on the session's datagram reader.
func (r *bulkRecv) onData(d bulkData) {
	now := time.Now()
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	n := int64(len(d.payload))
	chunk := int64(r.chunk)
	switch {
	case d.off%chunk != 0 || n > chunk:
		r.failLocked(fmt.Errorf("%w: bulk chunk of %d bytes at %d (chunk size %d)", errs.Protocol, n, d.off, chunk))
		r.mu.Unlock()
		r.abort(abortProtocol)
		return
	case r.limit >= 0 && d.off+n > r.limit:
		r.failLocked(fmt.Errorf("%w: body exceeds %d bytes", errs.FrameTooLarge, r.limit))
		r.mu.Unlock()
		r.abort(abortTooLarge)
		return
	case r.final >= 0 && d.off+n > r.final,
		n < chunk && (r.highest > d.off+n || r.final >= 0 && r.final != d.off+n):
		r.failLocked(fmt.Errorf("%w: bulk data past the body's end", errs.Protocol))
		r.mu.Unlock()
		r.abort(abortProtocol)
		return
	case d.off+n > r.base+r.win.size:
		// Beyond the window (the sender overran it): dropped and not
		// acknowledged, so it is sent again.
		r.mu.Unlock()
		return
	}
	r.lastRx = now
	if d.off+n >= r.sentLim {
		r.limitHit = true
	}
	gap := r.notePN(d.pn, now)
	if d.off >= r.cum {
		slot := (d.off / chunk) % int64(len(r.lens))
		if r.lens[slot] == 0 {
			r.win.put(d.off, d.payload)
			r.lens[slot] = int32(n)
			r.highest = max(r.highest, d.off+n)
			if n < chunk {
				r.final = d.off + n
			}
			advanced := false
			for r.cum < r.base+r.win.size {
				l := r.lens[(r.cum/chunk)%int64(len(r.lens))]
				if l == 0 {
					break
				}
				r.cum += int64(l)
				advanced = true
				if int64(l) < chunk {
					break
				}
			}
			if advanced {
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
		}
	}
	r.pending++
	now2 := r.pending >= ackEvery || gap || r.cum == r.final
	first := r.pending == 1
	r.mu.Unlock()
	if now2 {
		r.sendAck(now)
	} else if first {
		r.mux.ackLater(r)
	}
}

// notePN records a received packet number and reports whether it arrived
// out of order (which is acknowledged at once, to speed up recovery).
func (r *bulkRecv) notePN(pn uint64, now time.Time) bool {
	if len(r.ranges) == 0 {
		r.ranges = append(r.ranges, pnRange{pn, pn})
		r.largeAt = now
		return pn != 0
	}
	top := &r.ranges[0]
	switch {
	case pn == top.hi+1:
		top.hi = pn
		r.largeAt = now
		return false
	case pn > top.hi+1:
		r.ranges = append(r.ranges, pnRange{})
		copy(r.ranges[1:], r.ranges)
		r.ranges[0] = pnRange{pn, pn}
		r.largeAt = now
		if len(r.ranges) > maxRecvRanges {
			r.ranges = r.ranges[:maxRecvRanges]
		}
		return true
	}
	// Below the largest: fill in.
	for i := range r.ranges {
		rg := &r.ranges[i]
		if pn >= rg.lo && pn <= rg.hi {
			return false // duplicate
		}
		if pn == rg.lo-1 {
			rg.lo = pn
			if i+1 < len(r.ranges) && r.ranges[i+1].hi+1 == pn {
				rg.lo = r.ranges[i+1].lo
				r.ranges = append(r.ranges[:i+1], r.ranges[i+2:]...)
			}
			return true
		}
		if pn > rg.hi {
			if pn == rg.hi+1 { // cannot happen for i == 0 (handled above)
				rg.hi = pn
				return true
			}
			r.ranges = append(r.ranges, pnRange{})
			copy(r.ranges[i+1:], r.ranges[i:])
			r.ranges[i] = pnRange{pn, pn}
			if len(r.ranges) > maxRecvRanges {
				r.ranges = r.ranges[:maxRecvRanges]
			}
			return true
		}
	}
	if len(r.ranges) < maxRecvRanges {
		r.ranges = append(r.ranges, pnRange{pn, pn})
	}
	return true
}

// adjustWindow sizes the advertised window to the writer, as TCP's
// receive autotuning does: bytes that wait in the window for a writer
// slower than the link (a busy disk, a process short of CPU) hold memory
// and speed nothing up. When at least a quarter of the window waited all
// through the last interval, the window shrinks by half of what waited
// (not below minAdvertised); when the sender ran into the limit while
// little waited, the window is what holds the transfer back and it
// doubles, up to the ring. It starts whole, so a transfer whose writer
// keeps up never sees it change. The caller holds r.mu.
func (r *bulkRecv) adjustWindow(now time.Time) {
	r.minHeld = min(r.minHeld, r.cum-r.base)
	if now.Sub(r.adjustAt) < windowAdjustEvery {
		return
	}
	switch floor := min(int64(minAdvertised), r.win.size); {
	case r.minHeld >= r.adv/4:
		r.adv = max(floor, r.adv-r.minHeld/2)
	case r.limitHit && r.minHeld < r.adv/8:
		r.adv = min(r.win.size, 2*r.adv)
	}
	r.minHeld, r.limitHit, r.adjustAt = math.MaxInt64, false, now
}

// sendAck acknowledges what arrived and advertises the window.
func (r *bulkRecv) sendAck(now time.Time) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	a := &r.ack
	a.id = r.id
	a.cum = r.cum
	r.adjustWindow(now)
	// Never below a limit already sent: the sender may have used it.
	a.limit = max(r.base+r.adv, r.sentLim)
	a.chunk = r.chunk
	a.delay = 0
	a.ranges = a.ranges[:0]
	for _, rg := range r.ranges {
		if len(a.ranges) == bulkMaxRanges {
			break
		}
		if len(a.ranges) > 0 && a.ranges[len(a.ranges)-1].lo-rg.hi > math.MaxUint32 {
			break
		}
		if rg.hi-rg.lo > math.MaxUint32 {
			rg.lo = rg.hi - math.MaxUint32
			a.ranges = append(a.ranges, rg)
			break
		}
		a.ranges = append(a.ranges, rg)
	}
	if len(a.ranges) > 0 {
		a.delay = uint32(min(now.Sub(r.largeAt).Microseconds(), math.MaxUint32))
	}
	r.ackBuf = a.append(r.ackBuf[:bulkPrefix])
	r.pending = 0
	r.sentLim = a.limit
	r.lastAck = now
	// Written under the lock so acks leave in order and ackBuf is free
	// again after.
	_ = r.mux.write(r.ackBuf)
	r.mu.Unlock()
}

// abort tells the sender to stop.
func (r *bulkRecv) abort(code byte) {
	_ = r.mux.write(bulkAbort{tag: recBulkStop, id: r.id, code: code}.append(newMessage(bulkAbortSize)))
}

func (r *bulkRecv) fail(err error) {
	r.mu.Lock()
	r.failLocked(err)
	r.mu.Unlock()
}

func (r *bulkRecv) failLocked(err error) {
	if r.err == nil {
		r.err = err
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}
