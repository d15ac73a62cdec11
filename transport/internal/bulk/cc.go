package bulk

import (
	"math"
	"slices"
	"time"
)

// bulkCC is the bulk sender's rate control, modelled on BBR (RFC draft
// draft-cardwell-iccrg-bbr-congestion-control): it paces at the measured
// bottleneck bandwidth and caps the bytes in flight at a few round trips'
// worth, so it fills a link without filling its queue. Unlike loss-based
// control, random loss alone does not make it slow down; it backs off
// when the loss rate over a long enough window exceeds bbrLossThresh (a
// real overload, not noise), and when the queueing delay it measures
// exceeds ccDelayTarget.
type bulkCC struct {
	chunk int

	state      ccState
	pacingGain float64
	cwndGain   float64

	bw       bwFilter // bytes/s, max over the last ccBwRounds rounds
	bwCap    float64  // set by the loss response; +Inf when none
	minRTT   time.Duration
	minRTTAt time.Time

	// Rounds: a round ends when a packet sent after it began is acked.
	round          int64
	roundDelivered int64 // delivered count that ends the current round
	roundMinRTT    time.Duration

	// Startup's exit: the bandwidth stopped growing.
	fullBw      float64
	fullBwCount int

	// ProbeBW's gain cycle.
	cycle      int
	cycleStart time.Time
	drainNext  bool

	// Loss accounting over windows of at least ccLossWindow packets.
	winSent, winLost int64

	// recentRate is the delivery rate over the last ccRateWindow: what
	// the path really carried, where a rate sample over a fraction of a
	// round trip may have caught a burst (a token bucket's refill lets
	// one through at wire speed).
	recentRate float64
	rateMark   int64
	rateMarkAt time.Time

	roundSamples int

	// ackGap is how far the path bunches its acks (Wi-Fi's frame
	// aggregation, a receiver that batches): the least, over the last
	// ccGapRounds rounds, of each round's longest wait between acks that
	// acknowledged data. The window covers it on top of ccAckSlack, so
	// that a path whose acks come in bursts is not held below its rate
	// (a window of 1.25 × (RTT + 2 ms) took 61% of a 2 ms path that acks
	// every 4 ms; TestBulkCCAckAggregation). The least of several rounds,
	// because a hiccup (a busy CPU, a collection) makes one long wait in
	// one round and a window grown for it overfilled the shaper's queue
	// at 2.5 Gbit/s (0.82 of bare TLS instead of 0.88).
	ackGap    time.Duration
	roundGaps [ccGapRounds]time.Duration
	lastAckAt time.Time

	// background makes the sender yield to other traffic, as LEDBAT
	// (RFC 6817) does: it takes a smaller queueing delay as a sign of
	// others on the path, halves its rate at each such round down to a
	// floor, and grows again only in rounds without queueing. Alone, it
	// sees no queue but its own and takes the link as a normal transfer.
	background bool
	// peakBw is the highest rate the transfer was delivered at over
	// ccRateWindow (not the bandwidth estimate, which a burst inflates):
	// the background floor is a share of it.
	peakBw float64
	// bgQueuedShare is the share of recent rounds that saw a queue
	// (a moving average over bgShareRounds rounds).
	bgQueuedShare float64
}

type ccState uint8

const (
	ccStartup ccState = iota
	ccDrain
	ccProbeBW
)

