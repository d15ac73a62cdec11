package printing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

// ServiceConfig configures a Service. Access and Shares are required; the
// zero value of every other field is a safe default.
type ServiceConfig struct {
	// Backend is the local spooler. Nil: every printer is reported
	// unavailable and every job refused (a machine without a spooler still
	// answers with a clear error).
	Backend Backend
	// Access checks credentials and rights and writes the audit log; it is
	// the folder shares' own checker, so printers are guarded exactly like
	// folders (rate-limited logins, resource passwords, guests).
	Access *access.Access
	// Shares holds the printer shares.
	Shares *access.Store
	// TempDir holds documents while they arrive (default os.TempDir()).
	TempDir string
	// PollInterval is how often a job is asked about while a follower waits
	// (default 50 ms: cups-pdf prints a page in well under a second, and
	// a coarse poll would show as latency).
	PollInterval time.Duration
	// CopiesPerHour bounds the copies one peer's account prints here in
	// an hour (default DefaultCopiesPerHour).
	CopiesPerHour int
	Logger        *slog.Logger
}

// Service answers the printer-sharing ops on the owning peer: it lists the
// printer shares a caller may use, takes documents over the transport and
// submits them to the local spooler as account@peer-name, and reports the
// jobs' states back. Register it on the transport's Mux.
type Service struct {
	cfg   ServiceConfig
	log   *slog.Logger
	gate  *access.PeerGate
	quota *copyQuota

	mu   sync.Mutex
	jobs map[jobKey]jobOwner
}

type jobKey struct {
	queue string
	id    int
}

// jobOwner is who submitted a job: only they may follow it.
type jobOwner struct {
	peer, account string
	at            time.Time
}

// maxTrackedJobs bounds the job owners remembered; the oldest go first.
const maxTrackedJobs = 10_000

// NewService returns a Service.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Access == nil || cfg.Shares == nil {
		return nil, errors.New("printing: ServiceConfig needs Access and Shares")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	return &Service{cfg: cfg, log: cfg.Logger, gate: access.NewPeerGate(2), quota: newCopyQuota(cfg.CopiesPerHour), jobs: map[jobKey]jobOwner{}}, nil
}

// Register registers the service's ops on m.
func (svc *Service) Register(m *transport.Mux) {
	m.Handle(OpPrintersList, svc.handler(OpPrintersList, svc.servePrinters))
	m.Handle(OpPrintSubmit, svc.handler(OpPrintSubmit, svc.serveSubmit))
	m.Handle(OpPrintJob, svc.handler(OpPrintJob, svc.serveJob))
	m.Handle(OpPrintCancel, svc.handler(OpPrintCancel, svc.serveCancel))
}

// handler adapts fn with access.ServeErrors and this package's public
// errors.
func (svc *Service) handler(op string, fn func(ctx context.Context, req transport.Request, s *transport.Stream) error) transport.HandlerFunc {
	return access.ServeErrors(svc.log, op, "the printer's peer", isPublic, fn)
}

// publicClasses are the errors whose messages may go to the remote peer.
var publicClasses = []error{
	transport.ErrAccessDenied, transport.ErrNotFound, transport.ErrProtocol, transport.ErrTruncated,
	access.ErrBusy, ErrQueueRejecting, ErrUnsupportedFormat, ErrUnavailable, ErrQueueNotFound,
	ErrJobFailed, ErrJobCanceled, ErrNotAuthorized, ErrRefused,
}

