package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/internal/atomicfile"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/printing/ippserve"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/transport"
)

// A shared printer of another peer "added to my printers" is served as a
// local IPP Everywhere printer on 127.0.0.1 (printing/ippserve) and
// registered with the OS print system, so every application's print
// dialog lists it. Jobs printed there travel to the owner like `print`
// does: under the credentials remembered for that peer, with the owner's
// access checks, audit entry and job naming. printqueues.json (0600) keeps
// the list, never a password.

// AddedPrinter is a remote printer served in the local print system.
type AddedPrinter struct {
	// Queue is the OS queue name, Peer/PeerName the owner, Printer its
	// printer share, User the account jobs are sent as.
	Queue    string `json:"queue"`
	Peer     string `json:"peer"`
	PeerName string `json:"peer_name"`
	Printer  string `json:"printer"`
	User     string `json:"user,omitempty"`
	// Fingerprint is the owner's key when the printer was added: a peer
	// presenting another is not sent jobs.
	Fingerprint string `json:"fingerprint"`
	// Port is the endpoint's port on 127.0.0.1, kept across restarts so
	// the OS queue's URI stays valid; UUID its printer-uuid.
	Port int    `json:"port"`
	UUID string `json:"uuid"`
	// Disabled says why the queue no longer prints (share removed, key
	// changed); empty while it works.
	Disabled string `json:"disabled,omitempty"`
	// DisabledBy is what disabled it: "share" (shared again, it works
	// again), "identity" or "unknown" (for good: add it again).
	DisabledBy string `json:"disabled_by,omitempty"`
}

