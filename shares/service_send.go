package shares

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Limits of push-send.
const (
	// maxOfferBytes bounds the JSON file list of one offer.
	maxOfferBytes = 8 << 20
	// maxOfferLists is how many offers' file lists are read at once over
	// all peers: with maxOfferBytes, at most 32 MiB held by strangers.
	maxOfferLists = 4
	// offerListTimeout bounds reading one file list: a sender that
	// trickles it frees its slot.
	offerListTimeout = 10 * time.Second
	// offerLifetime is how long an accepted offer stays open for its data.
	offerLifetime = 24 * time.Hour
)

// offer is an accepted push-send offer waiting for its files.
type offer struct {
	Offer
	expires   time.Time
	done      []bool
	remaining int
}

func (svc *Service) serveSendOffer(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[offerRequest](req)
	if err != nil {
		return err
	}
	peer := s.Peer()
	// The gates come before any body is read: an offer is the one request
	// any peer, known or not, may send, and its file list may be megabytes
	// (docs/security.md, H3).
	release, ok := svc.offerGate.Enter(peer.ID)
	if !ok {
		svc.access.Audit(peer, "", access.ActionSend, "inbox", false, "too many offers waiting")
		return fmt.Errorf("%w: %s: this peer already has offers waiting for an answer", access.ErrBusy, OpSendOffer)
	}
	defer release()
	if in.FilesBytes != 0 {
		select {
		case svc.offerLists <- struct{}{}:
		default:
			return fmt.Errorf("%w: %s: too many offers arriving at once; retry shortly", access.ErrBusy, OpSendOffer)
		}
		lctx, cancel := context.WithTimeout(ctx, offerListTimeout)
		files, err := receiveOfferFiles(lctx, s, in)
		cancel()
		<-svc.offerLists
		if err != nil {
			return err
		}
		in.Files = files
	}
	if err := validateOffer(&in); err != nil {
		svc.access.Audit(peer, "", access.ActionSend, "inbox", false, err.Error())
		return err
	}
	o := Offer{ID: uuid.NewString(), Peer: peer, PeerName: svc.cfg.PeerName(peer.ID), Files: in.Files, Total: in.Total}
	accepted := false
	if svc.cfg.Accept != nil {
		actx, cancel := context.WithTimeout(ctx, svc.cfg.OfferTimeout)
		accepted = svc.cfg.Accept(actx, o) && actx.Err() == nil
		cancel()
	}
	detail := fmt.Sprintf("offer of %d files, %d bytes", len(in.Files), in.Total)
	if !accepted {
		detail += ": declined"
	}
	svc.access.Audit(peer, "", access.ActionSend, "inbox", accepted, detail)
	svc.log.Info("push-send offer", "peer", peer.ID, "files", len(in.Files), "bytes", in.Total, "accepted", accepted)
	res := OfferResult{Accepted: accepted, Receiver: svc.cfg.Name}
	if accepted {
		res.OfferID = o.ID
		svc.mu.Lock()
		svc.purgeOffersLocked()
		svc.offers[o.ID] = &offer{Offer: o, expires: svc.cfg.Now().Add(offerLifetime), done: make([]bool, len(o.Files)), remaining: len(o.Files)}
		svc.mu.Unlock()
	}
	return s.Respond(res)
}

// receiveOfferFiles reads a file list sent as a body.
func receiveOfferFiles(ctx context.Context, s *transport.Stream, in offerRequest) ([]OfferFile, error) {
	if in.FilesBytes < 0 || in.FilesBytes > maxOfferBytes || len(in.Files) > 0 {
		return nil, protocolErr(OpSendOffer, "file list of %d bytes", in.FilesBytes)
	}
	var buf bytes.Buffer
	n, err := s.ReceiveBody(ctx, &buf, in.FilesBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: file list: %w", OpSendOffer, err)
	}
	if n != in.FilesBytes {
		return nil, protocolErr(OpSendOffer, "file list of %d bytes, announced %d", n, in.FilesBytes)
	}
	var files []OfferFile
	if err := json.Unmarshal(buf.Bytes(), &files); err != nil {
		return nil, protocolErr(OpSendOffer, "file list: %v", err)
	}
	return files, nil
}

func (svc *Service) purgeOffersLocked() {
	now := svc.cfg.Now()
	for id, o := range svc.offers {
		if now.After(o.expires) {
			delete(svc.offers, id)
		}
	}
}

// acceptedOffer returns the accepted offer id of peer, if still open.
func (svc *Service) acceptedOffer(id, peer string) (Offer, bool) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	svc.purgeOffersLocked()
	o, ok := svc.offers[id]
	if !ok || o.Peer.ID != peer {
		return Offer{}, false
	}
	return o.Offer, true
}

// fileDone marks one file of an offer received, closing the offer after
// its last file.
func (svc *Service) fileDone(id string, index int) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	o, ok := svc.offers[id]
	if !ok || o.done[index] {
		return
	}
	o.done[index] = true
	if o.remaining--; o.remaining == 0 {
		delete(svc.offers, id)
	}
}

func (svc *Service) serveSendData(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[sendDataRequest](req)
	if err != nil {
		return err
	}
	peer := s.Peer()
	o, ok := svc.acceptedOffer(in.OfferID, peer.ID)
	if !ok {
		return fmt.Errorf("%w: %s: no open offer %q from this peer (declined, finished or expired)", transport.ErrNotFound, OpSendData, access.Shorten(in.OfferID))
	}
	if err := in.validate(len(o.Files)); err != nil {
		return err
	}
	f := o.Files[in.Index]
	root, err := svc.openInbox()
	if err != nil {
		return err
	}
	defer root.Close()
	in2 := incoming{
		root: root, where: "inbox", target: f.Name, size: f.Size, sha256: lowerASCII(f.SHA256),
		mtime: f.Mtime, makeParents: true,
	}
	var task *transfer.Task
	reqCtx := ctx
	if svc.cfg.Transfers != nil {
		// In the history from the first byte on, and cancelable there:
		// canceling ends this request, the sender hears it.
		sender := o.PeerName
		if sender == "" {
			sender = peer.ID
		}
		task = svc.cfg.Transfers.Start(ctx, transfer.KindReceive, sender, f.Name, filepath.Join(root.Name(), filepath.FromSlash(f.Name)), f.Size)
		ctx = task.Ctx
		in2.progress = func(held int64) { task.Progress(held, f.Size) }
	}
	res, err := svc.receive(ctx, s, in2)
	if task != nil {
		ferr := err
		if err != nil && reqCtx.Err() != nil {
			// The sender went away: not the person here canceling.
			ferr = fmt.Errorf("%w: %s stopped sending at %d of %d bytes: %v", transport.ErrTruncated, o.PeerName, res.Offset, f.Size, err)
		}
		if ferr == nil && !res.Complete {
			ferr = fmt.Errorf("%w: %s sent %d of %d bytes; the rest may follow", transport.ErrTruncated, o.PeerName, res.Offset, f.Size)
		}
		name := res.Name
		if name == "" {
			name = f.Name
		}
		task.Finish(filepath.Join(root.Name(), filepath.FromSlash(name)), ferr)
	}
	if err != nil {
		svc.log.Info("push-send stopped", "peer", peer.ID, "bytes", res.Offset, "err", err)
		return err
	}
	if res.Complete {
		svc.fileDone(o.ID, in.Index)
		svc.access.Audit(peer, "", access.ActionSend, "inbox/"+res.Name, true, fmt.Sprintf("%d bytes received", f.Size))
		svc.log.Info("push-send file received", "peer", peer.ID, "bytes", f.Size)
	}
	return s.Respond(res)
}