const (
	ccStartupGain = 2.885 // 2/ln 2: doubles the rate each round
	ccBwRounds    = 10
	// ccLossThresh is the loss rate that means overload. Random loss on
	// a lossy but idle link (0.5% on docs/performance.md's shaped link) stays well below it.
	ccLossThresh = 0.02
	// ccLossWindow is the packets a loss rate is measured over: enough
	// that 0.5% random loss practically never looks like 2%.
	ccLossWindow = 600
	// ccDelayTarget is the queueing delay (RTT above the minimum) the
	// sender tolerates before it drains: small requests share the path.
	// 3 ms, not 2: two ranges of a download in flight (two transfers,
	// each with its own model) make more than 2 ms of queue between them
	// in rounds where neither overfills the shaper, and each such round
	// cut both by 15%: on linkbench's 2.5 Gbit/s link 0.875 of bare TLS
	// at 2 ms, 0.893 at 3 ms (medians of 10 and 14 runs); shaper drops
	// stayed at 0.01-0.09% of packets (docs/performance.md).
	ccDelayTarget = 3 * time.Millisecond
	// bgStandingTarget is a background transfer's standing-queue target:
	// it keeps 2 ms, since a queue of its own above bgDelayTarget in most
	// rounds reads as others' traffic, and at 3 ms it yielded to itself
	// (alone: 0.90-0.94 of a default get's speed against 0.95-0.98).
	bgStandingTarget = 2 * time.Millisecond
	// ccAckSlack is what a round trip takes on top of the path's RTT:
	// the receiver's delayed acks and both ends' scheduling.
	ccAckSlack = 2 * time.Millisecond
	// ccMinRTTWindow is how long a minimum RTT sample stays valid.
	ccMinRTTWindow = 10 * time.Second
	// ccInitialWindow is the packets sent before the first measurement.
	ccInitialWindow = 32
	// ccBackOff is the rate cut on overload or a standing queue, and
	// ccRaise the cap's growth per clean round.
	ccBackOff = 0.85
	ccRaise   = 1.02
	// ccMinSamples is the RTT samples a round needs before its minimum
	// counts as queueing delay (a single late ack may be scheduling).
	ccMinSamples = 4
	// ccRateWindow is the interval recentRate is measured over.
	ccRateWindow = 20 * time.Millisecond
	// ccCruiseCwndGain is the window over the model's BDP once cruising,
	// and ccRecentHeadroom how far above the rate the path delivered over
	// the last ccRateWindow the bandwidth in that BDP may be. The BDP
	// already counts ccAckSlack for late acks; BBR's gain of 2 on top of a
	// bandwidth estimate that a token bucket's bursts inflate kept up to
	// 4 ms and more of queue in flight, and on linkbench's tbf link (5 ms
	// of queue) the queue overflowed about once per 8 MiB range, dropping
	// whole 40-packet segmented sends: 1.5-2% of packets resent on a clean
	// link, 0.01-0.06% with these (docs/transport.md).
	ccCruiseCwndGain = 1.25
	ccRecentHeadroom = 1.25
	// ccGapRounds is the rounds ackGap takes the least of.
	ccGapRounds = 4

	// A background transfer's delay target, cut and floor: it takes a
	// queue of 0.5 ms (or one base RTT) as a sign of others' traffic,
	// halves its rate at each round that sees it once it sees one in most
	// rounds, and keeps at least 5% of the highest rate it was delivered
	// at (and at least 64 KiB/s), so that its RTT samples go on telling
	// when the others are gone.
	bgDelayTarget = 500 * time.Microsecond
	bgBackOff     = 0.5
	bgFloorShare  = 0.05
	bgFloorMin    = 64 << 10
	// bgShareRounds is the rounds the share of queued rounds is averaged
	// over; bgRaise is the cap's growth per clean round while others
	// are on the path.
	bgShareRounds = 20
	bgShareYield  = 0.6
	bgRaise       = 1.005
)

var probeGains = [...]float64{1.25, 0.75, 1, 1, 1, 1, 1, 1}

func newBulkCC(chunk int, rtt time.Duration, now time.Time) *bulkCC {
	c := &bulkCC{
		chunk:      chunk,
		state:      ccStartup,
		pacingGain: ccStartupGain,
		cwndGain:   ccStartupGain,
		bwCap:      math.Inf(1),
		minRTT:     max(rtt, 50*time.Microsecond),
		minRTTAt:   now,
	}
	c.roundMinRTT = time.Duration(math.MaxInt64)
	return c
}

