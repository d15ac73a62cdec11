package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Queued sends: files sent to a peer that is offline wait in the transfer
// manager's queue (kept in the home across restarts, shown on Transfers,
// cancelable there) and go when the peer is seen online again, asking its
// user as any send does.

// QueueSend queues files for peer ref, to be sent when it is online.
func (n *Node) QueueSend(ref string, files []string) (transfer.Info, error) {
	p, err := n.ResolvePeer(ref)
	if err != nil {
		return transfer.Info{}, err
	}
	if p.Trust == string(identity.TrustChanged) {
		return transfer.Info{}, fmt.Errorf("%w: %s presented another key; check it on the Peers tab before sending", identity.ErrIdentityChanged, p.Name)
	}
	total, err := remote.SendSize(files)
	if err != nil {
		return transfer.Info{}, err
	}
	in, err := n.transfers.Enqueue(p.ID, firstNonEmpty(p.Name, p.ID), files, total)
	if err != nil {
		return in, err
	}
	n.log.Info("send queued until the peer is online", "peer", p.ID, "files", len(files), "bytes", total, "id", in.ID)
	n.kickQueue()
	return in, nil
}

// SendOrQueue sends files to peer ref now if it is online, else queues
// them: a peer the table shows offline, or one that does not answer.
func (n *Node) SendOrQueue(ctx context.Context, ref string, files []string, progress func(Progress)) (remote.SendResult, error) {
	p, err := n.ResolvePeer(ref)
	if err != nil {
		return remote.SendResult{}, err
	}
	if p.Online {
		res, err := n.Send(ctx, p.ID, files, progress)
		if err == nil || !errors.Is(err, transport.ErrUnreachable) || len(res.Files) > 0 {
			return res, err
		}
	}
	in, err := n.QueueSend(p.ID, files)
	if err != nil {
		return remote.SendResult{}, err
	}
	return remote.SendResult{Receiver: in.Peer, Queued: in.ID}, nil
}

// kickQueue asks the delivery loop to look at the queue now.
func (n *Node) kickQueue() {
	select {
	case n.queueKick <- struct{}{}:
	default:
	}
}

// queueCheck is how often the delivery loop looks for queued sends whose
// peer is online (a peer coming online also kicks it).
const queueCheck = time.Second

// deliverQueued runs the queued sends of every peer that is online, one
// delivery per peer at a time, until ctx ends. A delivery that cannot
// reach its peer, or that the node's stop interrupts, goes back to the
// queue; one the receiver declines, or whose files are gone, fails in the
// history.
func (n *Node) deliverQueued(ctx context.Context) {
	tick := time.NewTicker(queueCheck)
	defer tick.Stop()
	var mu sync.Mutex
	busy := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.queueKick:
		}
		for _, id := range n.transfers.QueuedPeers() {
			p, ok := n.Peers.Get(id)
			mu.Lock()
			skip := busy[id]
			mu.Unlock()
			if !ok || !p.Online || p.Trust == string(identity.TrustChanged) || skip {
				continue
			}
			items := n.transfers.TakeQueued(id)
			if len(items) == 0 {
				continue
			}
			mu.Lock()
			busy[id] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(busy, id); mu.Unlock() }()
				for i, in := range items {
					if !n.deliver(ctx, p, in) {
						for _, rest := range items[i+1:] {
							n.transfers.Requeue(rest)
						}
						return
					}
				}
			}()
		}
	}
}

// deliver sends one queued send to p; it reports false if the send went
// back to the queue (the peer is not reachable after all).
func (n *Node) deliver(ctx context.Context, p discovery.Peer, in transfer.Info) bool {
	n.log.Info("delivering a queued send", "peer", p.ID, "id", in.ID, "files", len(in.Files))
	res, err := n.Send(ctx, p.ID, in.Files, nil)
	switch {
	case err == nil:
		return true
	case len(res.Files) == 0 && (errors.Is(err, transport.ErrUnreachable) || ctx.Err() != nil):
		n.transfers.Requeue(in)
		return false
	default:
		n.log.Info("queued send failed", "peer", p.ID, "id", in.ID, "err", err)
		n.transfers.FailQueued(in, err)
		return true
	}
}
