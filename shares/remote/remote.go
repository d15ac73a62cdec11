package remote

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Sentinel errors callers branch on.
var (
	// ErrUsage: the request is not one this package can carry out as
	// asked (a path without a share, nothing to send, a hidden name).
	ErrUsage = errors.New("usage")
	// ErrDeclined: the receiver of a push-send said no.
	ErrDeclined = errors.New("declined")
)

// multiSourceMin is the size from which a download looks for the same
// file on other peers to fetch ranges from all of them.
const multiSourceMin = 32 << 20

// Peer is another peer as the file operations need it.
type Peer struct {
	ID    string
	Name  string
	Addrs []string
	// Online: it answered lately. Changed: it presented another key than
	// the pinned one and is not trusted again yet; nothing goes to it.
	Online, Changed bool
}

// Peers is what the file operations need of the peer table.
type Peers interface {
	// Resolve finds the peer ref names (an id, a unique prefix or a name).
	Resolve(ref string) (Peer, error)
	// List is every known peer.
	List() []Peer
}

// Logins remembers the credentials each peer accepted in this run, so
// that a search or a download's other sources ask each peer with its own
// (or as guest), never with another peer's (docs/security.md, H2).
type Logins interface {
	Remember(id string, c access.Credentials)
	Of(id string) access.Credentials
}

// Config is what Files works with.
type Config struct {
	Client    shares.Client
	Transfers *transfer.Manager
	Peers     Peers
	Logins    Logins
	Logger    *slog.Logger
}

// Files carries out what the user asks of other peers' shares.
type Files struct {
	client    shares.Client
	transfers *transfer.Manager
	peers     Peers
	logins    Logins
	log       *slog.Logger
}

// New returns the file operations of cfg.
func New(cfg Config) *Files {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Files{client: cfg.Client, transfers: cfg.Transfers, peers: cfg.Peers, logins: cfg.Logins, log: log}
}

