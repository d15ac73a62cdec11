package shares

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// AcceptFunc decides a push-send offer: true accepts it into the inbox. It
// may take its time (a GUI asks the person) until ctx ends, which counts as
// a refusal.
type AcceptFunc func(ctx context.Context, o Offer) bool

// Offer is a push-send offer as the accept policy sees it.
type Offer struct {
	ID string
	// Peer is the authenticated sender (its Trust says pinned or verified).
	Peer     transport.PeerInfo
	PeerName string
	Files    []OfferFile
	Total    int64
}

// ServiceConfig configures a Service. Home is required; the zero value of
// every other field is a safe default.
type ServiceConfig struct {
	// Home holds accounts.json, shares.json and audit.log.
	Home string
	// Name is this peer's display name, told to senders.
	Name string
	// Inbox receives pushed files (default: the user's Downloads/Peerdesk),
	// created on first use.
	Inbox string
	// InboxFunc, if set, is asked for the inbox on every offer instead (a
	// setting the user may change while the peer runs).
	InboxFunc func() string
	// Accept decides push-send offers; nil refuses them all.
	Accept AcceptFunc
	// OfferTimeout bounds how long an offer waits for Accept (default 2 min).
	OfferTimeout time.Duration
	// PeerName names peer ids in the audit log and for Accept.
	PeerName func(id string) string
	Logger   *slog.Logger
	// Accounts, Shares and Audit are opened from Home when nil. An Audit
	// log opened here is closed by Close.
	Accounts *access.Accounts
	Shares   *access.Store
	Audit    *access.AuditLog
	// Limiter counts failed logins (default: NewLimiter defaults).
	Limiter *access.Limiter
	// Limits, if set, cap the rate of the file contents this peer serves
	// (Up) and receives (Down); nil: no limits.
	Limits *ratelimit.Limits
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Transfers, if set, records every file pushed to this peer in the
	// transfer history as a receive: the person sees it arrive (and can
	// cancel it) as the files they fetch themselves.
	Transfers *transfer.Manager
}

// Service answers the file-sharing ops of the peer protocol on the owning
// peer. Register it on the transport's Mux.
type Service struct {
	cfg       ServiceConfig
	log       *slog.Logger
	accounts  *access.Accounts
	shares    *access.Store
	audit     *access.AuditLog
	ownsAudit bool
	access    *access.Access
	hashes    *hashCache
	offerGate *access.PeerGate
	// offerLists holds a slot per offer file list being read.
	offerLists chan struct{}

	mu      sync.Mutex
	offers  map[string]*offer
	uploads map[string]*uploadHold
}

// NewService opens the stores of cfg.Home (unless given) and returns the
// service.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Home == "" {
		return nil, errors.New("shares: ServiceConfig needs Home")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PeerName == nil {
		cfg.PeerName = func(string) string { return "" }
	}
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = 2 * time.Minute
	}
	if cfg.Inbox == "" {
		cfg.Inbox = DefaultInbox()
	}
	svc := &Service{
		cfg: cfg, log: cfg.Logger, accounts: cfg.Accounts, shares: cfg.Shares, audit: cfg.Audit,
		hashes: newHashCache(20000), offerGate: access.NewPeerGate(2), offerLists: make(chan struct{}, maxOfferLists),
		offers: map[string]*offer{}, uploads: map[string]*uploadHold{},
	}
	var err error
	if svc.accounts == nil {
		if svc.accounts, err = access.OpenAccounts(cfg.Home); err != nil {
			return nil, err
		}
	}
	if svc.shares == nil {
		if svc.shares, err = access.OpenStore(cfg.Home); err != nil {
			return nil, err
		}
	}
	if svc.audit == nil {
		if svc.audit, err = access.OpenAuditLog(cfg.Home, access.AuditConfig{Logger: cfg.Logger, Now: cfg.Now}); err != nil {
			return nil, err
		}
		svc.ownsAudit = true
	}
	svc.access = access.NewAccess(access.AccessConfig{
		Accounts: svc.accounts, Shares: svc.shares, Audit: svc.audit, Limiter: cfg.Limiter,
		PeerName: cfg.PeerName, Logger: cfg.Logger, Now: cfg.Now,
	})
	return svc, nil
}