func isPublic(err error) bool {
	for _, class := range publicClasses {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}

// servePrinters answers printers.list: the printer shares the caller holds
// the print right on, each with its queue's state. Share passwords are not
// needed to see a printer, as with folders.
func (svc *Service) servePrinters(ctx context.Context, req transport.Request, s *transport.Stream) error {
	var in authRequest
	if err := transport.DecodeBody(req, &in); err != nil {
		return err
	}
	visible, account, err := svc.cfg.Access.Visible(ctx, s.Peer(), in.Auth, false)
	if err != nil {
		return err
	}
	out := []RemotePrinter{}
	var queues map[string]Queue
	var qerr error
	for _, v := range visible {
		if v.Kind != access.KindPrinter || !v.Right.Covers(access.RightPrint) {
			continue
		}
		sh, err := svc.cfg.Shares.Get(v.Name)
		if err != nil {
			continue // removed meanwhile
		}
		if queues == nil && qerr == nil {
			queues, qerr = svc.queues(ctx)
		}
		p := RemotePrinter{Name: sh.Name, Password: sh.HasPassword(), Formats: []string{}}
		q, ok := queues[sh.Queue]
		switch {
		case qerr != nil:
			p.State, p.Message = PrinterUnavailable, spoolerTrouble("this peer", qerr)
		case !ok:
			p.State, p.Message = PrinterUnavailable, "the printer's queue no longer exists on this peer"
		default:
			p.State, p.Message, p.Formats = printerState(q), q.Message, sendableFormats(q.Formats)
			caps := q.Caps
			p.Caps = &caps
		}
		out = append(out, p)
	}
	svc.cfg.Access.Audit(s.Peer(), account, access.ActionList, "printers", true, fmt.Sprintf("%d printers", len(out)))
	return s.Respond(out)
}

// queues lists the spooler's queues by name.
func (svc *Service) queues(ctx context.Context) (map[string]Queue, error) {
	if svc.cfg.Backend == nil {
		return nil, ErrUnavailable
	}
	list, err := svc.cfg.Backend.Queues(ctx)
	if err != nil {
		svc.log.Warn("cannot list print queues", "err", err)
		return nil, err
	}
	m := make(map[string]Queue, len(list))
	for _, q := range list {
		m[q.Name] = q
	}
	return m, nil
}

// printerState is a queue's state for the sender.
func printerState(q Queue) string {
	switch {
	case !q.Accepting:
		return PrinterRejecting
	case q.State == QueueStopped:
		return PrinterPaused
	case q.State == QueueProcessing:
		return PrinterProcessing
	}
	return PrinterIdle
}

// sendableFormats are the formats worth sending to a queue: the ones
// peerdesk recognises that the queue lists, plus, when it auto-types
// (application/octet-stream, as every CUPS queue does), PDF, PostScript,
// text and the images, which CUPS's filters turn into print. XPS is listed
// only where the queue names it: CUPS has no XPS filter, so an auto-typed
// XPS document would fail in the spooler. The rest of a CUPS queue's
// thirty-odd types (its filters' inputs) are left out, since peerdesk does
// not send them.
func sendableFormats(supported []string) []string {
	out := []string{}
	for _, f := range []string{FormatPDF, FormatPostScript, FormatText, FormatPNG, FormatJPEG, FormatPWGRaster, FormatXPS, FormatOXPS} {
		listed := slices.Contains(supported, f)
		if listed || (f != FormatXPS && f != FormatOXPS && slices.Contains(supported, FormatUnknown)) {
			out = append(out, f)
		}
	}
	return out
}

// printerShare authorizes creds to print on the named printer share.
// Refusals are audited (by Access, or here for a folder named as printer).
func (svc *Service) printerShare(ctx context.Context, peer transport.PeerInfo, creds access.Credentials, name string) (access.Grant, error) {
	g, err := svc.cfg.Access.Authorize(ctx, peer, creds, name, access.RightPrint)
	if err != nil {
		return g, err
	}
	if g.Share.Kind != access.KindPrinter {
		svc.cfg.Access.AuditGrant(g, access.ActionPrint, g.Share.Name, false, "not a printer")
		return g, fmt.Errorf("%w: %s is not a printer", transport.ErrNotFound, g.Share.Name)
	}
	return g, nil
}

// serveSubmit answers print.submit: authorize, check the queue (present,
// accepting, taking the format) before a byte of the document travels, take
// the document into a temp file, submit it as account@peer-name, answer
// with the job's first state.
func (svc *Service) serveSubmit(ctx context.Context, req transport.Request, s *transport.Stream) error {
	var in submitRequest
	if err := transport.DecodeBody(req, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	peer := s.Peer()
	g, err := svc.printerShare(ctx, peer, in.Auth, in.Printer)
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		svc.cfg.Access.AuditGrant(g, access.ActionPrint, g.Share.Name, false, err.Error())
		return err
	}
	release, ok := svc.gate.Enter(peer.ID)
	if !ok {
		return refuse(fmt.Errorf("%w: too many print jobs arriving from this peer; retry shortly", access.ErrBusy))
	}
	defer release()

	q, err := svc.queue(ctx, g.Share)
	if err != nil {
		return refuse(err)
	}
	if !q.Accepting {
		return refuse(fmt.Errorf("%w: printer %s%s", ErrQueueRejecting, g.Share.Name, parenthesized(q.Message)))
	}
	// The share's name stands for the queue's in the message: the sender
	// knows only the share.
	if _, err := chooseFormat(g.Share.Name, in.Format, q.Formats); err != nil {
		return refuse(err)
	}
	opts := in.options()
	if err := opts.check(g.Share.Name, q.Caps); err != nil {
		return refuse(err)
	}

	undoQuota, err := svc.quota.take(quotaKey{peer.ID, g.Account}, in.Copies, time.Now())
	if err != nil {
		return refuse(err)
	}
	submitted := false
	defer func() {
		if !submitted {
			undoQuota()
		}
	}()

	f, err := os.CreateTemp(svc.cfg.TempDir, "peerdesk-print-*")
	if err != nil {
		return fmt.Errorf("spool document: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if err := s.Respond(struct{}{}); err != nil {
		return err
	}
	got, err := s.ReceiveBody(ctx, f, in.Size)
	if err != nil {
		return fmt.Errorf("receive document for %s at %d of %d bytes: %w", g.Share.Name, got, in.Size, err)
	}
	if got != in.Size {
		return fmt.Errorf("%w: document for %s: %d of %d bytes", transport.ErrTruncated, g.Share.Name, got, in.Size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}

	user := RequestingUser(g.Account, displayedPeer(g.PeerName, peer), peer.ID)
	id, err := svc.cfg.Backend.Submit(ctx, SubmitRequest{
		Queue:    g.Share.Queue,
		JobName:  fmt.Sprintf("%s from %s", in.Name, peerLabel(displayedPeer(g.PeerName, peer), peer.ID)),
		User:     user,
		Copies:   in.Copies,
		FileName: in.Name,
		Document: f,
		Size:     in.Size,
		Options:  opts,
	})
	if err != nil {
		return refuse(svc.publicSubmitErr(g.Share.Name, err))
	}
	submitted = true
	svc.track(jobKey{g.Share.Queue, id}, jobOwner{peer: peer.ID, account: g.Account, at: time.Now()})
	svc.cfg.Access.AuditGrant(g, access.ActionPrint, g.Share.Name, true,
		fmt.Sprintf("job %d: %s, %d bytes, %d copies, as %s", id, in.Name, in.Size, max(in.Copies, 1), user))
	svc.log.Info("remote print job submitted", "peer", peer.ID, "share", g.Share.Name, "queue", g.Share.Queue, "job", id, "bytes", in.Size)
	return s.Respond(svc.status(ctx, g.Share.Queue, id))
}

// spoolerTrouble says for people why the spooler of whose ("this peer")
// gave err: what it answered, or that it did not answer at all.
func spoolerTrouble(whose string, err error) string {
	if said, ok := spoolerSaid(err); ok {
		return "the print spooler of " + whose + " answered " + said
	}
	return "the print spooler of " + whose + " does not answer"
}

// queue looks up a printer share's queue.
func (svc *Service) queue(ctx context.Context, sh access.Share) (Queue, error) {
	queues, err := svc.queues(ctx)
	if err != nil {
		return Queue{}, svc.publicSubmitErr(sh.Name, err)
	}
	q, ok := queues[sh.Queue]
	if !ok {
		return Queue{}, fmt.Errorf("%w: printer %s: its queue no longer exists on the printer's peer: %w", transport.ErrNotFound, sh.Name, ErrQueueNotFound)
	}
	return q, nil
}

// publicSubmitErr turns a backend refusal into a message fit for the
// sender: the class it branches on and, where the spooler answered, the
// spooler's own words; no local queue names or server addresses.
func (svc *Service) publicSubmitErr(printer string, err error) error {
	var spooler *SpoolerError
	answered := errors.As(err, &spooler)
	switch {
	case errors.Is(err, ErrUnsupportedFormat):
		// The content is not what the sender said it was.
		return fmt.Errorf("printer %s: the document's content is not in a format the printer takes: %w", printer, ErrUnsupportedFormat)
	case errors.Is(err, ErrQueueRejecting):
		return fmt.Errorf("%w: printer %s", ErrQueueRejecting, printer)
	case errors.Is(err, ErrQueueNotFound):
		return fmt.Errorf("%w: printer %s: its queue no longer exists on the printer's peer: %w", transport.ErrNotFound, printer, ErrQueueNotFound)
	case answered:
		svc.log.Warn("print spooler refused", "share", printer, "err", err)
		return fmt.Errorf("%w: printer %s: %s", spooler.Sentinel, printer, spoolerTrouble("the printer's peer", err))
	case errors.Is(err, ErrUnavailable):
		return fmt.Errorf("%w: printer %s: %s", ErrUnavailable, printer, spoolerTrouble("the printer's peer", err))
	case errors.Is(err, ErrNotAuthorized):
		return fmt.Errorf("%w: printer %s: the print spooler refused the job", ErrNotAuthorized, printer)
	}
	svc.log.Error("print submit failed", "share", printer, "err", err)
	return fmt.Errorf("submit to printer %s failed on the printer's peer (see its log)", printer)
}

func (svc *Service) track(k jobKey, o jobOwner) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.jobs) >= maxTrackedJobs {
		var oldest jobKey
		var at time.Time
		for k, o := range svc.jobs {
			if at.IsZero() || o.at.Before(at) {
				oldest, at = k, o.at
			}
		}
		delete(svc.jobs, oldest)
	}
	svc.jobs[k] = o
}

func (svc *Service) owner(k jobKey) (jobOwner, bool) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	o, ok := svc.jobs[k]
	return o, ok
}