// target resolves a peer reference for a remote request.
func (c *Files) target(ref string, creds access.Credentials) (Peer, access.Target, error) {
	p, err := c.peers.Resolve(ref)
	if err != nil {
		return p, access.Target{}, err
	}
	return p, access.Target{ID: p.ID, Addrs: p.Addrs, Auth: creds}, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Path names a share and a path in it on a peer: PEER:SHARE/PATH.
type Path struct {
	Peer  string `json:"peer"`
	Share string `json:"share,omitempty"`
	Path  string `json:"path,omitempty"`
}

// ParsePath splits PEER[:SHARE[/PATH]].
func ParsePath(s string) (Path, error) {
	peer, rest, _ := strings.Cut(s, ":")
	if peer == "" {
		return Path{}, fmt.Errorf("%w: %q: want PEER:SHARE/PATH", ErrUsage, s)
	}
	share, p, _ := strings.Cut(rest, "/")
	return Path{Peer: peer, Share: share, Path: p}, nil
}

// Listing is what `ls` shows: a peer's shares, or a folder's entries.
type Listing struct {
	Shares  []access.VisibleShare `json:"shares,omitempty"`
	Entries []shares.Entry        `json:"entries,omitempty"`
}

// Browse lists the shares of a peer visible to creds, or a folder of one;
// hidden adds hidden entries, and at the top the shares creds may not
// open, locked (access.RightNone).
func (c *Files) Browse(ctx context.Context, rp Path, creds access.Credentials, hidden bool) (Listing, error) {
	p, t, err := c.target(rp.Peer, creds)
	if err != nil {
		return Listing{}, err
	}
	if rp.Share == "" {
		// hidden at the top: the shares creds may not open too, locked.
		list, err := c.client.ListShares(ctx, t, hidden)
		if err != nil {
			return Listing{}, fmt.Errorf("shares of %s: %w", p.Name, err)
		}
		c.logins.Remember(p.ID, creds)
		return Listing{Shares: list}, nil
	}
	entries, err := c.client.List(ctx, t, rp.Share, rp.Path, hidden)
	if err != nil {
		return Listing{}, fmt.Errorf("list %s:%s/%s: %w", p.Name, rp.Share, rp.Path, err)
	}
	c.logins.Remember(p.ID, creds)
	if entries == nil {
		entries = []shares.Entry{}
	}
	return Listing{Entries: entries}, nil
}

// GetOptions tunes Get.
type GetOptions struct {
	// Dest is a local folder to download into, or a new file name.
	Dest    string `json:"dest"`
	Replace bool   `json:"replace,omitempty"`
	// SingleSource turns off fetching from other peers that hold the file.
	SingleSource bool `json:"single_source,omitempty"`
}

// GotFile is one downloaded file.
type GotFile struct {
	Path      string           `json:"path"`
	Size      int64            `json:"size"`
	SHA256    string           `json:"sha256"`
	Resumed   int64            `json:"resumed"`
	Fetched   int64            `json:"fetched"`
	PerSource map[string]int64 `json:"per_source"`
	// Dropped names the other sources dropped for sending bytes that did
	// not match the owner's chunk sums.
	Dropped []string `json:"dropped,omitempty"`
}

// GetResult is what `get --json` prints.
type GetResult struct {
	Files   []GotFile `json:"files"`
	Bytes   int64     `json:"bytes"`
	Fetched int64     `json:"fetched"`
	Seconds float64   `json:"seconds"`
}

// Get downloads a file or a whole folder from a peer's share. progress,
// if set, hears about every transfer as it moves.
func (c *Files) Get(ctx context.Context, rp Path, creds access.Credentials, opt GetOptions, progress func(transfer.Info)) (GetResult, error) {
	start := time.Now()
	peer, t, err := c.target(rp.Peer, creds)
	if err != nil {
		return GetResult{}, err
	}
	if rp.Share == "" {
		return GetResult{}, fmt.Errorf("%w: get needs PEER:SHARE/PATH", ErrUsage)
	}
	if opt.Dest == "" {
		return GetResult{}, fmt.Errorf("%w: no destination", ErrUsage)
	}
	top, err := c.client.Stat(ctx, t, rp.Share, rp.Path)
	if err != nil {
		return GetResult{}, fmt.Errorf("get %s:%s/%s: %w", peer.Name, rp.Share, rp.Path, err)
	}
	c.logins.Remember(peer.ID, creds)
	base := path.Base("/" + rp.Path)
	if rp.Path == "" || base == "/" {
		base = rp.Share
	}
	if _, err := shares.CleanPath(base); err != nil {
		return GetResult{}, fmt.Errorf("get: remote name %q: %w", base, err)
	}
	var res GetResult
	if !top.Dir {
		dir, name := destFor(opt.Dest, base)
		f, err := c.getFile(ctx, peer, t, rp.Share, rp.Path, top, dir, name, opt, progress)
		if err != nil {
			return res, err
		}
		res.add(f)
		res.Seconds = time.Since(start).Seconds()
		return res, nil
	}
	root := opt.Dest
	if info, err := os.Stat(opt.Dest); err == nil && info.IsDir() {
		root = filepath.Join(opt.Dest, base)
	}
	tree, err := c.client.Tree(ctx, t, rp.Share, rp.Path)
	if err != nil {
		return res, fmt.Errorf("get %s:%s/%s: %w", peer.Name, rp.Share, rp.Path, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	for _, e := range tree {
		// The owner's tree is checked like any remote input: a name
		// that is not a clean relative path never becomes a local path.
		rel, err := shares.CleanPath(e.Path)
		if err != nil || rel == "" {
			return res, fmt.Errorf("get: the peer sent a bad path %q: %w", e.Path, transport.ErrProtocol)
		}
		local := filepath.Join(root, filepath.FromSlash(rel))
		if e.Dir {
			if err := os.MkdirAll(local, 0o755); err != nil {
				return res, fmt.Errorf("get: %w", err)
			}
			continue
		}
		remote := path.Join(rp.Path, rel)
		st, err := c.client.Stat(ctx, t, rp.Share, remote)
		if err != nil {
			return res, fmt.Errorf("get %s:%s/%s: %w", peer.Name, rp.Share, remote, err)
		}
		f, err := c.getFile(ctx, peer, t, rp.Share, remote, st, filepath.Dir(local), filepath.Base(local), opt, progress)
		if err != nil {
			return res, err
		}
		res.add(f)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func (r *GetResult) add(f GotFile) {
	r.Files = append(r.Files, f)
	r.Bytes += f.Size
	r.Fetched += f.Fetched
}

// destFor picks the folder and name a file download lands as: into dest
// if it is a folder (or ends in a separator), else as dest itself.
func destFor(dest, base string) (string, string) {
	if strings.HasSuffix(dest, string(filepath.Separator)) || strings.HasSuffix(dest, "/") {
		return filepath.Clean(dest), base
	}
	if info, err := os.Stat(dest); err == nil && info.IsDir() {
		return dest, base
	}
	if _, err := os.Stat(dest); errors.Is(err, fs.ErrNotExist) && filepath.Ext(dest) == "" && filepath.Ext(base) != "" {
		// `get PEER:docs/a.pdf newdir` means "into newdir".
		return dest, base
	}
	return filepath.Dir(dest), filepath.Base(dest)
}

// The owner's chunk sums are per transfer chunk: a compile error if not.
const _ = uint(shares.ChunkSumSize-transfer.ChunkSize) + uint(transfer.ChunkSize-shares.ChunkSumSize)

func (c *Files) getFile(ctx context.Context, peer Peer, t access.Target, share, p string, st shares.Entry, dir, name string, opt GetOptions, progress func(transfer.Info)) (GotFile, error) {
	sources := []transfer.Source{&remoteSource{c: c.client, t: t, share: share, path: p, name: peer.Name, peers: c.peers, log: c.log}}
	var sums [][sha256.Size]byte
	if !opt.SingleSource && st.Size >= multiSourceMin {
		if others := c.otherSources(ctx, peer.ID, t.Auth, path.Base(p), st); len(others) > 0 {
			// The owner's chunk sums let each other source's chunks be
			// checked as they land: a source that sends other bytes is
			// dropped at its first bad chunk, and the good chunks stay.
			// An owner without fs.chunks (an older version): the sources
			// are used without them, the whole file checked at the end.
			meta, cs, err := c.client.Chunks(ctx, t, share, p)
			switch {
			case err == nil && meta.SHA256 == st.SHA256 && meta.Size == st.Size:
				sums = cs
				sources = append(sources, others...)
			case errors.Is(err, transport.ErrNotFound): // "unknown op"
				sources = append(sources, others...)
			default:
				c.log.Info("multi-source off: no chunk sums from the owner", "peer", peer.ID, "err", err)
			}
		}
	}
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name()
	}
	task := c.transfers.Start(ctx, transfer.KindDownload, strings.Join(names, "+"), share+"/"+p, filepath.Join(dir, name), st.Size)
	report := func() {
		if progress != nil {
			for _, info := range c.transfers.List() {
				if info.ID == task.ID() {
					progress(info)
					return
				}
			}
		}
	}
	var lastReport time.Time
	var mu sync.Mutex
	res, err := transfer.Download(task.Ctx, transfer.Request{
		Remote:     transfer.Remote{Size: st.Size, MTime: st.Mtime, SHA256: st.SHA256},
		Sources:    sources,
		Dir:        dir,
		Name:       name,
		Replace:    opt.Replace,
		ChunkSums:  sums,
		Background: c.client.Limits.Background(),
		Progress: func(done, total int64) {
			task.Progress(done, total)
			mu.Lock()
			defer mu.Unlock()
			if time.Since(lastReport) > 200*time.Millisecond {
				lastReport = time.Now()
				report()
			}
		},
	})
	task.Resumed(res.Resumed)
	if len(res.Dropped) > 0 {
		task.Dropped(res.Dropped)
	}
	info := task.Finish(res.Path, err)
	if progress != nil {
		progress(info)
	}
	if err != nil {
		return GotFile{}, fmt.Errorf("get %s:%s/%s: %w", peer.Name, share, p, err)
	}
	for _, d := range res.Dropped {
		c.log.Warn("a download source sent bytes that do not match the owner's file; dropped", "source", d, "file", share+"/"+p)
	}
	return GotFile{Path: res.Path, Size: st.Size, SHA256: st.SHA256, Resumed: res.Resumed, Fetched: res.Fetched, PerSource: res.PerSource, Dropped: res.Dropped}, nil
}

// remoteSource reads a file of a peer's share for a download.
type remoteSource struct {
	c     shares.Client
	t     access.Target
	share string
	path  string
	name  string
	// peers, if set, is asked again for the peer before a retry (see
	// resumer), and log told of it.
	peers Peers
	log   *slog.Logger
	// read is one request for a range (shares.Client.ReadRange; tests
	// put a fake here), stall how long a range may move no byte
	// (stallTimeout) and retryPause the first wait before a retry.
	read       func(ctx context.Context, t access.Target, off, n int64, w io.Writer) (int64, error)
	stall      time.Duration
	retryPause time.Duration
}

func (s *remoteSource) Name() string { return s.name }

// stallTimeout ends a read that has moved no byte for this long: a peer
// that vanished mid-transfer (crash, cable) never says goodbye. A session
// that broke is retried within it.
const stallTimeout = 15 * time.Second

// ReadRange reads the range, and when the session under it breaks asks
// again for what is still missing, from where it stopped (resumer).
func (s *remoteSource) ReadRange(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	stall := cmp.Or(s.stall, stallTimeout)
	aw := &activityWriter{w: w}
	aw.start()
	var total int64
	// A copy: a download asks one source for two ranges at once, and a
	// retry of either may find the peer at another address.
	t := s.t
	r := resumer{peers: s.peers, t: &t, name: s.name, log: s.log, stall: stall, pause: s.retryPause}
	err := r.run(ctx, &aw.meter, aw.failed.Load, func() error {
		got, err := s.readOnce(ctx, t, stall, off+total, n-total, aw)
		total += got
		return err
	})
	return total, err
}

// resumer carries a transfer over a broken session. A laptop undocked from
// its cable onto Wi-Fi, or a switch that restarted, has the peer back on a
// new session within seconds; before, its downloads, uploads and sends
// failed there (an undocked laptop's download 3 s after the cable went,
// with the peer online throughout). Every transfer resumes from what the
// receiving side holds, so asking again costs nothing that arrived.
type resumer struct {
	// peers, if set, is asked for the peer before each retry: where it
	// is now (it may be back at another address), and whether it is
	// still online and trusted (a peer that said goodbye or changed its
	// key is not asked again).
	peers Peers
	t     *access.Target
	name  string
	log   *slog.Logger // nil: none
	// stall is how long the transfer may move no byte before it gives
	// up; pause the first wait before a retry (firstRetryPause), which
	// doubles up to maxRetryPause while nothing moves.
	stall, pause time.Duration
}

// uploadResumed runs one file's upload or send of size bytes to peer t
// (name) over broken sessions: attempt sends it once, telling done bytes
// to the progress function it is given, which moves task and progress.
// Once its last byte went it is not sent again (meter.sent).
func (c *Files) uploadResumed(task *transfer.Task, t *access.Target, name string, size int64, progress func(transfer.Info), attempt func(onProgress func(done int64)) error) error {
	var m meter
	m.start()
	onProgress := func(done int64) {
		m.reached(done)
		task.Progress(done, size)
		c.reportTask(task, progress)
	}
	r := resumer{peers: c.peers, t: t, name: name, log: c.log, stall: stallTimeout}
	return r.run(task.Ctx, &m, m.sent(size), func() error { return attempt(onProgress) })
}

const (
	firstRetryPause = 250 * time.Millisecond
	maxRetryPause   = 2 * time.Second
)

// run calls attempt until it succeeds or fails for a reason a new session
// does not mend. m is what the transfer moved (started); final, if set,
// says whether a failed attempt must not be repeated (this side's disk
// failed first; an upload sent its last byte and may have landed, where
// sending it again would make a second copy).
func (r resumer) run(ctx context.Context, m *meter, final func() bool, attempt func() error) error {
	pause := cmp.Or(r.pause, firstRetryPause)
	for {
		before := m.bytes.Load()
		err := attempt()
		if err == nil || !broken(ctx, err) || (final != nil && final()) {
			return err
		}
		if m.bytes.Load() > before {
			pause = cmp.Or(r.pause, firstRetryPause) // it moved: a new break
		}
		left := r.stall - m.idle()
		if left <= 0 {
			return fmt.Errorf("%w: %s sent nothing for %v: %w", transport.ErrUnreachable, r.name, r.stall, err)
		}
		if r.log != nil {
			r.log.Info("transfer interrupted; asking again", "peer", r.t.ID, "name", r.name, "moved", m.bytes.Load(), "err", err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(min(pause, left)):
		}
		pause = min(2*pause, maxRetryPause)
		if !r.refresh() {
			return err
		}
	}
}

// broken reports whether err broke the connection rather than said no:
// the session closed, could not be made or stalled, a body stopped short;
// or the peer is still busy with the attempt before, whose session it has
// not seen break yet. Not a refusal or a lie from the peer (denied, not
// found, protocol), not a cancel.
func broken(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, access.ErrBusy) {
		return true
	}
	var remote *transport.RemoteError
	if errors.As(err, &remote) {
		return false
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, transport.ErrClosed) || errors.Is(err, transport.ErrUnreachable) ||
		errors.Is(err, transport.ErrTruncated) || errors.Is(err, transport.ErrStalled) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		slices.ContainsFunc(networkErrnos, func(e syscall.Errno) bool { return errors.Is(err, e) })
}

// networkErrnos are the socket errors of a network that changed under a
// session: its address or route gone (undocked, Wi-Fi lost), the peer's
// end reset.
var networkErrnos = []syscall.Errno{
	syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EADDRNOTAVAIL,
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ENOBUFS,
}

// refresh looks the peer up again before a retry: false if it is gone,
// offline or changed.
func (r resumer) refresh() bool {
	if r.peers == nil {
		return true
	}
	p, err := r.peers.Resolve(r.t.ID)
	if err != nil || p.ID != r.t.ID || !p.Online || p.Changed {
		return false
	}
	if len(p.Addrs) > 0 {
		r.t.Addrs = p.Addrs
	}
	return true
}

// readOnce is one request for the range, ended when no byte moved for
// stall.
func (s *remoteSource) readOnce(ctx context.Context, t access.Target, stall time.Duration, off, n int64, aw *activityWriter) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(min(time.Second, stall/4))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if aw.idle() > stall {
					cancel(fmt.Errorf("%w: %s sent nothing for %v", transport.ErrUnreachable, s.name, stall))
					return
				}
			}
		}
	}()
	read := s.read
	if read == nil {
		read = func(ctx context.Context, t access.Target, off, n int64, w io.Writer) (int64, error) {
			_, got, err := s.c.ReadRange(ctx, t, s.share, s.path, off, n, w)
			return got, err
		}
	}
	got, err := read(ctx, t, off, n, aw)
	if err != nil && context.Cause(ctx) != nil && ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, transport.ErrUnreachable) {
			return got, cause
		}
	}
	return got, err
}