// DefaultInbox is where pushed files land unless configured: the user's
// Downloads/Peerdesk.
func DefaultInbox() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "Peerdesk")
	}
	return filepath.Join(home, "Downloads", "Peerdesk")
}

// Accounts is the service's account store.
func (svc *Service) Accounts() *access.Accounts { return svc.accounts }

// Shares is the service's share store.
func (svc *Service) Shares() *access.Store { return svc.shares }

// AuditLog is the service's audit log.
func (svc *Service) AuditLog() *access.AuditLog { return svc.audit }

// Access is the service's access checker (printing uses it for printer
// shares).
func (svc *Service) Access() *access.Access { return svc.access }

// Inbox is the folder pushed files land in.
func (svc *Service) Inbox() string {
	if svc.cfg.InboxFunc != nil {
		if dir := svc.cfg.InboxFunc(); dir != "" {
			return dir
		}
	}
	return svc.cfg.Inbox
}

// Close flushes and closes what the service opened.
func (svc *Service) Close() error {
	if svc.ownsAudit {
		return svc.audit.Close()
	}
	svc.audit.Flush()
	return nil
}

// Register registers the service's ops on m.
func (svc *Service) Register(m *transport.Mux) {
	m.Handle(OpSharesList, svc.handler(OpSharesList, svc.serveSharesList))
	m.Handle(OpList, svc.handler(OpList, svc.serveList))
	m.Handle(OpStat, svc.handler(OpStat, svc.serveStat))
	m.Handle(OpChunks, svc.handler(OpChunks, svc.serveChunks))
	m.Handle(OpTree, svc.handler(OpTree, svc.serveTree))
	m.Handle(OpRead, svc.handler(OpRead, svc.serveRead))
	m.Handle(OpMkdir, svc.handler(OpMkdir, svc.serveMkdir))
	m.Handle(OpPutBegin, svc.handler(OpPutBegin, svc.servePutBegin))
	m.Handle(OpPutData, svc.handler(OpPutData, svc.servePutData))
	m.Handle(OpSendOffer, svc.handler(OpSendOffer, svc.serveSendOffer))
	m.Handle(OpSendData, svc.handler(OpSendData, svc.serveSendData))
	m.Handle(OpSearch, svc.handler(OpSearch, svc.serveSearch))
}

// handler adapts fn with ServeErrors and this package's public errors.
func (svc *Service) handler(op string, fn func(ctx context.Context, req transport.Request, s *transport.Stream) error) transport.HandlerFunc {
	return access.ServeErrors(svc.log, op, "the serving peer", isPublic, fn)
}

// isPublic reports whether err's message may go to the remote peer: errors
// of the classes this package builds its messages for.
func isPublic(err error) bool {
	for _, class := range []error{transport.ErrAccessDenied, transport.ErrNotFound, transport.ErrProtocol, transport.ErrTruncated, transport.ErrFrameTooLarge, ErrDiskFull, ErrHashMismatch, access.ErrBusy} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}

// decode decodes a request body.
func decode[T any](req transport.Request) (T, error) {
	var v T
	err := transport.DecodeBody(req, &v)
	return v, err
}

// resolve checks a requested path: CleanPath, then our temp files are
// invisible and hidden files need the hidden flag.
func resolve(share, p string, hidden bool) (string, error) {
	clean, err := CleanPath(p)
	if err != nil {
		return "", err
	}
	if clean == "" {
		return "", nil
	}
	for comp := range strings.SplitSeq(clean, "/") {
		if isTempName(comp) {
			return "", fmt.Errorf("%w: %s/%s", transport.ErrNotFound, share, access.Shorten(clean))
		}
	}
	if !hidden && isHidden(clean) {
		return "", fmt.Errorf("%w: %s/%s is hidden (ask for hidden files to see it)", transport.ErrNotFound, share, access.Shorten(clean))
	}
	return clean, nil
}

