package node

import (
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport"
)

// processorIdleAfter is how long after the last body stopped moving the
// process drops to one processor.
var processorIdleAfter = 5 * time.Second // a variable for tests

// processorGovernor runs the Go scheduler on one processor while no file
// body moves, and on all of them while one does. An idle peer's work is
// small and scattered (liveness pings, mDNS, hellos): each wake-up with a
// second processor free made the runtime wake another thread to look for
// work, a third of an idle peer's CPU. 50 peers idle on the namespace bed:
// 0.85% of a core each with the default, 0.63% with one processor
// (docs/performance.md). A transfer's receive, write and hash run in
// parallel and need every core (2.5 Gbit/s, unshaped veth).
type processorGovernor struct {
	log  *slog.Logger
	full int                   // the processors when busy
	set  func(n int) (old int) // runtime.GOMAXPROCS; tests replace it
	// flows reports the bodies moving (transport.BulkFlows).
	flows func() int64

	mu    sync.Mutex
	one   bool
	timer *time.Timer
}

// GovernProcessors makes this process use one processor while no
// transfer runs (see processorGovernor) until the returned function is
// called. It does nothing on a one-processor machine or when GOMAXPROCS is
// set in the environment (the user's choice stands). For the headless
// daemon: one governor per process, as GOMAXPROCS is the process's.
func GovernProcessors(log *slog.Logger) (stop func()) {
	full := runtime.GOMAXPROCS(0)
	if full < 2 || os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	g := &processorGovernor{log: log, full: full, set: runtime.GOMAXPROCS, flows: transport.BulkFlows}
	transport.OnBulkActivity(g.activity)
	g.activity(false)
	return func() {
		transport.OnBulkActivity(nil)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.timer != nil {
			g.timer.Stop()
		}
		if g.one {
			g.set(g.full)
			g.one = false
		}
	}
}

// activity hears that the first body started moving or that the last
// one ended. It goes by the count, not by which of the two was heard:
// two transitions close together may arrive in either order.
func (g *processorGovernor) activity(bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if g.flows() == 0 {
		g.timer = time.AfterFunc(processorIdleAfter, g.idle)
		return
	}
	if g.one {
		g.set(g.full)
		g.one = false
		g.log.Debug("transfer running: all processors", "n", g.full)
	}
}

// idle drops to one processor if still no body moves.
func (g *processorGovernor) idle() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.one || g.flows() > 0 {
		return
	}
	g.set(1)
	g.one = true
	g.log.Debug("no transfer running: one processor")
}