// meter counts the bytes a transfer moved and remembers when it last
// moved one.
type meter struct {
	bytes atomic.Int64
	last  atomic.Int64 // unix nanoseconds
}

// start begins the stall clock.
func (m *meter) start() { m.last.Store(time.Now().UnixNano()) }

func (m *meter) add(n int64) {
	if n > 0 {
		m.bytes.Add(n)
		m.last.Store(time.Now().UnixNano())
	}
}

// sent is a resumer's final for an upload of size bytes: once the last
// byte went, the file may be in place on the other side.
func (m *meter) sent(size int64) func() bool {
	return func() bool { return m.bytes.Load() >= size }
}

// reached records a total reported by a progress callback.
func (m *meter) reached(total int64) {
	if d := total - m.bytes.Load(); d > 0 {
		m.add(d)
	}
}

func (m *meter) idle() time.Duration { return time.Since(time.Unix(0, m.last.Load())) }

// activityWriter meters the bytes written through it, and remembers
// whether writing them failed (this side's disk: not the peer's fault,
// nothing a retry mends).
type activityWriter struct {
	meter
	w      io.Writer
	failed atomic.Bool
}

func (a *activityWriter) Write(p []byte) (int, error) {
	n, err := a.w.Write(p)
	a.add(int64(n))
	if err != nil {
		a.failed.Store(true)
	}
	return n, err
}