// fsErr turns a file-system error under root where into one whose message
// may travel: it names the share-relative path only.
func fsErr(err error, where, rel string) error {
	if isPublic(err) {
		return err // already says what it is
	}
	name := where
	if rel != "" {
		name = where + ": " + access.Shorten(rel)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), isNotDirErr(err), errors.Is(err, errNotDir):
		return fmt.Errorf("%w: %s", transport.ErrNotFound, name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %s: the serving peer's file system refuses it", transport.ErrAccessDenied, name)
	case isLoop(err):
		return fmt.Errorf("%w: %s: symlink loop", ErrBadPath, name)
	case isEscape(err):
		return fmt.Errorf("%w: %s: leads outside the share", ErrBadPath, name)
	case isNoSpace(err):
		return fmt.Errorf("%w: %s", ErrDiskFull, name)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %s: exists", transport.ErrAccessDenied, name)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// isEscape reports os.Root's refusal of a path (or symlink) that leads out
// of the root. os does not export that error, only its text.
func isEscape(err error) bool {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// openShare opens a folder share's root.
func (svc *Service) openShare(sh access.Share) (*os.Root, error) {
	if sh.Kind != access.KindFolder {
		return nil, fmt.Errorf("%w: %s is a %s share, not a folder", transport.ErrNotFound, sh.Name, sh.Kind)
	}
	root, err := os.OpenRoot(sh.Path)
	if err != nil {
		svc.log.Warn("share folder unavailable", "share", sh.Name, "err", err)
		return nil, fmt.Errorf("%w: the folder of share %s is not available on the serving peer", transport.ErrNotFound, sh.Name)
	}
	return root, nil
}

// openInbox opens (creating) the inbox's root.
func (svc *Service) openInbox() (*os.Root, error) {
	inbox := svc.Inbox()
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		svc.log.Error("inbox unavailable", "err", err)
		if isNoSpace(err) {
			return nil, fmt.Errorf("%w: inbox", ErrDiskFull)
		}
		return nil, fmt.Errorf("%w: the inbox is not available on the receiving peer", transport.ErrAccessDenied)
	}
	root, err := os.OpenRoot(inbox)
	if err != nil {
		svc.log.Error("inbox unavailable", "err", err)
		return nil, fmt.Errorf("%w: the inbox is not available on the receiving peer", transport.ErrAccessDenied)
	}
	return root, nil
}

// uploadHold is a temp file being written by one request of one peer.
type uploadHold struct {
	peer     string
	stop     context.CancelCauseFunc
	released chan struct{}
}

// errSuperseded ends a request whose sender resumed the same file on a
// new one (lockUpload); the history says so instead of "canceled".
var errSuperseded = fmt.Errorf("%w: the sender resumed it on a new connection", transport.ErrTruncated)

// supersedeWait bounds how long a peer's new upload waits for its older
// one of the same file to let go.
const supersedeWait = 2 * time.Second

// lockUpload marks a temp file as being written by peer, and returns the
// context to write it under and the release to call once its file is
// closed. It fails (access.ErrBusy) while another peer writes it. The
// same peer asking again ends its older request first: that one was cut
// off (the sender's network changed under it; its session is not seen
// dead yet, and would hold the file until its body stalls, 10 s) and the
// sender resumes from what it holds.
func (svc *Service) lockUpload(ctx context.Context, key, peer string) (context.Context, func(), error) {
	for {
		svc.mu.Lock()
		old := svc.uploads[key]
		if old == nil {
			wctx, stop := context.WithCancelCause(ctx)
			h := &uploadHold{peer: peer, stop: stop, released: make(chan struct{})}
			svc.uploads[key] = h
			svc.mu.Unlock()
			return wctx, sync.OnceFunc(func() {
				stop(nil)
				svc.mu.Lock()
				if svc.uploads[key] == h {
					delete(svc.uploads, key)
				}
				svc.mu.Unlock()
				close(h.released)
			}), nil
		}
		svc.mu.Unlock()
		if old.peer != peer {
			return nil, nil, access.ErrBusy
		}
		old.stop(errSuperseded)
		select {
		case <-old.released:
		case <-time.After(supersedeWait):
			return nil, nil, access.ErrBusy
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// resource names a path of a share for the audit log.
func resource(share, rel string) string {
	if rel == "" {
		return share
	}
	return share + "/" + access.Shorten(rel)
}
