package node

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// serviceGate routes a peer's request: to the node's own ops (hello,
// bye) always, to the services' ops (files, printers, inbox) unless sharing
// is paused. Pausing is a gate in front of every service op, not a list of
// op names, so an op a service adds later is paused with the rest.
type serviceGate struct {
	own, services *transport.Mux
	paused        atomic.Bool
}

func (g *serviceGate) ServeStream(ctx context.Context, req transport.Request, s *transport.Stream) {
	if fn, ok := g.own.Lookup(req.Op); ok {
		fn(ctx, req, s)
		return
	}
	if _, ok := g.services.Lookup(req.Op); ok && g.paused.Load() {
		_ = s.Fail(fmt.Errorf("%w: sharing is paused on this peer (%s)", access.ErrBusy, req.Op))
		return
	}
	g.services.ServeStream(ctx, req, s)
}

// SetSharingPaused stops (true) or resumes (false) serving this peer's
// shares, printers and inbox to other peers, as the tray's "Pause sharing"
// does. It lasts until resumed or the peer restarts; requests already
// running finish.
func (n *Node) SetSharingPaused(paused bool) {
	if n.gate.paused.Swap(paused) == paused {
		return
	}
	if paused {
		n.log.Info("sharing paused")
	} else {
		n.log.Info("sharing resumed")
	}
}

// SharingPaused reports whether sharing is paused.
func (n *Node) SharingPaused() bool { return n.gate.paused.Load() }

// registerSharingControl adds the control op that pauses sharing, so a
// daemon can do what the tray does.
func (n *Node) registerSharingControl() {
	handle(n, opSharingPause, func(_ context.Context, a SharingPauseArgs) (none, error) {
		n.SetSharingPaused(a.Paused)
		return none{}, nil
	})
}
