package shares

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/transport"
)

// Client calls the file service of other peers. Errors keep the remote
// classes: errors.Is(err, transport.ErrAccessDenied / transport.ErrNotFound)
// as the transport maps them, plus ErrDiskFull, ErrHashMismatch and ErrBusy
// recognised from the remote message.
type Client struct {
	access.Caller
	// Limits, if set, cap the rate of the file contents the client
	// sends (Up) and fetches (Down); nil: no limits.
	Limits *ratelimit.Limits
}

// open sends a request; done stops watching ctx and closes the stream
// (the client reads last, so it closes first).
func (c Client) open(ctx context.Context, t access.Target, op string, body any) (*transport.Stream, func(), error) {
	st, err := c.Caller.Open(ctx, t.ID, t.Addrs, op, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	stop := st.Watch(ctx)
	return st, func() { stop(); st.Close() }, nil
}

func (c Client) call(ctx context.Context, t access.Target, op string, in, out any) error {
	st, done, err := c.open(ctx, t, op, in)
	if err != nil {
		return err
	}
	defer done()
	if err := st.ReadResponse(op, out); err != nil {
		return clientErr(ctx, op, err)
	}
	return nil
}

// callList calls a list-like op, whose answer comes inline or as a body.
func (c Client) callList(ctx context.Context, t access.Target, op string, in, out any) error {
	st, done, err := c.open(ctx, t, op, in)
	if err != nil {
		return err
	}
	defer done()
	var raw json.RawMessage
	if err := st.ReadResponse(op, &raw); err != nil {
		return clientErr(ctx, op, err)
	}
	inline, n, err := decodeListHead(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if inline == nil {
		var buf bytes.Buffer
		buf.Grow(int(n))
		got, err := st.ReceiveBody(ctx, &buf, n)
		if err != nil {
			return clientErr(ctx, op, err)
		}
		if got != n {
			return fmt.Errorf("%s: %w: %d of %d bytes", op, transport.ErrTruncated, got, n)
		}
		inline = buf.Bytes()
	}
	if err := json.Unmarshal(inline, out); err != nil {
		return fmt.Errorf("%s: %w: %v", op, transport.ErrProtocol, err)
	}
	return nil
}

// clientErr adds the context's end, if that is why the call failed.
func clientErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	// The remote error matches its classes itself (transport.RegisterClass).
	return err
}

// ListShares returns the shares of t visible with its credentials, and
// with locked those it may not open too (RightNone).
func (c Client) ListShares(ctx context.Context, t access.Target, locked bool) ([]access.VisibleShare, error) {
	var out []access.VisibleShare
	err := c.callList(ctx, t, OpSharesList, authRequest{Auth: t.Auth, All: locked}, &out)
	return out, err
}

func pathReq(t access.Target, share, p string, hidden bool) (pathRequest, error) {
	clean, err := CleanPath(p)
	if err != nil {
		return pathRequest{}, err
	}
	// Naming a hidden file or folder asks for it.
	return pathRequest{Auth: t.Auth, Share: share, Path: clean, Hidden: hidden || isHidden(clean)}, nil
}

// List lists a folder of a share, sorted by name; hidden entries only if
// hidden is set.
func (c Client) List(ctx context.Context, t access.Target, share, p string, hidden bool) ([]Entry, error) {
	req, err := pathReq(t, share, p, hidden)
	if err != nil {
		return nil, err
	}
	var out []Entry
	if err := c.callList(ctx, t, OpList, req, &out); err != nil {
		return nil, err
	}
	return out, validateAll(OpList, out)
}

// Stat describes a file (with its SHA-256) or folder of a share.
func (c Client) Stat(ctx context.Context, t access.Target, share, p string) (Entry, error) {
	req, err := pathReq(t, share, p, false)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := c.call(ctx, t, OpStat, req, &e); err != nil {
		return Entry{}, err
	}
	if err := e.validate(); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", OpStat, err)
	}
	return e, nil
}

