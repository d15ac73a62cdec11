// Package transfer moves one file from one or more peers onto this disk so
// that it arrives whole or not at all: the data goes to a hidden partial
// file beside the target, which survives a broken connection, a crash or a
// restart and is resumed from what it already holds; the result is verified
// against the SHA-256 the owner announced, then renamed into place under a
// name that never overwrites an existing file by accident. It also keeps
// the list of running and past transfers with their progress.
package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Sentinel errors callers branch on.
var (
	// ErrHashMismatch: the bytes received do not hash to what the owner
	// announced. The partial data is discarded.
	ErrHashMismatch = errors.New("the received file does not match its SHA-256")
	// ErrDiskFull: the destination has no room left. The partial data is
	// kept, so the transfer resumes once there is room.
	ErrDiskFull = errors.New("no space left on the destination disk")
	// ErrChunkMismatch: a source sent a chunk that does not hash to the
	// owner's chunk sum. That source is dropped, the chunk is fetched
	// again from the others, and the good chunks stay.
	ErrChunkMismatch = errors.New("a source sent data that does not match the owner's chunk sum")
	// ErrNoSource: every source failed.
	ErrNoSource = errors.New("no peer could deliver the file")
)

// ChunkSize is the unit of resume and of sharing work between sources.
const ChunkSize = 8 << 20

// fetchesPerSource is how many chunks a source is asked for at once.
// One at a time, the link idled between chunks (the next request, the
// owner's start, the first round trips), and one transfer's pipeline
// (receive, write, hash) ran on one core: 0.94 of a bare TLS stream at
// 1 Gbit/s on linkbench's link. Two at once: 0.95-0.96. Asking for the
// next chunk only in the current one's last 2 MiB was slower (0.91):
// the gain is the two pipelines as much as the gap.
const fetchesPerSource = 2

// maxBackgroundTail bounds how much of a chunk a background download
// still has to receive when it asks the same source for the next one. It
// asks once the rest comes within the time the chunk's first byte took
// (the request's round trip and the owner's start), so that the next
// chunk's first byte comes about as the current one ends. Asked for one
// chunk after the other, each chunk's end idled the link for that long,
// and longer where a loss near the end waited for its timer: 0.92-0.94 of
// a normal download with 0.5% loss on linkbench's 1 Gbit/s link, now
// 0.95-0.99 in five runs of six (0.89 in one). Two whole chunks at once
// would each take the other's queue for others' traffic and yield to it;
// overlapping by a first byte's time, the overlap lasts about a round,
// which the background rate control ignores. The bound keeps it so where
// a first byte took long (a lost request, an owner slow to open the
// file): fixed tails measured 128 KiB 0.94-0.97, 256 KiB 0.93-0.98,
// 512 KiB 0.87-0.96, 1 MiB 0.88-0.95.
const maxBackgroundTail = 256 << 10

// Remote describes the file a download fetches, as its owner reports it.
type Remote struct {
	Size   int64
	MTime  time.Time
	SHA256 string // hex
}

// Source is one peer that holds the file.
type Source interface {
	// Name says which peer this is, for progress and errors.
	Name() string
	// ReadRange writes length bytes of the file from offset into w.
	ReadRange(ctx context.Context, offset, length int64, w io.Writer) (int64, error)
}

// Request is one file to download.
type Request struct {
	Remote  Remote
	Sources []Source
	// Dir is the destination folder and Name the file's name in it.
	Dir, Name string
	// Replace overwrites an existing file of that name instead of picking
	// "name (1).ext".
	Replace bool
	// Background asks each source for one chunk at a time, the next only
	// as the current one's tail arrives: a background transfer's rate
	// control takes a queue it did not make as others' traffic and
	// yields, and two whole chunks of one download in flight at once
	// would each see the other's.
	Background bool
	// Progress, if set, is called as bytes land (from several goroutines
	// for a multi-source download, never concurrently).
	Progress func(done, total int64)
	// ChunkSums, if set, are the owner's SHA-256 of each ChunkSize chunk:
	// each chunk is checked as it lands, so a source that sends other
	// bytes is caught at its first bad chunk and dropped, and the good
	// chunks of every source count. Without them only the whole file is
	// checked at the end (and one bad source spoils the whole download).
	ChunkSums [][sha256.Size]byte
}

// Result is where the file landed.
type Result struct {
	Path string
	// Resumed is how many bytes were already on disk from an earlier try.
	Resumed int64
	// Fetched is how many bytes came over the network in this run.
	Fetched int64
	// PerSource counts the bytes each source delivered.
	PerSource map[string]int64
	// Dropped names the sources dropped for sending data that did not
	// match the owner's chunk sums.
	Dropped []string
}