// AddedPrinterInfo is an added printer as `printer list` shows it. State:
// ready, held (jobs wait for a sign-in; Message says what to do),
// disabled (Message says why), offline (the owner is not online).
type AddedPrinterInfo struct {
	AddedPrinter
	URI     string `json:"uri"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	Held    int    `json:"held,omitempty"`
}

// Added printer states.
const (
	AddedReady    = "ready"
	AddedHeld     = "held"
	AddedDisabled = "disabled"
	AddedOffline  = "offline"
)

// ErrPrinterNotAdded: no added printer of that name.
var ErrPrinterNotAdded = errors.New("printer not added")

// printQueues are the added printers and their endpoints.
type printQueues struct {
	mu     sync.Mutex
	list   []*servedPrinter
	path   string
	wakeCh chan struct{}
}

// servedPrinter is one added printer: its endpoint and what it last knew
// of the remote printer. It is the endpoint's ippserve.Printer.
type servedPrinter struct {
	n   *Node
	srv *ippserve.Server

	mu     sync.Mutex
	ap     AddedPrinter
	remote printing.RemotePrinter // last printers.list answer
	known  bool
	held   string // why jobs are held ("sign in to h0 in Peerdesk"), or ""
	// stopped: the OS queue was stopped to show held; its jobs went back
	// to it, so the endpoint's held copies are dropped, not released.
	stopped bool
}

func (q *printQueues) wake() {
	select {
	case q.wakeCh <- struct{}{}:
	default:
	}
}

// startPrintQueues serves the printers added earlier.
func (n *Node) startPrintQueues() {
	n.queues = &printQueues{path: filepath.Join(n.Home, "printqueues.json"), wakeCh: make(chan struct{}, 1)}
	var saved []AddedPrinter
	if b, err := os.ReadFile(n.queues.path); err == nil {
		if err := json.Unmarshal(b, &saved); err != nil {
			n.log.Warn("printqueues.json unreadable; added printers forgotten", "err", err)
		}
	}
	for _, ap := range saved {
		if ap.Queue == "" || ap.Peer == "" || ap.Printer == "" {
			continue
		}
		sp, err := n.serve(ap)
		if err != nil {
			n.log.Warn("cannot serve added printer", "queue", ap.Queue, "err", err)
			continue
		}
		n.queues.list = append(n.queues.list, sp)
		if sp.ap.Port != ap.Port {
			// The old port is taken: the OS queue must follow.
			go n.registerQueue(n.ctx, sp)
		}
	}
	n.creds.onRemember = func(id string) { n.releasePrintJobs(id) }
	n.goRun(n.watchPrintQueues)
}

// serve starts the endpoint of an added printer, on its old port if free.
func (n *Node) serve(ap AddedPrinter) (*servedPrinter, error) {
	sp := &servedPrinter{n: n, ap: ap}
	srv, err := ippserve.New(ippserve.Config{Name: ap.Queue, UUID: ap.UUID, Printer: sp,
		SpoolDir: filepath.Join(n.Home, "spool", "queues", ap.Queue), Logger: n.log})
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(ap.Port); err != nil {
		if ap.Port == 0 {
			return nil, err
		}
		if err := srv.Listen(0); err != nil {
			return nil, err
		}
	}
	sp.srv = srv
	sp.ap.Port = srv.Port()
	return sp, nil
}

func (n *Node) registerQueue(ctx context.Context, sp *servedPrinter) error {
	sp.mu.Lock()
	ap := sp.ap
	sp.mu.Unlock()
	info := fmt.Sprintf("%s on %s", ap.Printer, ap.PeerName)
	if err := printing.AddOSQueue(ctx, ap.Queue, sp.srv.URI(), info, "Peerdesk: "+ap.PeerName); err != nil {
		n.log.Warn("cannot register print queue", "queue", ap.Queue, "err", err)
		return err
	}
	if ap.Disabled != "" {
		return printing.SetOSQueueState(ctx, ap.Queue, ap.Disabled, true)
	}
	return n.saveQueues()
}

func (n *Node) saveQueues() error {
	n.queues.mu.Lock()
	list := make([]AddedPrinter, 0, len(n.queues.list))
	for _, sp := range n.queues.list {
		sp.mu.Lock()
		list = append(list, sp.ap)
		sp.mu.Unlock()
	}
	n.queues.mu.Unlock()
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(n.queues.path, b, 0o600)
}

// PrinterAdd adds PEER:PRINTER to this machine's printers: it checks that
// creds may print there, serves the printer on 127.0.0.1 and registers it
// with the OS print system.
func (n *Node) PrinterAdd(ctx context.Context, rp remote.Path, creds Creds) (AddedPrinterInfo, error) {
	if rp.Share == "" || rp.Path != "" {
		return AddedPrinterInfo{}, fmt.Errorf("%w: printer add needs PEER:PRINTER", ErrUsage)
	}
	peer, t, err := n.target(rp.Peer, creds)
	if err != nil {
		return AddedPrinterInfo{}, err
	}
	list, err := n.printClient.Printers(ctx, t)
	if err != nil {
		return AddedPrinterInfo{}, fmt.Errorf("printers of %s: %w", peer.Name, err)
	}
	i := slices.IndexFunc(list, func(p printing.RemotePrinter) bool { return p.Name == rp.Share })
	if i < 0 {
		return AddedPrinterInfo{}, fmt.Errorf("%w: %s shares no printer %s with you", transport.ErrNotFound, peer.Name, rp.Share)
	}
	n.creds.Remember(peer.ID, creds)
	queue := printing.QueueName(peer.Name, rp.Share)
	n.queues.mu.Lock()
	for _, sp := range n.queues.list {
		if sp.ap.Queue == queue {
			n.queues.mu.Unlock()
			return AddedPrinterInfo{}, fmt.Errorf("%w: %s is already added as %s (printer rm %s first)", ErrUsage, rp.Peer+":"+rp.Share, queue, queue)
		}
	}
	n.queues.mu.Unlock()
	ap := AddedPrinter{Queue: queue, Peer: peer.ID, PeerName: peer.Name, Printer: rp.Share, User: creds.User,
		Fingerprint: peer.Fingerprint, UUID: "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("peerdesk:"+peer.ID+":"+rp.Share)).String()}
	sp, err := n.serve(ap)
	if err != nil {
		return AddedPrinterInfo{}, err
	}
	sp.setRemote(list[i])
	n.queues.mu.Lock()
	n.queues.list = append(n.queues.list, sp)
	n.queues.mu.Unlock()
	if err := n.registerQueue(ctx, sp); err != nil {
		n.dropQueue(sp)
		return AddedPrinterInfo{}, fmt.Errorf("register %s with the print system: %w", queue, err)
	}
	n.log.Info("printer added", "queue", queue, "peer", peer.ID, "printer", rp.Share, "uri", sp.srv.URI())
	return sp.info(), nil
}

func (n *Node) dropQueue(sp *servedPrinter) {
	n.queues.mu.Lock()
	n.queues.list = slices.DeleteFunc(n.queues.list, func(o *servedPrinter) bool { return o == sp })
	n.queues.mu.Unlock()
	_ = sp.srv.Close()
	_ = os.RemoveAll(filepath.Join(n.Home, "spool", "queues", sp.ap.Queue))
}

// findQueue finds an added printer by queue name or PEER:PRINTER.
func (n *Node) findQueue(ref string) (*servedPrinter, error) {
	n.queues.mu.Lock()
	defer n.queues.mu.Unlock()
	for _, sp := range n.queues.list {
		sp.mu.Lock()
		ap := sp.ap
		sp.mu.Unlock()
		if ref == ap.Queue || ref == ap.PeerName+":"+ap.Printer || ref == ap.Peer+":"+ap.Printer {
			return sp, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrPrinterNotAdded, ref)
}

// PrinterRemove removes an added printer from the OS print system and
// stops serving it.
func (n *Node) PrinterRemove(ctx context.Context, ref string) error {
	sp, err := n.findQueue(ref)
	if err != nil {
		return err
	}
	if err := printing.RemoveOSQueue(ctx, sp.ap.Queue); err != nil {
		n.log.Warn("cannot remove print queue", "queue", sp.ap.Queue, "err", err)
		return err
	}
	n.dropQueue(sp)
	n.log.Info("printer removed", "queue", sp.ap.Queue)
	return n.saveQueues()
}

// AddedPrinters lists the added printers as saved, without asking their
// owners.
func (n *Node) AddedPrinters() []AddedPrinter {
	n.queues.mu.Lock()
	defer n.queues.mu.Unlock()
	out := make([]AddedPrinter, 0, len(n.queues.list))
	for _, sp := range n.queues.list {
		sp.mu.Lock()
		out = append(out, sp.ap)
		sp.mu.Unlock()
	}
	return out
}

// PrinterList lists the added printers, each checked with its owner first.
func (n *Node) PrinterList(ctx context.Context) []AddedPrinterInfo {
	n.queues.mu.Lock()
	list := slices.Clone(n.queues.list)
	n.queues.mu.Unlock()
	out := make([]AddedPrinterInfo, 0, len(list))
	for _, sp := range list {
		n.refresh(ctx, sp)
		out = append(out, sp.info())
	}
	return out
}

func (sp *servedPrinter) setRemote(r printing.RemotePrinter) {
	sp.mu.Lock()
	sp.remote, sp.known = r, true
	sp.mu.Unlock()
}

func (sp *servedPrinter) info() AddedPrinterInfo {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	in := AddedPrinterInfo{AddedPrinter: sp.ap, URI: sp.srv.URI(), State: AddedReady, Held: sp.srv.Held()}
	p, online := sp.n.Peers.Get(sp.ap.Peer)
	switch {
	case sp.ap.Disabled != "":
		in.State, in.Message = AddedDisabled, sp.ap.Disabled
	case sp.held != "":
		in.State, in.Message = AddedHeld, sp.held
	case !online || !p.Online:
		in.State, in.Message = AddedOffline, sp.ap.PeerName+" is not online"
	case sp.known && sp.remote.Message != "":
		in.Message = sp.remote.Message
	}
	return in
}

// Describe is the endpoint's view of the remote printer (ippserve).
func (sp *servedPrinter) Describe(ctx context.Context) ippserve.Description {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	r := sp.remote
	d := ippserve.Description{Info: fmt.Sprintf("%s on %s", sp.ap.Printer, sp.ap.PeerName),
		State: ippserve.StateIdle, Accepting: true, Message: r.Message, Formats: r.Formats}
	if r.Caps != nil {
		d.MakeModel, d.Media, d.MediaDefault = r.Caps.MakeModel, r.Caps.Media, r.Caps.MediaDefault
		d.Color, d.Duplex, d.CopiesMax, d.PagesPerMinute = r.Caps.Color, r.Caps.Duplex, r.Caps.CopiesMax, r.Caps.PagesPerMinute
	}
	switch r.State {
	case printing.PrinterProcessing:
		d.State = ippserve.StateProcessing
	case printing.PrinterPaused:
		d.State = ippserve.StateStopped
	case printing.PrinterRejecting:
		d.Accepting = false
	}
	if !sp.known {
		// Not heard from the owner yet: what every driverless client
		// can send; the owner checks the document anyway.
		d.Formats = []string{printing.FormatPDF, printing.FormatJPEG, printing.FormatPWGRaster}
	}
	switch {
	case sp.ap.Disabled != "":
		d.State, d.Accepting, d.Message = ippserve.StateStopped, false, sp.ap.Disabled
	case sp.held != "":
		d.Message = sp.held
	}
	return d
}

// Print sends one job to the owner as `print` does and follows it.
func (sp *servedPrinter) Print(ctx context.Context, job *ippserve.Job, report func(ippserve.Status)) error {
	n := sp.n
	sp.mu.Lock()
	ap := sp.ap
	sp.mu.Unlock()
	if ap.Disabled != "" {
		return errors.New(ap.Disabled)
	}
	creds := n.creds.Of(ap.Peer)
	if ap.User != "" && creds.User == "" {
		return sp.hold("")
	}
	peer, ok := n.Peers.Get(ap.Peer)
	if !ok {
		return fmt.Errorf("%s is no longer known here", ap.PeerName)
	}
	t := n.targetOf(peer, creds)
	where := ap.PeerName + ":" + ap.Printer
	report(ippserve.Status{State: ippserve.JobProcessing, Message: "sending to " + where})
	r, err := n.printClient.Submit(ctx, t, ap.Printer, job.Document, job.Size, printing.SubmitOptions{
		Name: job.Name, Copies: job.Copies,
		Options: printing.JobOptions{PageRanges: job.PageRanges, Media: job.Media, Sides: job.Sides, ColorMode: job.ColorMode}})
	switch {
	case errors.Is(err, transport.ErrAccessDenied):
		n.creds.forget(ap.Peer)
		return sp.hold(" (the password " + ap.PeerName + " knew no longer works)")
	case err != nil:
		return fmt.Errorf("print on %s: %w", where, err)
	}
	n.log.Info("print job from the local print system sent", "queue", ap.Queue, "peer", ap.Peer, "job", r.JobID)
	for {
		report(ippserve.Status{State: remoteToLocal(r.State), Message: fmt.Sprintf("%s job %d: %s %s", where, r.JobID, r.State, r.Message)})
		if r.Done {
			break
		}
		next, err := n.printClient.Job(ctx, t, ap.Printer, r, followWait)
		if ctx.Err() != nil {
			// Canceled in the local print system: cancel at the owner.
			cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			_, cerr := n.printClient.Cancel(cctx, t, ap.Printer, r.JobID)
			cancel()
			if cerr != nil {
				n.log.Warn("cannot cancel print job at its owner", "peer", ap.Peer, "job", r.JobID, "err", cerr)
			}
			return ippserve.ErrJobCanceled
		}
		if err != nil {
			// The owner did not answer: ask again after a pause, as
			// the job goes on there.
			select {
			case <-ctx.Done():
				continue
			case <-time.After(2 * time.Second):
			}
			continue
		}
		r = next
	}
	switch r.State {
	case printing.StateCompleted:
		return nil
	case printing.StateCanceled:
		return fmt.Errorf("%w on %s", ippserve.ErrJobCanceled, where)
	}
	return fmt.Errorf("%s job %d failed: %s", where, r.JobID, r.Message)
}

func remoteToLocal(state string) string {
	switch state {
	case printing.StatePending, printing.StatePaused:
		return ippserve.JobPending
	case printing.StateHeld:
		return ippserve.JobHeld
	}
	return ippserve.JobProcessing
}

// hold keeps the job until the user signs in to the owner. The OS queue
// is stopped with the message, which is how its print system shows it
// (CUPS' ipp backend does not pass the endpoint's state message on): the
// job goes back to it, pending, and is sent again once the user signed in.
func (sp *servedPrinter) hold(why string) error {
	msg := "sign in to " + sp.ap.PeerName + " in Peerdesk" + why
	sp.mu.Lock()
	first := sp.held == ""
	sp.held = msg
	queue := sp.ap.Queue
	sp.mu.Unlock()
	sp.n.log.Info("print job held until sign-in", "queue", queue, "peer", sp.ap.Peer)
	if first {
		go func() {
			ctx, cancel := context.WithTimeout(sp.n.ctx, time.Minute)
			defer cancel()
			if err := printing.SetOSQueueState(ctx, queue, msg, false); err != nil {
				sp.n.log.Warn("cannot stop print queue to show the hold", "queue", queue, "err", err)
				return
			}
			sp.mu.Lock()
			sp.stopped = true
			sp.mu.Unlock()
			// Stopping the queue ends its running job, and the
			// scheduler then writes that job's last words over the
			// message: say it again once the backend is gone.
			time.Sleep(2 * time.Second)
			sp.mu.Lock()
			still := sp.held != ""
			sp.mu.Unlock()
			if still {
				_ = printing.SetOSQueueState(ctx, queue, msg, false)
			}
		}()
	}
	return fmt.Errorf("%s: %w", msg, ippserve.ErrHold)
}

// releasePrintJobs sends the held jobs of the printers of peer id, now that
// credentials for it were accepted.
func (n *Node) releasePrintJobs(id string) {
	if n.queues == nil {
		return
	}
	n.queues.mu.Lock()
	list := slices.Clone(n.queues.list)
	n.queues.mu.Unlock()
	for _, sp := range list {
		sp.mu.Lock()
		mine, held, stopped := sp.ap.Peer == id, sp.held != "", sp.stopped
		sp.held, sp.stopped = "", false
		sp.mu.Unlock()
		if !mine || !held {
			continue
		}
		if !stopped {
			sp.srv.Release()
			continue
		}
		// The jobs are back in the OS queue: drop the endpoint's held
		// copies (or they would print twice) and start the queue.
		sp.srv.DropHeld()
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		if err := printing.SetOSQueueState(ctx, sp.ap.Queue, "", false); err != nil {
			n.log.Warn("cannot start print queue after sign-in", "queue", sp.ap.Queue, "err", err)
		}
		cancel()
	}
}

// watchPrintQueues refreshes the added printers every 30 s and when their
// owner comes, goes or changes.
func (n *Node) watchPrintQueues(ctx context.Context) {
	events, unsub := n.Subscribe()
	defer unsub()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	defer func() {
		n.queues.mu.Lock()
		for _, sp := range n.queues.list {
			_ = sp.srv.Close()
		}
		n.queues.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.queues.wakeCh:
		case e := <-events:
			if e.Kind == discovery.EventUpdated {
				continue
			}
		}
		n.queues.mu.Lock()
		list := slices.Clone(n.queues.list)
		n.queues.mu.Unlock()
		for _, sp := range list {
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			n.refresh(rctx, sp)
			cancel()
		}
	}
}

// refresh asks the owner about an added printer. A printer that is no
// longer shared with the account, or whose owner presents another key, is
// disabled with the reason; a peer offline, not signed in or refusing the
// password leaves the printer as it was.
func (n *Node) refresh(ctx context.Context, sp *servedPrinter) {
	sp.mu.Lock()
	ap := sp.ap
	sp.mu.Unlock()
	if ap.Disabled != "" && ap.DisabledBy != "share" {
		return
	}
	peer, ok := n.Peers.Get(ap.Peer)
	// The trust store knows what the table does not: another key a
	// handshake claiming this id presented, and the key pinned now.
	pin := n.Trust.Get(ap.Peer)
	switch {
	case !ok:
		n.disableQueue(ctx, sp, "unknown", ap.PeerName+" is no longer known to this PC; add the printer again.")
		return
	case pin.Offered != "" || (ap.Fingerprint != "" && pin.Fingerprint != "" && pin.Fingerprint != ap.Fingerprint):
		n.disableQueue(ctx, sp, "identity", ap.PeerName+"'s identity changed; check it in Peerdesk and add the printer again.")
		return
	case !peer.Online:
		return
	}
	creds := n.creds.Of(ap.Peer)
	if ap.User != "" && creds.User == "" {
		return // not signed in: cannot tell
	}
	list, err := n.printClient.Printers(ctx, n.targetOf(peer, creds))
	if err != nil {
		return
	}
	i := slices.IndexFunc(list, func(p printing.RemotePrinter) bool { return p.Name == ap.Printer })
	if i < 0 {
		if ap.Disabled == "" {
			n.disableQueue(ctx, sp, "share", ap.PeerName+" no longer shares "+ap.Printer+" with you.")
		}
		return
	}
	sp.setRemote(list[i])
	if ap.Disabled != "" {
		// Shared again.
		sp.mu.Lock()
		sp.ap.Disabled, sp.ap.DisabledBy = "", ""
		sp.mu.Unlock()
		if err := printing.SetOSQueueState(ctx, ap.Queue, "", false); err != nil {
			n.log.Warn("cannot enable print queue", "queue", ap.Queue, "err", err)
		}
		n.log.Info("added printer works again", "queue", ap.Queue)
		_ = n.saveQueues()
	}
}

// disableQueue stops the OS queue with the reason and refuses its jobs.
func (n *Node) disableQueue(ctx context.Context, sp *servedPrinter, by, why string) {
	sp.mu.Lock()
	sp.ap.Disabled, sp.ap.DisabledBy = why, by
	queue := sp.ap.Queue
	sp.mu.Unlock()
	n.log.Warn("added printer disabled", "queue", queue, "why", why)
	if err := printing.SetOSQueueState(ctx, queue, why, true); err != nil {
		n.log.Warn("cannot stop print queue", "queue", queue, "err", err)
	}
	_ = n.saveQueues()
}