// seed starts the model from what an earlier transfer on the same path
// measured: at that bandwidth, cruising, instead of in startup. Real
// samples replace the seed within ccBwRounds rounds if the path is slower
// now (another transfer shares it); the delay and loss responses act at
// once if it overloads.
func (c *bulkCC) seed(e pathEstimate, now time.Time) {
	c.bw.update(e.bw, c.round)
	if e.cap > 0 {
		// The cap too: a transfer that starts above it overflows the
		// queue that set it (a download is a chain of 8 MiB ranges).
		c.bwCap = e.cap
	}
	if e.minRTT > 0 && e.minRTT < c.minRTT {
		c.minRTT = e.minRTT
	}
	c.bgQueuedShare, c.peakBw = e.queuedShare, e.peak
	c.enterProbeBW()
	c.cycleStart = now
}

// bandwidth is the current bottleneck estimate in bytes per second.
func (c *bulkCC) bandwidth() float64 {
	bw := c.bw.get()
	if bw == 0 {
		// Before any sample: the initial window per RTT.
		bw = float64(ccInitialWindow*c.chunk) / (c.minRTT + ccAckSlack).Seconds()
	}
	return min(bw, c.bwCap)
}

// pacingRate is the rate to send at, in bytes per second: never above
// a cap, whatever the gain.
func (c *bulkCC) pacingRate() float64 {
	bw := c.bw.get()
	if bw == 0 {
		bw = c.bandwidth()
	}
	return min(c.pacingGain*bw, c.bwCap)
}

// cwnd is the most bytes the sender may have in flight.
func (c *bulkCC) cwnd() int {
	bw := c.bandwidth()
	if c.state == ccProbeBW && c.recentRate > 0 {
		bw = min(bw, ccRecentHeadroom*c.recentRate)
	}
	slack := ccAckSlack
	if !c.background {
		// A background transfer keeps to the tight window: a queue of
		// its own in most rounds would read as others' and make it yield.
		slack = max(slack, c.ackGap)
	}
	bdp := bw * (c.minRTT + slack).Seconds()
	w := int(c.cwndGain * bdp)
	return max(w, ccInitialWindow*c.chunk/2)
}

// rateSample is what one ack tells about the delivery rate (BBR's
// rate sample): delivered bytes over the interval they took.
type rateSample struct {
	delivered  int64
	interval   time.Duration
	appLimited bool
	// priorDelivered is the delivered count when the newest acked
	// packet was sent: the round logic compares it with round ends.
	priorDelivered int64
}

// onAck updates the model with an ack's measurements: a rate sample (if
// any packet was newly acked), an RTT sample (0 if none), and the bytes
// newly acked and newly found lost.
func (c *bulkCC) onAck(now time.Time, rs rateSample, rtt time.Duration, delivered, acked, lost int64, inflight int) {
	if rtt > 0 {
		if rtt < c.minRTT || now.Sub(c.minRTTAt) > ccMinRTTWindow {
			c.minRTT, c.minRTTAt = rtt, now
		}
		c.roundMinRTT = min(c.roundMinRTT, rtt)
	}
	roundStart := false
	if acked > 0 && rs.priorDelivered >= c.roundDelivered {
		c.round++
		c.roundDelivered = delivered
		roundStart = true
	}
	// A sample over less than a round trip measures a burst (segmentation
	// offload sends, coalesced receives and batched acks all make them),
	// not the path: BBR discards those too.
	if rs.interval >= c.minRTT && rs.delivered > 0 {
		rate := float64(rs.delivered) / rs.interval.Seconds()
		if !rs.appLimited || rate > c.bw.get() {
			c.bw.update(rate, c.round)
		}
	}
	if rtt > 0 {
		c.roundSamples++
	}

	switch el := now.Sub(c.rateMarkAt); {
	case c.rateMarkAt.IsZero():
		c.rateMark, c.rateMarkAt = delivered, now
	case el >= ccRateWindow:
		c.recentRate = float64(delivered-c.rateMark) / el.Seconds()
		c.rateMark, c.rateMarkAt = delivered, now
	}
	c.lossAccounting(now, delivered, acked, lost)
	if roundStart {
		c.onRoundStart(now, inflight)
	}
	if acked > 0 {
		// After onRoundStart: the wait that opened this round is its own.
		if !c.lastAckAt.IsZero() && inflight > 0 {
			g := &c.roundGaps[c.round%ccGapRounds]
			*g = max(*g, now.Sub(c.lastAckAt))
		}
		c.lastAckAt = now
	}
	c.advance(now, inflight)
}

