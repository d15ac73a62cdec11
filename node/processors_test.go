package node

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProcessorGovernor: one processor once no body moved for a while,
// all of them as soon as one moves; an end quickly followed by a start,
// or heard after it, keeps them all.
func TestProcessorGovernor(t *testing.T) {
	defer func(d time.Duration) { processorIdleAfter = d }(processorIdleAfter)
	processorIdleAfter = 50 * time.Millisecond
	var mu sync.Mutex
	procs := 4
	var flows atomic.Int64
	g := &processorGovernor{log: slog.New(slog.DiscardHandler), full: 4, flows: flows.Load,
		set: func(n int) int {
			mu.Lock()
			defer mu.Unlock()
			old := procs
			procs = n
			return old
		}}
	now := func() int {
		mu.Lock()
		defer mu.Unlock()
		return procs
	}
	settle := func() { time.Sleep(4 * processorIdleAfter) }

	g.activity(false) // started idle
	settle()
	if n := now(); n != 1 {
		t.Fatalf("idle at start: %d processors, want 1", n)
	}
	flows.Store(1)
	g.activity(true)
	if n := now(); n != 4 {
		t.Fatalf("a transfer started: %d processors, want 4 at once", n)
	}
	// The last transfer ends and another starts before the delay.
	flows.Store(0)
	g.activity(false)
	flows.Store(1)
	g.activity(true)
	settle()
	if n := now(); n != 4 {
		t.Errorf("a transfer runs after a short gap: %d processors, want 4", n)
	}
	// The end of one heard after the start of the next.
	g.activity(false)
	settle()
	if n := now(); n != 4 {
		t.Errorf("idle heard while a transfer runs: %d processors, want 4", n)
	}
	flows.Store(0)
	g.activity(false)
	settle()
	if n := now(); n != 1 {
		t.Errorf("all transfers done: %d processors, want 1", n)
	}
}
