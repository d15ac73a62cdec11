package node

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// memoryTrimInterval is how often the peer checks for memory it no longer
// uses. Go gives freed heap back to the OS only slowly, so the memory a
// burst made it take (a flood of streams from strangers, a big listing)
// would otherwise stay resident long after the burst.
const memoryTrimInterval = 10 * time.Second

// trimThreshold is the idle, unreleased heap worth giving back.
const trimThreshold = 32 << 20

// trimMemory returns idle heap to the OS whenever more than trimThreshold
// of it sits unreleased. ReadMemStats stops the world for microseconds;
// every 10 s that costs nothing measurable.
func trimMemory(ctx context.Context) {
	t := time.NewTicker(memoryTrimInterval)
	defer t.Stop()
	var tr memoryTrimmer
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tr.tick()
	}
}

// trimAfterTransfers gives memory back once the last running transfer
// ended: a big download leaves its windows and buffers (tens of MB) as
// idle heap below trimThreshold, which the ticks above would keep for as
// long as the peer runs. Twice, for the buffers a sync.Pool keeps one GC
// longer.
func (n *Node) trimAfterTransfers(ctx context.Context) {
	updates, stop := n.transfers.Subscribe()
	defer stop()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case in, ok := <-updates:
			if !ok {
				return
			}
			if in.State == transfer.StateRunning || n.transfers.Running() > 0 {
				continue
			}
			if timer != nil {
				timer.Stop()
			}
			timer = time.AfterFunc(2*time.Second, func() {
				if n.transfers.Running() == 0 {
					transport.ReleaseIdleBuffers()
				}
				debug.FreeOSMemory()
				debug.FreeOSMemory()
			})
		}
	}
}

// memoryTrimmer decides, tick by tick, when to give memory back.
type memoryTrimmer struct {
	// live is the heap in use right after the last trim: what the peer
	// holds when it holds nothing it could let go of.
	live uint64
	// floor is the least heap in use after any trim: the peer at rest.
	floor uint64
	// sinceTrim counts the ticks since the last trim.
	sinceTrim int
	// again asks for a second trim at the next tick: buffers parked in a
	// sync.Pool (stream, body, datagram and transfer buffers) survive one
	// GC in the pool's victim cache.
	again bool
	ms    runtime.MemStats
}

// bloatedEvery is how many ticks apart a heap that stays well above the
// floor is trimmed: after a burst the memory it held is garbage in use
// until a GC, and an idle peer runs none (30 s; a GC of an idle peer's
// heap costs milliseconds).
const bloatedEvery = 3

// tick checks the heap once and trims if worth it; it reports whether it
// did. Idle heap not yet given back is one reason; heap in use grown well
// past the live heap of the last trim is another: after a burst an idle
// peer allocates nothing, so no GC runs to turn the burst's garbage and
// pooled buffers into idle heap (measured after a flood of strangers'
// streams: 170 MB resident 45 s later, freed only by the runtime's forced
// GC two minutes on). The third: heap in use still well above the floor
// some ticks after the last trim (a trim during the burst measured what
// the burst held as live; its sessions closed since).
func (tr *memoryTrimmer) tick() bool {
	runtime.ReadMemStats(&tr.ms)
	if tr.floor == 0 {
		tr.floor = tr.ms.HeapInuse // the first tick: the peer has just started
	}
	idle := tr.ms.HeapIdle-tr.ms.HeapReleased > trimThreshold
	grown := tr.ms.HeapInuse > tr.live+trimThreshold
	bloated := tr.ms.HeapInuse > tr.floor+trimThreshold && tr.sinceTrim >= bloatedEvery
	if !idle && !grown && !bloated && !tr.again {
		tr.sinceTrim++
		return false
	}
	debug.FreeOSMemory()
	runtime.ReadMemStats(&tr.ms)
	tr.live = tr.ms.HeapInuse
	tr.floor = min(tr.floor, tr.live)
	tr.sinceTrim = 0
	tr.again = idle || grown
	return true
}
