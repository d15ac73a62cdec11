package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// AuditFile is the audit log's name inside the home; the previous file is
// kept as AuditFile + ".1" after rotation.
const AuditFile = "audit.log"

// DefaultAuditMaxBytes is the size at which the audit log rotates.
const DefaultAuditMaxBytes = 10 << 20

// Action is what an audited request did.
type Action string

// Audited actions.
const (
	ActionList  Action = "list"
	ActionRead  Action = "read"
	ActionWrite Action = "write"
	ActionSend  Action = "send"
	ActionLogin Action = "login"
	ActionPrint Action = "print"
)

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time     time.Time `json:"time"`
	PeerID   string    `json:"peer_id"`
	PeerName string    `json:"peer_name"`
	// Account is the account used, or "guest".
	Account  string `json:"account"`
	Action   Action `json:"action"`
	Resource string `json:"resource"`
	Allowed  bool   `json:"allowed"`
	Detail   string `json:"detail,omitempty"`
}

// AuditConfig configures an AuditLog. Zero values are the defaults.
type AuditConfig struct {
	// MaxBytes is the size at which the log rotates (DefaultAuditMaxBytes).
	MaxBytes int64
	// Keep is how many rotated files are kept besides the current one
	// (default 4: with MaxBytes, 50 MiB in all).
	Keep int
	// MaxAge drops rotated files older than this (default 400 days).
	MaxAge time.Duration
	// SummaryWindow is the time over which refusals alike (same peer,
	// account, action and resource) after the first are only counted, and
	// written as one summary record (default 1 min). A flood of refusals
	// thus costs a record a minute per kind instead of a record each, and
	// cannot push older records out of the kept files.
	SummaryWindow time.Duration
	Logger        *slog.Logger
	// Now stamps records that carry no time (default time.Now).
	Now func() time.Time
}

type auditReq struct {
	line []byte
	done chan struct{} // closed once everything before it is on disk
}

// AuditLog is the append-only JSON-lines record of who did what to which
// resource, allowed or refused (HOME/audit.log, 0600). Appends are queued
// to one writer goroutine that writes them in batches and fsyncs every
// batch before it takes the next (group commit), so many requests share
// one fsync and no request waits for the disk. A crash can tear only the
// last line, which Read skips.
type AuditLog struct {
	path string
	cfg  AuditConfig

	mu     sync.Mutex // guards closed, sends on ch and refusals
	closed bool
	// refusals are the refusal kinds seen in their current window.
	refusals map[refusalKey]*refusalCount
	ch       chan auditReq
	done     chan struct{}

	// Owned by the writer goroutine.
	f    *os.File
	size int64
}

// OpenAuditLog opens (creating, 0600) the audit log in home and starts its
// writer. Close stops it.
func OpenAuditLog(home string, cfg AuditConfig) (*AuditLog, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultAuditMaxBytes
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 4
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 400 * 24 * time.Hour
	}
	if cfg.SummaryWindow <= 0 {
		cfg.SummaryWindow = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &AuditLog{path: filepath.Join(home, AuditFile), cfg: cfg, ch: make(chan auditReq, 1024), done: make(chan struct{})}
	if err := l.openFile(); err != nil {
		return nil, err
	}
	go l.writer()
	return l, nil
}

// openFile opens the current file for appending. A torn last line (a crash
// in the middle of a write) is closed with a newline, so the next record
// starts on a line of its own.
func (l *AuditLog) openFile() error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open audit log: %w", err)
	}
	l.f, l.size = f, fi.Size()
	if l.size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], l.size-1); err == nil && last[0] != '\n' {
			if n, err := f.Write([]byte{'\n'}); err == nil {
				l.size += int64(n)
			}
		}
	}
	return nil
}

// refusalKey is what makes refusals alike.
type refusalKey struct {
	peer, account, resource string
	action                  Action
}

type refusalCount struct {
	start time.Time
	more  int // alike refusals after the first, not written one by one
	last  AuditRecord
}

// maxRefusalKinds bounds the kinds counted at once; past it, every kind's
// count is written and counting starts over.
const maxRefusalKinds = 1024

// Append queues a record. It never fails the caller: a record that cannot
// be written is reported to the logger. Refusals alike within
// SummaryWindow after the first are counted and written as one summary.
func (l *AuditLog) Append(r AuditRecord) {
	if r.Time.IsZero() {
		r.Time = l.cfg.Now()
	}
	r.Time = r.Time.UTC()
	for _, s := range l.summarise(r) {
		l.appendLine(s)
	}
}