// serveJob answers print.job: once the job's state differs from what the
// follower knows, or when its wait is up.
func (svc *Service) serveJob(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, _, k, err := svc.jobOf(ctx, OpPrintJob, req, s)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(in.WaitMS)*time.Millisecond)
	defer cancel()
	delay := svc.cfg.PollInterval
	for {
		st := svc.status(ctx, k.queue, k.id)
		if !st.sameAs(in.Known) || st.Done {
			return s.Respond(st)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.Respond(st)
		case <-time.After(delay):
		}
		delay = min(delay*5/4, 500*time.Millisecond)
	}
}

// status asks the spooler about a job and says it as the sender sees it.
// A job the spooler forgot is failed (its queue was deleted), never a
// success; a spooler that does not answer, or refuses to tell, leaves the
// job where it was ("processing" with a message saying which) for the
// follower to ask again.
func (svc *Service) status(ctx context.Context, queue string, id int) RemoteJob {
	st, err := svc.cfg.Backend.Job(ctx, queue, id)
	switch {
	case errors.Is(err, ErrJobVanished):
		return RemoteJob{JobID: id, State: StateFailed, Done: true,
			Message: "the job vanished from the printer's queue (was the printer removed?)"}
	case err != nil:
		svc.log.Warn("cannot get print job state", "queue", queue, "job", id, "err", err)
		return RemoteJob{JobID: id, State: StateProcessing, Message: spoolerTrouble("the printer's peer", err)}
	}
	return remoteJob(st)
}