// partialPrefix marks the files a transfer keeps while it runs; file
// services hide them.
const partialPrefix = ".peerdesk-"

// PartialName is the hidden name of the partial file for content hash sum.
func PartialName(sum string) string {
	if len(sum) > 16 {
		sum = sum[:16]
	}
	return partialPrefix + sum + ".part"
}

// partials are the partial files this process's downloads write now. The
// name comes from the content, so that a later try resumes; two downloads
// of the same content into one folder at once (two copies of a file, two
// empty files) take a name each instead of writing one file together.
var partials = struct {
	sync.Mutex
	inUse map[string]bool
}{inUse: map[string]bool{}}

// claimPartial returns the partial file's path for content sum in dir:
// PartialName's, else the first of its numbered variants no download of
// this process is writing. release frees the name.
func claimPartial(dir, sum string) (path string, release func()) {
	partials.Lock()
	defer partials.Unlock()
	base := strings.TrimSuffix(PartialName(sum), ".part")
	path = filepath.Join(dir, base+".part")
	for i := 2; partials.inUse[path]; i++ {
		path = filepath.Join(dir, base+"-"+strconv.Itoa(i)+".part")
	}
	partials.inUse[path] = true
	return path, func() {
		partials.Lock()
		delete(partials.inUse, path)
		partials.Unlock()
	}
}

// IsPartial reports whether name is a transfer's partial or state file.
func IsPartial(name string) bool {
	return strings.HasPrefix(name, partialPrefix) && (strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".part.state"))
}

// chunkState is the resume record beside a partial file: which chunks
// are on disk (fsynced) already.
type chunkState struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Done   []bool `json:"done"`
}

// Download fetches req's file. On failure the partial data stays for the
// next try unless it is known bad.
func Download(ctx context.Context, req Request) (Result, error) {
	if len(req.Sources) == 0 {
		return Result{}, ErrNoSource
	}
	if !validSum(req.Remote.SHA256) {
		return Result{}, fmt.Errorf("download %s: owner gave no valid SHA-256", req.Name)
	}
	if req.Remote.Size < 0 || req.Remote.Size > 1<<40 { // shares.MaxFileSize
		// The shares client checks answers; this is the last line before
		// sizes become allocations.
		return Result{}, fmt.Errorf("download %s: owner gave an impossible size %d", req.Name, req.Remote.Size)
	}
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", req.Name, diskErr(err))
	}
	part, release := claimPartial(req.Dir, req.Remote.SHA256)
	defer release()
	statePath := part + ".state"
	chunks := int((req.Remote.Size + ChunkSize - 1) / ChunkSize)

	if req.ChunkSums != nil && len(req.ChunkSums) != chunks {
		req.ChunkSums = nil // not for this size: whole-file check only
	}
	st := loadState(statePath, req.Remote, chunks)
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return Result{}, fmt.Errorf("download %s: %w", req.Name, diskErr(err))
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > req.Remote.Size {
		st = chunkState{Size: req.Remote.Size, SHA256: req.Remote.SHA256, Done: make([]bool, chunks)}
		_ = f.Truncate(0)
	}

	res := Result{PerSource: map[string]int64{}}
	var todo []int
	for i, done := range st.Done {
		if done {
			res.Resumed += chunkLen(req.Remote.Size, i)
		} else {
			todo = append(todo, i)
		}
	}

	// End-to-end check over what is on disk, not what went by: that also
	// covers the chunks an earlier run wrote. It runs while the chunks
	// arrive (prefixHasher).
	hasher := newPrefixHasher(f, req.Remote.Size)
	defer hasher.halt()
	d := &downloader{req: req, f: f, st: st, statePath: statePath, done: res.Resumed, res: &res, hasher: hasher}
	d.mu.Lock()
	d.advanceLocked()
	d.mu.Unlock()
	if err := d.run(ctx, todo); err != nil {
		return res, fmt.Errorf("download %s: %w", req.Name, err)
	}
	if err := f.Sync(); err != nil {
		return res, fmt.Errorf("download %s: %w", req.Name, diskErr(err))
	}
	got, err := hasher.sum()
	if err != nil {
		return res, fmt.Errorf("download %s: %w", req.Name, err)
	}
	if got != req.Remote.SHA256 {
		f.Close()
		os.Remove(part)
		os.Remove(statePath)
		return res, fmt.Errorf("download %s: %w (got %s…, want %s…)", req.Name, ErrHashMismatch, got[:12], req.Remote.SHA256[:12])
	}
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("download %s: %w", req.Name, diskErr(err))
	}
	if !req.Remote.MTime.IsZero() {
		_ = os.Chtimes(part, req.Remote.MTime, req.Remote.MTime)
	}
	final, err := Place(part, req.Dir, req.Name, req.Replace)
	if err != nil {
		return res, fmt.Errorf("download %s: %w", req.Name, err)
	}
	os.Remove(statePath)
	res.Path = final
	return res, nil
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func chunkLen(size int64, i int) int64 {
	off := int64(i) * ChunkSize
	return min(ChunkSize, size-off)
}