func (c *bulkCC) lossAccounting(now time.Time, delivered, acked, lost int64) {
	c.winSent += acked + lost
	c.winLost += lost
	if c.winSent < int64(ccLossWindow*c.chunk) {
		return
	}
	if float64(c.winLost)/float64(c.winSent) > ccLossThresh {
		// Overload (a policer, or a full queue).
		c.backOff(false)
		if c.state == ccStartup {
			c.enterDrain()
		}
	}
	c.winSent, c.winLost = 0, 0
}

// backOff caps the rate below what the sender sends now; rounds without
// loss or queueing raise the cap again until it no longer binds
// (multiplicative decrease, gradual increase, as LEDBAT does on delay).
//
// A background transfer cuts harder on queueing (others' traffic), down
// to its floor; on loss alone (its own overshoot, when alone) as a normal
// transfer does.
func (c *bulkCC) backOff(queueing bool) {
	if !c.background {
		c.bwCap = ccBackOff * min(c.bwCap, c.pacingRate())
		return
	}
	cut := ccBackOff
	if queueing {
		cut = bgBackOff
	}
	floor := max(bgFloorShare*c.peakBw, bgFloorMin)
	c.bwCap = max(cut*min(c.bwCap, c.pacingRate()), floor)
}

// othersOnPath reports whether a background transfer takes the queue it
// sees in most rounds as others' traffic.
func (c *bulkCC) othersOnPath() bool { return c.bgQueuedShare > bgShareYield }

// finiteCap is bwCap, 0 when there is none.
func (c *bulkCC) finiteCap() float64 {
	if math.IsInf(c.bwCap, 1) {
		return 0
	}
	return c.bwCap
}

// carried is the rate the path carried lately, for the next transfer's
// seed: the delivery rate over the last ccRateWindow, never above the
// model's bandwidth.
func (c *bulkCC) carried() float64 {
	if c.recentRate > 0 {
		return min(c.recentRate, c.bandwidth())
	}
	return c.bandwidth()
}

