package node

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

// servedOps are the peer-protocol ops through which other peers use this
// peer's shares, printers and inbox; pausing sharing refuses them all.
var servedOps = []string{
	shares.OpSharesList, shares.OpList, shares.OpStat, shares.OpTree, shares.OpRead,
	shares.OpMkdir, shares.OpPutBegin, shares.OpPutData, shares.OpSendOffer,
	shares.OpSendData, shares.OpSearch, shares.OpChunks,
	printing.OpPrintersList, printing.OpPrintSubmit, printing.OpPrintJob,
}

// SetSharingPaused stops (true) or resumes (false) serving this peer's
// shares and inbox to other peers, as the tray's "Pause sharing" does. It
// lasts until resumed or the peer restarts; requests already running
// finish.
func (n *Node) SetSharingPaused(paused bool) {
	n.settingsMu.Lock()
	defer n.settingsMu.Unlock()
	if n.paused == paused {
		return
	}
	n.paused = paused
	if !paused {
		n.files.Register(n.mux)
		if n.printSvc != nil {
			n.printSvc.Register(n.mux)
		}
		n.log.Info("sharing resumed")
		return
	}
	for _, op := range servedOps {
		n.mux.Handle(op, refusePaused)
	}
	n.log.Info("sharing paused")
}

// SharingPaused reports whether sharing is paused.
func (n *Node) SharingPaused() bool {
	n.settingsMu.Lock()
	defer n.settingsMu.Unlock()
	return n.paused
}

func refusePaused(_ context.Context, req transport.Request, s *transport.Stream) {
	_ = s.Fail(fmt.Errorf("%w: sharing is paused on this peer (%s)", shares.ErrBusy, req.Op))
}

// Mkdir creates a folder (and its parents) in a read-write share of a
// peer: the browser's "New folder".
func (n *Node) Mkdir(ctx context.Context, rp RemotePath, creds Creds) error {
	p, t, err := n.target(rp.Peer, creds)
	if err != nil {
		return err
	}
	if rp.Share == "" || rp.Path == "" {
		return fmt.Errorf("%w: mkdir wants PEER:SHARE/PATH", ErrUsage)
	}
	if err := n.client.Mkdir(ctx, t, rp.Share, rp.Path); err != nil {
		return fmt.Errorf("mkdir %s:%s/%s: %w", p.Name, rp.Share, rp.Path, err)
	}
	return nil
}

// registerSharingControl adds the control op that pauses sharing, so a
// daemon can do what the tray does.
func (n *Node) registerSharingControl() {
	n.HandleControl("sharing.pause", func(_ context.Context, _ string, args json.RawMessage) (any, error) {
		var a struct {
			Paused bool `json:"paused"`
		}
		if err := decodeArgs(args, &a); err != nil {
			return nil, err
		}
		n.SetSharingPaused(a.Paused)
		return a, nil
	})
}