// otherSources finds the same file (same name, size and SHA-256) on other
// online peers that creds may read, within a short time.
func (c *Files) otherSources(ctx context.Context, primary string, creds access.Credentials, name string, st shares.Entry) []transfer.Source {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		out []transfer.Source
		wg  sync.WaitGroup
	)
	for _, p := range c.peers.List() {
		if p.ID == primary || !p.Online || p.Changed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// That peer's own credentials, or guest: never the ones typed
			// for the primary.
			t := access.Target{ID: p.ID, Addrs: p.Addrs, Auth: c.logins.Of(p.ID)}
			hits, err := c.client.Search(ctx, t, name)
			if err != nil {
				return
			}
			for _, h := range hits {
				if h.Size != st.Size || path.Base(h.Path) != name {
					continue
				}
				e, err := c.client.Stat(ctx, t, h.Share, h.Path)
				if err != nil || e.SHA256 != st.SHA256 {
					continue
				}
				mu.Lock()
				out = append(out, &remoteSource{c: c.client, t: t, share: h.Share, path: h.Path, name: p.Name, peers: c.peers, log: c.log})
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	return out
}

// PutResult is what `put` reports per file.
type PutResult struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
	Size   int64  `json:"size"`
}

// Put uploads local files and folders into a folder of a peer's share.
func (c *Files) Put(ctx context.Context, locals []string, rp Path, creds access.Credentials, replace bool, progress func(transfer.Info)) ([]PutResult, error) {
	peer, t, err := c.target(rp.Peer, creds)
	if err != nil {
		return nil, err
	}
	if rp.Share == "" {
		return nil, fmt.Errorf("%w: put needs PEER:SHARE/DIR", ErrUsage)
	}
	var out []PutResult
	for _, local := range locals {
		files, err := localTree(local)
		if err != nil {
			return out, err
		}
		for _, f := range files {
			remote := path.Join(rp.Path, f.rel)
			if f.dir {
				if err := c.client.Mkdir(ctx, t, rp.Share, remote); err != nil {
					return out, fmt.Errorf("put %s:%s/%s: %w", peer.Name, rp.Share, remote, err)
				}
				continue
			}
			task := c.transfers.Start(ctx, transfer.KindUpload, peer.Name, rp.Share+"/"+remote, f.path, f.size)
			var res shares.PutResult
			err := c.uploadResumed(task, &t, peer.Name, f.size, progress, func(onProgress func(int64)) error {
				var err error
				res, err = c.client.Put(task.Ctx, t, rp.Share, remote, f.path, shares.PutOptions{Replace: replace, Progress: onProgress})
				return err
			})
			info := task.Finish(f.path, err)
			if progress != nil {
				progress(info)
			}
			if err != nil {
				return out, fmt.Errorf("put %s to %s:%s/%s: %w", f.path, peer.Name, rp.Share, remote, err)
			}
			out = append(out, PutResult{Local: f.path, Remote: path.Join(path.Dir(remote), res.Name), Size: f.size})
		}
	}
	return out, nil
}