// Chunks asks for the SHA-256 of a file and of each of its ChunkSumSize
// chunks (32 bytes each, in order).
func (c Client) Chunks(ctx context.Context, t access.Target, share, p string) (ChunksMeta, [][sha256.Size]byte, error) {
	req, err := pathReq(t, share, p, false)
	if err != nil {
		return ChunksMeta{}, nil, err
	}
	st, done, err := c.open(ctx, t, OpChunks, req)
	if err != nil {
		return ChunksMeta{}, nil, err
	}
	defer done()
	var meta ChunksMeta
	if err := st.ReadResponse(OpChunks, &meta); err != nil {
		return ChunksMeta{}, nil, clientErr(ctx, OpChunks, err)
	}
	if err := meta.validate(); err != nil {
		return ChunksMeta{}, nil, err
	}
	n := meta.Count * sha256.Size
	var buf bytes.Buffer
	buf.Grow(int(n))
	got, err := st.ReceiveBody(ctx, &buf, n)
	if err != nil {
		return ChunksMeta{}, nil, clientErr(ctx, OpChunks, err)
	}
	if got != n {
		return ChunksMeta{}, nil, fmt.Errorf("%s: %w: %d of %d bytes", OpChunks, transport.ErrTruncated, got, n)
	}
	sums := make([][sha256.Size]byte, meta.Count)
	for i := range sums {
		copy(sums[i][:], buf.Bytes()[i*sha256.Size:])
	}
	return meta, sums, nil
}

// Tree lists everything below a folder of a share (for a recursive get),
// without hidden entries, symlinks and partial uploads.
func (c Client) Tree(ctx context.Context, t access.Target, share, p string) ([]TreeEntry, error) {
	req, err := pathReq(t, share, p, false)
	if err != nil {
		return nil, err
	}
	var out []TreeEntry
	err = c.callList(ctx, t, OpTree, req, &out)
	if err != nil {
		return nil, err
	}
	if err := validateAll(OpTree, out); err != nil {
		return nil, err
	}
	for _, e := range out {
		// Never trust a remote tree with local paths.
		if clean, err := CleanPath(e.Path); err != nil || clean != e.Path || clean == "" {
			return nil, fmt.Errorf("%s: %w: entry %q", OpTree, ErrBadPath, access.Shorten(e.Path))
		}
	}
	return out, nil
}

// ReadRange writes length bytes of a file from offset into w (length 0: to
// the end) and returns the file's metadata and the bytes written.
func (c Client) ReadRange(ctx context.Context, t access.Target, share, p string, offset, length int64, w io.Writer) (ReadMeta, int64, error) {
	pr, err := pathReq(t, share, p, false)
	if err != nil {
		return ReadMeta{}, 0, err
	}
	st, done, err := c.open(ctx, t, OpRead, readRequest{pathRequest: pr, Offset: offset, Length: length, Background: c.Limits.Background()})
	if err != nil {
		return ReadMeta{}, 0, err
	}
	draining := false // the drain below closes the stream when done
	defer func() {
		if !draining {
			done()
		}
	}()
	var meta ReadMeta
	if err := st.ReadResponse(OpRead, &meta); err != nil {
		return ReadMeta{}, 0, clientErr(ctx, OpRead, err)
	}
	if err := meta.validate(); err != nil {
		return ReadMeta{}, 0, fmt.Errorf("%s: %w", OpRead, err)
	}
	if meta.Length > meta.Size || (length > 0 && meta.Length > length) {
		return meta, 0, fmt.Errorf("%s: %w: length %d of %d", OpRead, transport.ErrProtocol, meta.Length, meta.Size)
	}
	ew := &errWriter{w: c.Limits.Download().Writer(ctx, w)}
	n, err := st.ReceiveBody(ctx, ew, meta.Length)
	if err != nil {
		if ew.err != nil || ctx.Err() != nil {
			// We stopped reading (disk full, cancel) while the owner
			// still sends: take the rest of the range off the session,
			// or its unread data would stall every other stream on it.
			// In the background: a canceled download ends now, not once
			// the owner has noticed (up to drainTimeout on a lossy path).
			draining = true
			go func() {
				dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
				_, _ = st.ReceiveBody(dctx, io.Discard, meta.Length-n)
				cancel()
				done()
			}()
		}
		return meta, n, clientErr(ctx, OpRead, err)
	}
	if n != meta.Length {
		return meta, n, fmt.Errorf("%s: %w: %d of %d bytes", OpRead, transport.ErrTruncated, n, meta.Length)
	}
	return meta, n, nil
}

// drainTimeout bounds how long an abandoned read is drained.
const drainTimeout = 30 * time.Second

