package app

import (
	"path/filepath"

	"github.com/peerdesk/peerdesk/shares/transfer"
)

// notifyReceived tells the person, with a desktop notification, each time
// a file pushed by another PC has arrived (or failed to), whichever screen
// is on show. stop ends it and returns once its goroutine is gone.
func notifyReceived(src transferList, notify func(title, text string)) (stop func()) {
	updates, unsubscribe := src.SubscribeTransfers()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for in := range updates {
			if in.Kind != transfer.KindReceive {
				continue
			}
			name := filepath.Base(in.Local)
			if name == "." || name == "" {
				name = in.Path
			}
			switch in.State {
			case transfer.StateDone:
				notify("Received from "+in.Peer, name+" ("+humanBytes(in.Bytes)+") is in "+filepath.Dir(in.Local))
			case transfer.StateFailed:
				notify("Receiving from "+in.Peer+" failed", name+": "+transferFailure(in))
			}
		}
	}()
	return func() {
		unsubscribe()
		<-done
	}
}