func (c *Files) reportTask(task *transfer.Task, progress func(transfer.Info)) {
	if progress == nil {
		return
	}
	for _, info := range c.transfers.List() {
		if info.ID == task.ID() {
			progress(info)
			return
		}
	}
}

type localFile struct {
	path string
	rel  string // slash path, with the top name
	size int64
	dir  bool
}

// localTree lists a file, or a folder and everything below it (no
// symlinks followed), with names relative to its parent.
func localTree(top string) ([]localFile, error) {
	info, err := os.Lstat(top)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(filepath.Clean(top))
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrUsage, top)
		}
		return []localFile{{path: top, rel: base, size: info.Size()}}, nil
	}
	var out []localFile
	err = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(filepath.Clean(top)), p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			out = append(out, localFile{path: p, rel: rel, dir: true})
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out = append(out, localFile{path: p, rel: rel, size: fi.Size()})
		}
		return nil
	})
	return out, err
}

// SendResult is what `send` reports.
type SendResult struct {
	Receiver string   `json:"receiver"`
	Files    []string `json:"files"`
	Bytes    int64    `json:"bytes"`
	// SkippedHidden counts hidden entries of sent folders left behind.
	SkippedHidden int `json:"skipped_hidden,omitempty"`
	// Queued is the id of the queued send (Transfers) when the peer was
	// offline and the files wait for it; nothing was sent yet.
	Queued string `json:"queued,omitempty"`
}