// remoteJob maps a spooler job state to the sender's view.
func remoteJob(st JobStatus) RemoteJob {
	j := RemoteJob{JobID: st.ID, Message: st.Message}
	switch st.State {
	case JobCompleted:
		j.State, j.Done = StateCompleted, true
	case JobCanceled:
		j.State, j.Done = StateCanceled, true
	case JobAborted:
		j.State, j.Done = StateFailed, true
	case JobHeld:
		j.State = StateHeld
	case JobStopped:
		j.State = StatePaused
	case JobPending:
		j.State = StatePending
		if st.Paused {
			j.State = StatePaused
		}
	default:
		j.State = StateProcessing
		if st.Paused {
			j.State = StatePaused
		}
	}
	return j
}

// RequestingUser is the requesting-user-name of a remote job:
// account@peer-name ("alice@desk-2", "guest@desk-2"). Without a display
// name the peer id's first 8 characters stand in. Characters a spooler
// would refuse (controls, '@' in the peer name, spaces) become '-'.
func RequestingUser(account, peerName, peerID string) string {
	clean := func(s string, max int) string {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || unicode.IsSpace(r) || r == '@' {
				return '-'
			}
			return r
		}, strings.ToValidUTF8(strings.TrimSpace(s), "-"))
		if len(s) > max {
			s = s[:max]
			s = strings.ToValidUTF8(s, "")
		}
		return s
	}
	if account == "" {
		account = access.GuestUser
	}
	return clean(account, 64) + "@" + clean(peerLabel(peerName, peerID), 120)
}