func loadState(path string, r Remote, chunks int) chunkState {
	fresh := chunkState{Size: r.Size, SHA256: r.SHA256, Done: make([]bool, chunks)}
	b, err := os.ReadFile(path)
	if err != nil {
		return fresh
	}
	var st chunkState
	if json.Unmarshal(b, &st) != nil || st.Size != r.Size || st.SHA256 != r.SHA256 || len(st.Done) != chunks {
		return fresh
	}
	return st
}

// downloader shares the remaining chunks among the sources: each source
// takes the next chunk when it finishes one, so a fast peer does more,
// and a failed source's chunk goes back to the others.
type downloader struct {
	req       Request
	f         *os.File
	statePath string
	res       *Result

	// hasher hashes the file from its start as far as the chunks reach.
	hasher *prefixHasher

	saveMu sync.Mutex // one saveState at a time

	mu   sync.Mutex
	st   chunkState
	done int64
	// prefix is how many chunks from the first are on disk.
	prefix int
	// unsaved counts chunks written since the state file was last saved.
	unsaved int
}

func (d *downloader) run(ctx context.Context, todo []int) error {
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan int, len(todo))
	for _, i := range todo {
		queue <- i
	}
	remaining := len(todo)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error // the first error of each failed source
		alive    = len(d.req.Sources)
		finished = make(chan struct{})
	)
	for _, src := range d.req.Sources {
		// A source's fetches share a context: the first to fail (a lie,
		// a vanished peer) stops the others at once, so a lying source
		// sends at most fetchesPerSource chunks.
		srcCtx, srcFailed := context.WithCancelCause(ctx)
		defer srcFailed(nil)
		// In background mode a fetch starts only once the source's
		// previous one is in its tail: the turn passes then.
		var turn chan struct{}
		if d.req.Background {
			turn = make(chan struct{}, 1)
			turn <- struct{}{}
		}
		for range fetchesPerSource {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if turn != nil {
						select {
						case <-turn:
						case <-finished:
							return
						case <-srcCtx.Done():
							return
						}
					}
					var passed atomic.Bool
					passTurn := func() {
						if turn != nil && passed.CompareAndSwap(false, true) {
							turn <- struct{}{}
						}
					}
					var i int
					select {
					case i = <-queue:
					case <-finished:
						passTurn()
						return
					case <-srcCtx.Done():
						passTurn()
						return
					}
					var atTail func()
					if turn != nil {
						atTail = passTurn
					}
					err := d.fetch(srcCtx, src, i, atTail)
					passTurn()
					mu.Lock()
					if err != nil {
						queue <- i               // another source may succeed
						if srcCtx.Err() == nil { // the first failure of this source
							srcFailed(err)
							errs = append(errs, fmt.Errorf("%s: %w", src.Name(), err))
							alive--
							if alive == 0 || errors.Is(err, ErrDiskFull) {
								cancel(errors.Join(errs...))
							}
						}
						mu.Unlock()
						return
					}
					remaining--
					if remaining == 0 {
						close(finished)
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	saveErr := d.saveState(true)
	if remaining > 0 {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			if errors.Is(cause, ErrDiskFull) {
				return cause
			}
			if ctx.Err() != nil && len(errs) == len(d.req.Sources) {
				return fmt.Errorf("%w: %w", ErrNoSource, cause)
			}
			return cause
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("%w: %w", ErrNoSource, errors.Join(errs...))
	}
	return saveErr
}

// fetch writes chunk i from src at its place in the partial file; atTail,
// if set, runs once what is left of it arrives in the time its first byte
// took.
func (d *downloader) fetch(ctx context.Context, src Source, i int, atTail func()) error {
	off := int64(i) * ChunkSize
	n := chunkLen(d.req.Remote.Size, i)
	w := &offsetWriter{f: d.f, off: off, progress: d.progress, size: n, asked: time.Now(), atTail: atTail}
	if d.req.ChunkSums != nil {
		w.hash = sha256.New()
	}
	got, err := src.ReadRange(ctx, off, n, w)
	if err == nil && w.err != nil {
		err = w.err
	}
	if err == nil && w.hash != nil && got == n && w.written == n {
		var sum [sha256.Size]byte
		if w.hash.Sum(sum[:0]); sum != d.req.ChunkSums[i] {
			err = fmt.Errorf("chunk %d: %w", i, ErrChunkMismatch)
			d.mu.Lock()
			if !slices.Contains(d.res.Dropped, src.Name()) { // its other fetch may find the same
				d.res.Dropped = append(d.res.Dropped, src.Name())
			}
			d.mu.Unlock()
		}
	}
	if err != nil {
		d.progress(-w.written) // the chunk is fetched again in full
		if w.err != nil {
			return w.err
		}
		return err
	}
	if got != n || w.written != n {
		return fmt.Errorf("chunk %d: got %d of %d bytes", i, w.written, n)
	}
	d.mu.Lock()
	d.st.Done[i] = true
	d.advanceLocked()
	d.res.Fetched += n
	d.res.PerSource[src.Name()] += n
	d.unsaved++
	d.mu.Unlock()
	return d.saveState(false)
}

// advanceLocked tells the hasher how far the file holds its chunks
// without a gap; d.mu is held.
func (d *downloader) advanceLocked() {
	for d.prefix < len(d.st.Done) && d.st.Done[d.prefix] {
		d.prefix++
	}
	if d.hasher != nil {
		d.hasher.advance(int64(d.prefix) * ChunkSize)
	}
}

func (d *downloader) progress(n int64) {
	d.mu.Lock()
	d.done += n
	done := d.done
	if d.req.Progress != nil {
		d.req.Progress(done, d.req.Remote.Size)
	}
	d.mu.Unlock()
}

// saveState records the finished chunks: data first (fsync), then the
// record, so the record never claims a chunk the disk may not hold. It
// runs every few chunks, and always at the end.
func (d *downloader) saveState(force bool) error {
	// One save at a time, outside d.mu: the fsync of a big partial file
	// on a real disk takes tens of milliseconds or more, and the other
	// fetches' writes (progress takes d.mu) must not wait for it.
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	d.mu.Lock()
	unsaved := d.unsaved
	if unsaved == 0 || (!force && unsaved < 4) {
		d.mu.Unlock()
		return nil
	}
	// The record made now claims only chunks written before the fsync
	// below, which covers them.
	b, err := json.Marshal(d.st)
	d.mu.Unlock()
	if err != nil {
		return err
	}
	if err := d.f.Sync(); err != nil {
		return diskErr(err)
	}
	if err := atomicfile.WriteFile(d.statePath, b, 0o600); err != nil {
		return diskErr(err)
	}
	d.mu.Lock()
	d.unsaved -= unsaved
	d.mu.Unlock()
	return nil
}

// offsetWriter writes a stream at consecutive offsets of a file.
type offsetWriter struct {
	f        *os.File
	off      int64
	written  int64
	err      error
	progress func(int64)
	hash     hash.Hash // of what was written, if set
	// atTail, if set, runs once the bytes still to come (of size) arrive,
	// at the rate so far, in the time the first byte took after asked.
	size   int64
	asked  time.Time
	first  time.Time
	atTail func()
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off+w.written)
	if w.hash != nil {
		w.hash.Write(p[:n])
	}
	w.written += int64(n)
	if n > 0 {
		w.progress(int64(n))
	}
	if w.atTail != nil {
		now := time.Now()
		if w.first.IsZero() {
			w.first = now
		}
		if w.inTail(now) {
			w.atTail()
			w.atTail = nil
		}
	}
	if err != nil {
		w.err = diskErr(err)
		return n, w.err
	}
	return n, nil
}

// inTail reports whether what is left to come arrives, at the rate so
// far, within the time the first byte took.
func (w *offsetWriter) inTail(now time.Time) bool {
	left := w.size - w.written
	if left <= 0 {
		return true
	}
	if left > maxBackgroundTail {
		return false
	}
	wait := w.first.Sub(w.asked)
	took := now.Sub(w.first)
	// left/rate ≤ wait, with rate = written/took.
	return took > 0 && float64(left)*float64(took) <= float64(wait)*float64(w.written)
}

// diskErr marks "no space" errors with ErrDiskFull.
func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}