// SendSize checks locals as Send would before offering them (they exist,
// no top-level hidden name, something to send) and returns the bytes of
// the files it would send.
func SendSize(locals []string) (int64, error) {
	var total int64
	files := 0
	for _, local := range locals {
		if hiddenName(filepath.Base(filepath.Clean(local))) {
			return 0, fmt.Errorf("%w: %s is hidden: receivers do not accept hidden names (rename it first)", ErrUsage, local)
		}
		tree, err := localTree(local)
		if err != nil {
			return 0, err
		}
		for _, f := range tree {
			if !f.dir && !hiddenRel(f.rel) {
				total += f.size
				files++
			}
		}
	}
	if files == 0 {
		return 0, fmt.Errorf("%w: nothing to send", ErrUsage)
	}
	return total, nil
}

// hiddenName reports whether a file name is hidden (starts with a dot).
func hiddenName(name string) bool { return strings.HasPrefix(name, ".") && name != "." && name != ".." }

// hiddenRel reports whether a slash path has a hidden component.
func hiddenRel(rel string) bool {
	for comp := range strings.SplitSeq(rel, "/") {
		if hiddenName(comp) {
			return true
		}
	}
	return false
}

// Send pushes files and folders to a peer, which accepts or declines.
func (c *Files) Send(ctx context.Context, ref string, locals []string, progress func(transfer.Info)) (SendResult, error) {
	peer, t, err := c.target(ref, access.Credentials{})
	if err != nil {
		return SendResult{}, err
	}
	var files []shares.LocalFile
	skipped := 0
	for _, local := range locals {
		tree, err := localTree(local)
		if err != nil {
			return SendResult{}, err
		}
		if hiddenName(filepath.Base(filepath.Clean(local))) {
			return SendResult{}, fmt.Errorf("%w: %s is hidden: receivers do not accept hidden names (rename it first)", ErrUsage, local)
		}
		for _, f := range tree {
			if f.dir {
				continue
			}
			if hiddenRel(f.rel) {
				// Receivers refuse hidden names (a pushed ".ssh" or
				// ".profile" could run code): a folder's hidden entries
				// (.git, .DS_Store) stay behind.
				skipped++
				continue
			}
			lf, err := shares.NewLocalFile(ctx, f.path, f.rel)
			if err != nil {
				return SendResult{}, err
			}
			files = append(files, lf)
		}
	}
	if len(files) == 0 {
		return SendResult{}, fmt.Errorf("%w: nothing to send", ErrUsage)
	}
	offer := make([]shares.OfferFile, len(files))
	for i, f := range files {
		offer[i] = f.OfferFile
	}
	res, err := c.client.Offer(ctx, t, offer)
	if err != nil {
		return SendResult{}, fmt.Errorf("send to %s: %w", peer.Name, err)
	}
	if !res.Accepted {
		return SendResult{}, fmt.Errorf("%w (%w): %s declined the files", ErrDeclined, transport.ErrAccessDenied, peer.Name)
	}
	out := SendResult{Receiver: firstNonEmpty(res.Receiver, peer.Name), SkippedHidden: skipped}
	for i, f := range files {
		task := c.transfers.Start(ctx, transfer.KindSend, peer.Name, f.Name, f.Path, f.Size)
		var pr shares.PutResult
		err := c.uploadResumed(task, &t, peer.Name, f.Size, progress, func(onProgress func(int64)) error {
			var err error
			pr, err = c.client.SendFile(task.Ctx, t, res.OfferID, i, f, onProgress)
			return err
		})
		info := task.Finish(f.Path, err)
		if progress != nil {
			progress(info)
		}
		if err != nil {
			return out, fmt.Errorf("send %s to %s: %w", f.Name, peer.Name, err)
		}
		out.Files = append(out.Files, firstNonEmpty(pr.Name, f.Name))
		out.Bytes += f.Size
	}
	return out, nil
}