// errWriter remembers the error of the writer it wraps.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// Mkdir creates a folder (and its parents) in a share.
func (c Client) Mkdir(ctx context.Context, t access.Target, share, p string) error {
	req, err := pathReq(t, share, p, false)
	if err != nil {
		return err
	}
	return c.call(ctx, t, OpMkdir, req, nil)
}

// PutOptions tunes Put. The zero value is a plain upload.
type PutOptions struct {
	// Replace overwrites a file of the same name instead of choosing
	// "name (1).ext".
	Replace bool
	// SHA256 is the file's hex SHA-256 if already known (else computed).
	SHA256 string
	// Progress hears how many bytes of the file the receiver holds so far
	// (starting with what a resumed upload already had there).
	Progress func(done int64)
}

// Put uploads the local file to path p of a share, resuming whatever part
// the receiver already holds. The result names the file as stored.
func (c Client) Put(ctx context.Context, t access.Target, share, p, local string, opt PutOptions) (PutResult, error) {
	pr, err := pathReq(t, share, p, false)
	if err != nil {
		return PutResult{}, err
	}
	f, fi, err := openLocal(local)
	if err != nil {
		return PutResult{}, err
	}
	defer f.Close()
	sum := strings.ToLower(opt.SHA256)
	if sum == "" {
		if sum, err = hashReader(ctx, f); err != nil {
			return PutResult{}, fmt.Errorf("hash %s: %w", local, err)
		}
	}
	req := putRequest{pathRequest: pr, Size: fi.Size(), SHA256: sum, Mtime: fi.ModTime().UTC(), Replace: opt.Replace}
	var begin offsetResponse
	if err := c.call(ctx, t, OpPutBegin, req, &begin); err != nil {
		return PutResult{}, err
	}
	req.Offset = begin.Offset
	return c.upload(ctx, t, OpPutData, req, f, fi.Size(), opt.Progress)
}

// LocalFile is a local file offered for push-send.
type LocalFile struct {
	// Path is where the file is read from.
	Path string
	OfferFile
}