func (c *bulkCC) onRoundStart(now time.Time, inflight int) {
	queuedOver := func(target time.Duration) bool { return c.roundMinRTT > c.minRTT+max(target, c.minRTT) }
	target := ccDelayTarget
	if c.background {
		target = bgStandingTarget
	}
	queued := c.roundSamples >= ccMinSamples && queuedOver(target)
	// A background transfer also looks for a smaller queue, and when it
	// sees one in most rounds, takes it as others' traffic: a queue of its
	// own (a probe's, a burst's, the hosts' batching at full rate) comes
	// in some rounds only, others' stays. Any RTT sample counts here: at
	// the low rate it yields at, a round may bring a single ack, and a
	// round without samples says nothing.
	yield, quiet := false, false
	if c.background {
		c.peakBw = max(c.peakBw, c.recentRate)
		if c.roundSamples > 0 {
			q := 0.0
			if queuedOver(bgDelayTarget) {
				q = 1
			}
			c.bgQueuedShare += (q - c.bgQueuedShare) / bgShareRounds
			yield = q == 1 && c.othersOnPath()
		} else {
			quiet = c.othersOnPath()
		}
	}
	c.roundMinRTT = time.Duration(math.MaxInt64)
	c.roundSamples = 0
	// The round that ended is in roundGaps; the one starting begins empty.
	c.ackGap = slices.Min(c.roundGaps[:])
	c.roundGaps[c.round%ccGapRounds] = 0
	switch {
	case yield:
		c.backOff(true)
	case queued:
		c.backOff(false)
	case quiet:
		// Others were there a round ago; no news is no reason to grow.
	case !math.IsInf(c.bwCap, 1):
		raise := ccRaise
		if c.othersOnPath() {
			raise = bgRaise
		}
		c.bwCap *= raise
		if c.bwCap > 2*c.bw.get() {
			c.bwCap = math.Inf(1)
		}
	}
	switch c.state {
	case ccStartup:
		bw := c.bw.get()
		if bw >= c.fullBw*1.25 {
			c.fullBw, c.fullBwCount = bw, 0
		} else {
			c.fullBwCount++
		}
		if c.fullBwCount >= 3 || queued {
			c.enterDrain()
		}
	case ccDrain:
		c.enterProbeBW()
	case ccProbeBW:
		if queued {
			// A standing queue: drain it in the next phase.
			c.drainNext = true
		}
	}
}

func (c *bulkCC) enterDrain() {
	c.state = ccDrain
	c.pacingGain = 1 / ccStartupGain
	c.cwndGain = 2
}

func (c *bulkCC) enterProbeBW() {
	c.state = ccProbeBW
	c.cwndGain = ccCruiseCwndGain
	c.cycle = 2 // start in a cruising phase
	c.pacingGain = probeGains[c.cycle]
}

func (c *bulkCC) advance(now time.Time, inflight int) {
	switch c.state {
	case ccDrain:
		if float64(inflight) <= c.bandwidth()*(c.minRTT+ccAckSlack).Seconds() {
			c.enterProbeBW()
			c.cycleStart = now
		}
	case ccProbeBW:
		phase := max(c.minRTT, ccAckSlack)
		if now.Sub(c.cycleStart) < phase {
			return
		}
		c.cycleStart = now
		c.cycle = (c.cycle + 1) % len(probeGains)
		c.pacingGain = probeGains[c.cycle]
		if c.drainNext {
			c.drainNext = false
			c.pacingGain = 0.75
		}
	}
}

// bwFilter keeps the maximum bandwidth sample of the last ccBwRounds
// rounds (a windowed max over three samples, as BBR's minmax).
type bwFilter struct {
	s [3]struct {
		v     float64
		round int64
	}
}

func (f *bwFilter) get() float64 { return f.s[0].v }

func (f *bwFilter) update(v float64, round int64) {
	if v >= f.s[0].v || round-f.s[2].round > ccBwRounds {
		for i := range f.s {
			f.s[i].v, f.s[i].round = v, round
		}
		return
	}
	if v >= f.s[1].v {
		f.s[1].v, f.s[1].round = v, round
		f.s[2] = f.s[1]
	} else if v >= f.s[2].v {
		f.s[2].v, f.s[2].round = v, round
	}
	// Age out: the best sample is too old, promote the others.
	if round-f.s[0].round > ccBwRounds {
		f.s[0], f.s[1] = f.s[1], f.s[2]
		f.s[2].v, f.s[2].round = v, round
		if round-f.s[0].round > ccBwRounds {
			f.s[0], f.s[1] = f.s[1], f.s[2]
		}
	} else if f.s[1].round == f.s[0].round && round-f.s[1].round > ccBwRounds/4 {
		f.s[1].v, f.s[1].round = v, round
		f.s[2] = f.s[1]
	} else if f.s[2].round == f.s[1].round && round-f.s[2].round > ccBwRounds/2 {
		f.s[2].v, f.s[2].round = v, round
	}
}
