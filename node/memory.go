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
	var ms runtime.MemStats
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		runtime.ReadMemStats(&ms)
		if ms.HeapIdle-ms.HeapReleased > trimThreshold {
			debug.FreeOSMemory()
		}
	}
}