// NewLocalFile describes a local file for an offer under name (a base
// name or relative tree path), hashing it.
func NewLocalFile(ctx context.Context, path, name string) (LocalFile, error) {
	f, fi, err := openLocal(path)
	if err != nil {
		return LocalFile{}, err
	}
	defer f.Close()
	clean, err := CleanPath(name)
	if err != nil {
		return LocalFile{}, err
	}
	sum, err := hashReader(ctx, f)
	if err != nil {
		return LocalFile{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return LocalFile{Path: path, OfferFile: OfferFile{Name: clean, Size: fi.Size(), SHA256: sum, Mtime: fi.ModTime().UTC()}}, nil
}

// Offer offers files to t for push-send; the receiver accepts or declines.
func (c Client) Offer(ctx context.Context, t access.Target, files []OfferFile) (OfferResult, error) {
	req := offerRequest{Files: files}
	for _, f := range files {
		req.Total += f.Size
	}
	check := offerRequest{Files: append([]OfferFile(nil), files...), Total: req.Total}
	if err := validateOffer(&check); err != nil {
		return OfferResult{}, err
	}
	var res OfferResult
	list, err := json.Marshal(files)
	if err != nil {
		return OfferResult{}, err
	}
	if len(list) < inlineLimit-256 {
		err := c.call(ctx, t, OpSendOffer, req, &res)
		return res, err
	}
	if len(list) > maxOfferBytes {
		return OfferResult{}, fmt.Errorf("%s: file list of %d bytes is over the %d-byte limit; send fewer files at once", OpSendOffer, len(list), maxOfferBytes)
	}
	st, done, err := c.open(ctx, t, OpSendOffer, offerRequest{Total: req.Total, FilesBytes: int64(len(list))})
	if err != nil {
		return OfferResult{}, err
	}
	defer done()
	if _, err := st.SendBody(ctx, bytes.NewReader(list)); err != nil {
		return OfferResult{}, clientErr(ctx, OpSendOffer, err)
	}
	if err := st.ReadResponse(OpSendOffer, &res); err != nil {
		return OfferResult{}, clientErr(ctx, OpSendOffer, err)
	}
	return res, nil
}

// SendFile sends file index of an accepted offer, resuming whatever part
// the receiver already holds.
func (c Client) SendFile(ctx context.Context, t access.Target, offerID string, index int, lf LocalFile, progress func(done int64)) (PutResult, error) {
	f, fi, err := openLocal(lf.Path)
	if err != nil {
		return PutResult{}, err
	}
	defer f.Close()
	if fi.Size() != lf.Size {
		return PutResult{}, fmt.Errorf("%s changed since it was offered (%d bytes, offered %d)", lf.Path, fi.Size(), lf.Size)
	}
	return c.upload(ctx, t, OpSendData, sendDataRequest{OfferID: offerID, Index: index}, f, lf.Size, progress)
}

// upload runs one fs.put.data or send.data exchange: the receiver answers
// with the offset it holds, the rest of the file follows as a body, and
// the receiver's final answer comes back. The body is sent while the
// answer is awaited, so a receiver that gives up early (disk full) is
// heard at once and the send stops.
// answerGrace is how long an upload whose body failed on this side waits
// for the receiver's word on why (its disk full, a refusal), which says
// more than the sender's own error.
const answerGrace = 2 * time.Second

func (c Client) upload(ctx context.Context, t access.Target, op string, body any, f *os.File, size int64, progress func(int64)) (PutResult, error) {
	st, done, err := c.open(ctx, t, op, body)
	if err != nil {
		return PutResult{}, err
	}
	defer done()
	var ready offsetResponse
	if err := st.ReadResponse(op, &ready); err != nil {
		return PutResult{}, clientErr(ctx, op, err)
	}
	if ready.Offset < 0 || ready.Offset > size {
		return PutResult{}, fmt.Errorf("%s: %w: receiver holds %d of %d bytes", op, transport.ErrProtocol, ready.Offset, size)
	}
	if progress != nil {
		progress(ready.Offset)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if ready.Background || c.Limits.Background() {
		sctx = transport.WithBackground(sctx)
	}
	sent := make(chan error, 1)
	// The answer is waited for only so long once the body failed here:
	// where the network changed under the session (an undocked laptop,
	// "network is unreachable"), neither the failure sent below nor an
	// answer gets through, and the wait never ended.
	answerCtx, answerGone := context.WithCancel(ctx)
	defer answerGone()
	stopWatch := st.Watch(answerCtx)
	defer stopWatch()
	if ready.Offset < size {
		r := &progressReader{r: io.NewSectionReader(f, ready.Offset, size-ready.Offset), done: ready.Offset, fn: progress}
		go func() {
			_, err := st.SendBody(sctx, c.Limits.Upload().Reader(sctx, r))
			if err != nil && sctx.Err() == nil {
				// Say why the body ends early, so the receiver stops waiting.
				_ = st.Fail(fmt.Errorf("%w: the sender stopped the upload", transport.ErrTruncated))
				time.AfterFunc(answerGrace, answerGone)
			}
			sent <- err
		}()
	} else {
		sent <- nil
	}
	var res PutResult
	rerr := st.ReadResponse(op, &res)
	if rerr != nil {
		cancel()
	}
	serr := <-sent
	if rerr != nil {
		// The receiver's own answer says best why the upload ended (disk
		// full, refused); the sender's error is only the echo of that.
		var re *transport.RemoteError
		if serr != nil && !errors.As(rerr, &re) && !errors.Is(serr, context.Canceled) && ctx.Err() == nil {
			return res, fmt.Errorf("%s: send: %w", op, serr)
		}
		return res, clientErr(ctx, op, rerr)
	}
	if !res.Complete || res.Offset != size {
		return res, fmt.Errorf("%s: receiver holds %d of %d bytes", op, res.Offset, size)
	}
	if progress != nil {
		progress(size)
	}
	return res, nil
}

// Search asks t for file names matching pattern in the shares its
// credentials may read.
func (c Client) Search(ctx context.Context, t access.Target, pattern string) ([]SearchHit, error) {
	var out []SearchHit
	if err := c.callList(ctx, t, OpSearch, searchRequest{Auth: t.Auth, Pattern: pattern}, &out); err != nil {
		return nil, err
	}
	return out, validateAll(OpSearch, out)
}

type progressReader struct {
	r    io.Reader
	done int64
	fn   func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if n > 0 && p.fn != nil {
		p.fn(p.done)
	}
	return n, err
}

// openLocal opens a regular local file.
func openLocal(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, fi, nil
}

// HashFile returns the hex SHA-256 of a local file.
func HashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return hashReader(ctx, f)
}

// hashReader hashes r from its start, stopping when ctx ends.
func hashReader(ctx context.Context, f *os.File) (string, error) {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	r := io.NewSectionReader(f, 0, 1<<62)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
