package app

import (
	"github.com/peerdesk/peerdesk/discovery"
)

// peerSource is what the peers screen needs from the core; *node.Node is
// one, tests use a fake.
type peerSource interface {
	PeerList() []discovery.Peer
	Subscribe() (<-chan discovery.Event, func())
}

// maxBatch bounds how many events one UI update folds in.
const maxBatch = 256

// followPeers loads m from src and then keeps it in step with src's
// events, folding them in batches so that a burst (fifty peers appearing at
// once) costs one UI update. onUI runs a function on the UI goroutine
// (fyne.Do in the app). stop ends the subscription and returns once the
// event goroutine is gone; nothing is handed to onUI after that.
//
// It must be called on the UI goroutine (or before the app runs), since it
// loads m.
func followPeers(src peerSource, m *peersModel, onUI func(func())) (stop func()) {
	// Subscribe before listing: an event racing the list is then applied
	// after it, and events carry the peer's whole state, so m converges.
	events, unsubscribe := src.Subscribe()
	m.reset(src.PeerList())
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		pumpEvents(quit, events, func(batch []discovery.Event) {
			onUI(func() { m.apply(batch...) })
		})
	}()
	return func() {
		close(quit)
		unsubscribe()
		<-done
	}
}

// pumpEvents reads events until quit closes or events is closed, handing
// them to apply in batches of what arrived meanwhile.
func pumpEvents(quit <-chan struct{}, events <-chan discovery.Event, apply func([]discovery.Event)) {
	for {
		var batch []discovery.Event
		select {
		case <-quit:
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			batch = append(batch, e)
		}
		open := true
	drain:
		for open && len(batch) < maxBatch {
			select {
			case e, ok := <-events:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		select {
		case <-quit:
			return
		default:
		}
		apply(batch)
		if !open {
			return
		}
	}
}
