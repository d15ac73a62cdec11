package node

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"
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

// memoryTrimmer decides, tick by tick, when to give memory back.
type memoryTrimmer struct {
	// again asks for a second trim at the next tick: buffers parked in a
	// sync.Pool (stream, body and transfer buffers) survive one GC in
	// the pool's victim cache, and an idle peer allocates nothing that
	// would run the second GC that frees them. Measured after a flood of
	// strangers' streams: without it ~150 MB stayed resident until the
	// runtime's forced GC two minutes later.
	again bool
	ms    runtime.MemStats
}

// tick checks the heap once and trims if worth it; it reports whether it did.
func (tr *memoryTrimmer) tick() bool {
	runtime.ReadMemStats(&tr.ms)
	big := tr.ms.HeapIdle-tr.ms.HeapReleased > trimThreshold
	if !big && !tr.again {
		return false
	}
	debug.FreeOSMemory()
	tr.again = big
	return true
}