// summarise decides what r becomes: itself, nothing (counted), and any
// summaries of windows that are over.
func (l *AuditLog) summarise(r AuditRecord) []AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []AuditRecord
	for k, c := range l.refusals {
		if r.Time.Sub(c.start) >= l.cfg.SummaryWindow || len(l.refusals) >= maxRefusalKinds {
			if c.more > 0 {
				out = append(out, summary(c))
			}
			delete(l.refusals, k)
		}
	}
	if r.Allowed {
		return append(out, r)
	}
	k := refusalKey{peer: r.PeerID, account: r.Account, resource: r.Resource, action: r.Action}
	if c, ok := l.refusals[k]; ok {
		c.more++
		c.last = r
		return out
	}
	if l.refusals == nil {
		l.refusals = map[refusalKey]*refusalCount{}
	}
	l.refusals[k] = &refusalCount{start: r.Time}
	return append(out, r)
}

// summary is the record standing for a window's alike refusals.
func summary(c *refusalCount) AuditRecord {
	s := c.last
	s.Detail = fmt.Sprintf("%d more refusals like this since %s (last: %s)", c.more, c.start.Format(time.RFC3339), c.last.Detail)
	return s
}

// flushSummaries writes the counts of every open window.
func (l *AuditLog) flushSummaries() {
	l.mu.Lock()
	var out []AuditRecord
	for k, c := range l.refusals {
		if c.more > 0 {
			out = append(out, summary(c))
		}
		delete(l.refusals, k)
	}
	l.mu.Unlock()
	for _, s := range out {
		l.appendLine(s)
	}
}

func (l *AuditLog) appendLine(r AuditRecord) {
	line, err := json.Marshal(r)
	if err != nil {
		l.cfg.Logger.Error("audit record not encodable", "err", err)
		return
	}
	l.send(auditReq{line: append(line, '\n')})
}

// Flush waits until every record appended before it is on disk.
func (l *AuditLog) Flush() {
	done := make(chan struct{})
	if l.send(auditReq{done: done}) {
		<-done
	}
}

func (l *AuditLog) send(req auditReq) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		if req.line != nil {
			l.cfg.Logger.Warn("audit log closed; record dropped", "record", string(bytes.TrimSpace(req.line)))
		}
		return false
	}
	l.ch <- req
	return true
}

// Close writes what is queued and closes the file.
func (l *AuditLog) Close() error {
	l.flushSummaries()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.ch)
	l.mu.Unlock()
	<-l.done
	return l.f.Close()
}

func (l *AuditLog) writer() {
	defer close(l.done)
	var buf bytes.Buffer
	var waiting []chan struct{}
	for req := range l.ch {
		buf.Reset()
		waiting = waiting[:0]
		add := func(r auditReq) {
			buf.Write(r.line)
			if r.done != nil {
				waiting = append(waiting, r.done)
			}
		}
		add(req)
	batch:
		for buf.Len() < 1<<20 {
			select {
			case r, ok := <-l.ch:
				if !ok {
					break batch
				}
				add(r)
			default:
				break batch
			}
		}
		if buf.Len() > 0 {
			l.write(buf.Bytes())
		}
		for _, c := range waiting {
			close(c)
		}
	}
}

func (l *AuditLog) write(p []byte) {
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		l.cfg.Logger.Error("audit log write failed", "err", err, "bytes", len(p))
		return
	}
	if l.size >= l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			l.cfg.Logger.Error("audit log rotation failed", "err", err)
		}
	}
}

// rotate keeps the current file as .1, shifting the older ones up to
// .Keep and dropping the rest and any older than MaxAge, and starts a new
// one.
func (l *AuditLog) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	for i := l.cfg.Keep; i >= 1; i-- {
		p := l.path + "." + strconv.Itoa(i)
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if i == l.cfg.Keep || l.cfg.Now().Sub(fi.ModTime()) > l.cfg.MaxAge {
			_ = os.Remove(p)
			continue
		}
		_ = os.Rename(p, l.path+"."+strconv.Itoa(i+1))
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		// Keep appending to the old file rather than lose records.
		if oerr := l.openFile(); oerr != nil {
			return errors.Join(err, oerr)
		}
		return err
	}
	return l.openFile()
}

// maxAuditRead bounds how much of one file Read looks at.
const maxAuditRead = 64 << 20

// Read returns up to limit of the newest records, oldest first (limit <= 0:
// all that are kept). Lines that do not parse — a torn last line after a
// crash — are skipped.
func (l *AuditLog) Read(limit int) ([]AuditRecord, error) {
	l.flushSummaries()
	l.Flush()
	var out []AuditRecord
	paths := []string{l.path}
	for i := 1; i <= l.cfg.Keep; i++ {
		paths = append(paths, l.path+"."+strconv.Itoa(i))
	}
	for _, p := range paths {
		recs, err := readAuditFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(recs, out...)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

func readAuditFile(p string) ([]AuditRecord, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	start := int64(0)
	if fi.Size() > maxAuditRead {
		start = fi.Size() - maxAuditRead
	}
	data, err := io.ReadAll(io.NewSectionReader(f, start, fi.Size()-start))
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	if start > 0 {
		// Drop the partial line the window starts in.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	var out []AuditRecord
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r AuditRecord
		if err := json.Unmarshal(line, &r); err != nil || r.Action == "" {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