// SearchHit is one file found on one peer.
type SearchHit struct {
	Peer   string `json:"peer"`
	PeerID string `json:"peer_id"`
	shares.SearchHit
}

// Search asks every reachable peer for files whose name matches pattern.
// creds go only to the peer named by ref (accounts are per PC); every
// other peer is asked with the credentials it accepted earlier in this run,
// or as guest. Peers that refuse or do not answer in time are left out.
func (c *Files) Search(ctx context.Context, pattern string, creds access.Credentials, ref string) ([]SearchHit, error) {
	if strings.TrimSpace(pattern) == "" {
		return nil, fmt.Errorf("%w: empty search pattern", ErrUsage)
	}
	credsFor := ""
	if ref != "" {
		p, err := c.peers.Resolve(ref)
		if err != nil {
			return nil, err
		}
		credsFor = p.ID
	} else if creds != (access.Credentials{}) {
		return nil, fmt.Errorf("%w: an account belongs to one PC: name it with --peer PEER (the other PCs are searched as guest, or with the account they accepted in this session)", ErrUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		out = []SearchHit{}
		wg  sync.WaitGroup
	)
	for _, p := range c.peers.List() {
		if !p.Online || p.Changed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			auth := c.logins.Of(p.ID)
			if p.ID == credsFor {
				auth = creds
			}
			hits, err := c.client.Search(ctx, access.Target{ID: p.ID, Addrs: p.Addrs, Auth: auth}, pattern)
			if err != nil {
				c.log.Debug("search", "peer", p.ID, "err", err)
				return
			}
			if p.ID == credsFor {
				c.logins.Remember(p.ID, creds)
			}
			mu.Lock()
			for _, h := range hits {
				out = append(out, SearchHit{Peer: p.Name, PeerID: p.ID, SearchHit: h})
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b SearchHit) int {
		return strings.Compare(a.Peer+"\x00"+a.Share+"\x00"+a.Path, b.Peer+"\x00"+b.Share+"\x00"+b.Path)
	})
	return out, nil
}

// Mkdir creates a folder (and its parents) in a read-write share of a
// peer: the browser's "New folder".
func (c *Files) Mkdir(ctx context.Context, rp Path, creds access.Credentials) error {
	p, t, err := c.target(rp.Peer, creds)
	if err != nil {
		return err
	}
	if rp.Share == "" || rp.Path == "" {
		return fmt.Errorf("%w: mkdir wants PEER:SHARE/PATH", ErrUsage)
	}
	if err := c.client.Mkdir(ctx, t, rp.Share, rp.Path); err != nil {
		return fmt.Errorf("mkdir %s:%s/%s: %w", p.Name, rp.Share, rp.Path, err)
	}
	return nil
}