// displayedPeer is the name a remote job shows for its peer. A peer picks
// its own name, so any peer could call itself "boss-pc": the name stands
// alone only for a peer whose code the owner verified; others carry their
// id's first 8 characters, which their key proves.
func displayedPeer(name string, peer transport.PeerInfo) string {
	if strings.TrimSpace(name) == "" || peer.Trust == identity.TrustVerified {
		return name
	}
	id := peer.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return name + "~" + id
}

func peerLabel(name, id string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	if len(id) > 8 {
		return id[:8]
	}
	if id == "" {
		return "unknown-peer"
	}
	return id
}

// jobOf reads a print.job or print.cancel request and finds the job it
// names among the sender's own.
func (svc *Service) jobOf(ctx context.Context, op string, req transport.Request, s *transport.Stream) (jobRequest, access.Grant, jobKey, error) {
	var in jobRequest
	if err := transport.DecodeBody(req, &in); err != nil {
		return in, access.Grant{}, jobKey{}, err
	}
	if err := in.validateAs(op); err != nil {
		return in, access.Grant{}, jobKey{}, err
	}
	peer := s.Peer()
	g, err := svc.printerShare(ctx, peer, in.Auth, in.Printer)
	if err != nil {
		return in, g, jobKey{}, err
	}
	k, err := svc.ownJob(peer, g, in.JobID)
	return in, g, k, err
}

// ownJob is the spooler job the peer and account of g submitted as id on
// g's printer. Someone else's job, or one this peer never submitted, gets
// the same answer, so job ids of others cannot be probed.
func (svc *Service) ownJob(peer transport.PeerInfo, g access.Grant, id int) (jobKey, error) {
	k := jobKey{g.Share.Queue, id}
	if o, ok := svc.owner(k); !ok || o.peer != peer.ID || o.account != g.Account {
		return k, fmt.Errorf("%w: no job %d of yours on printer %s", transport.ErrNotFound, id, g.Share.Name)
	}
	return k, nil
}

// serveCancel answers print.cancel: the sender's own job is canceled in
// the spooler (one already over is left as it is) and the cancel audited.
func (svc *Service) serveCancel(ctx context.Context, req transport.Request, s *transport.Stream) error {
	_, g, k, err := svc.jobOf(ctx, OpPrintCancel, req, s)
	if err != nil {
		return err
	}
	st := svc.status(ctx, k.queue, k.id)
	if !st.Done {
		if err := svc.cfg.Backend.Cancel(ctx, k.queue, k.id); err != nil && !errors.Is(err, ErrJobVanished) {
			svc.log.Warn("cancel print job", "queue", k.queue, "job", k.id, "err", err)
			return svc.publicSubmitErr(g.Share.Name, err)
		}
		svc.cfg.Access.AuditGrant(g, access.ActionPrint, g.Share.Name, true, fmt.Sprintf("job %d canceled by its sender", k.id))
		st = svc.status(ctx, k.queue, k.id)
	}
	return s.Respond(st)
}
