package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Kind says which way a transfer goes.
type Kind string

const (
	KindDownload Kind = "get"     // from a peer's share
	KindUpload   Kind = "put"     // into a peer's share
	KindSend     Kind = "send"    // pushed to a peer
	KindReceive  Kind = "receive" // pushed by a peer into the inbox
)

// State of a transfer.
type State string

const (
	StateRunning  State = "running"
	StateDone     State = "done"
	StateFailed   State = "failed"
	StateCanceled State = "canceled"
	// StateQueued: a send waiting for its peer to come back online
	// (queue.go).
	StateQueued State = "queued"
)

// Info is a transfer as listed by `transfers` and shown in the GUI.
type Info struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Peer  string `json:"peer"` // peer name (or names, for multi-source)
	Path  string `json:"path"` // remote side: SHARE/PATH, or the file name
	Local string `json:"local,omitempty"`
	State State  `json:"state"`
	Bytes int64  `json:"bytes"`
	Total int64  `json:"total"`
	// Rate is bytes per second, smoothed; ETA in seconds (0 if unknown).
	Rate    float64   `json:"rate"`
	ETA     float64   `json:"eta"`
	Resumed int64     `json:"resumed,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Error   string    `json:"error,omitempty"`
	// Classes are the failure's classes (transport.RegisterClass names):
	// what the GUI words a failure by, never its message.
	Classes []string `json:"classes,omitempty"`
	// Dropped names the sources of a multi-source download that sent
	// bytes other than the owner's file and were dropped.
	Dropped []string `json:"dropped,omitempty"`
	// PeerID and Files are a queued send's peer and local files.
	PeerID string   `json:"peer_id,omitempty"`
	Files  []string `json:"files,omitempty"`
}

// ErrNoTransfer: Cancel was given an id that is neither running nor
// queued (it ended meanwhile, or never was).
var ErrNoTransfer = errors.New("no such transfer")

// ClassInterrupted is the class of a transfer that was running when its
// peer stopped.
const ClassInterrupted = "interrupted"

// historyLimit bounds the finished transfers kept.
const historyLimit = 200

// Manager keeps the running and past transfers of one peer, persisted in
// its home so the history outlives a restart.
type Manager struct {
	path string
	log  *slog.Logger
	// Classify, if set, names the classes of a failure for Info.Classes.
	Classify func(error) []string

	mu      sync.Mutex
	running map[string]*tracked
	history []Info // oldest first
	queue   []Info // sends waiting for their peer, oldest first (queue.go)
	subs    map[chan Info]struct{}
	dirty   bool
}

type tracked struct {
	info   Info
	cancel context.CancelFunc
	// rate sampling
	lastAt    time.Time
	lastBytes int64
}

// NewManager loads the transfer history from home.
func NewManager(home string, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{path: filepath.Join(home, "transfers.json"), log: log, running: map[string]*tracked{}, subs: map[chan Info]struct{}{}}
	if b, err := os.ReadFile(m.path); err == nil {
		if err := json.Unmarshal(b, &m.history); err != nil {
			log.Warn("transfer history unreadable; starting afresh", "err", err)
			m.history = nil
		}
	}
	m.loadQueue()
	// A transfer that was running when the peer stopped did not finish.
	for i := range m.history {
		if m.history[i].State == StateRunning {
			m.history[i].State = StateFailed
			m.history[i].Error = "interrupted (the peer stopped); run it again to resume"
			m.history[i].Classes = []string{ClassInterrupted}
		}
	}
	return m
}

// Task is a running transfer's handle for the code that moves the bytes.
type Task struct {
	m   *Manager
	id  string
	Ctx context.Context
}

// Start registers a new transfer; the caller moves the bytes under
// task.Ctx (canceled by Cancel) and ends with Finish.
func (m *Manager) Start(ctx context.Context, kind Kind, peer, path, local string, total int64) *Task {
	ctx, cancel := context.WithCancel(ctx)
	now := time.Now()
	t := &tracked{
		info:   Info{ID: uuid.NewString()[:8], Kind: kind, Peer: peer, Path: path, Local: local, State: StateRunning, Total: total, Started: now},
		cancel: cancel,
		lastAt: now,
	}
	m.mu.Lock()
	m.running[t.info.ID] = t
	m.emitLocked(t.info)
	m.mu.Unlock()
	return &Task{m: m, id: t.info.ID, Ctx: ctx}
}

// ID is the transfer's id.
func (t *Task) ID() string { return t.id }

// Progress records that done of total bytes are in place.
func (t *Task) Progress(done, total int64) {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	tr := m.running[t.id]
	if tr == nil {
		return
	}
	now := time.Now()
	tr.info.Bytes, tr.info.Total = done, total
	if dt := now.Sub(tr.lastAt).Seconds(); dt >= 0.25 {
		inst := float64(done-tr.lastBytes) / dt
		if tr.info.Rate == 0 {
			tr.info.Rate = inst
		} else {
			tr.info.Rate = 0.7*tr.info.Rate + 0.3*inst
		}
		tr.lastAt, tr.lastBytes = now, done
		if tr.info.Rate > 0 && total > done {
			tr.info.ETA = float64(total-done) / tr.info.Rate
		}
		m.emitLocked(tr.info)
	}
}

// Resumed records bytes that were already on disk from an earlier try.
func (t *Task) Resumed(n int64) {
	t.m.mu.Lock()
	if tr := t.m.running[t.id]; tr != nil {
		tr.info.Resumed = n
		tr.lastBytes = max(tr.lastBytes, n)
	}
	t.m.mu.Unlock()
}

// Dropped records the sources dropped for sending bytes that did not
// match the owner's file.
func (t *Task) Dropped(names []string) {
	t.m.mu.Lock()
	if tr := t.m.running[t.id]; tr != nil {
		tr.info.Dropped = slices.Clone(names)
	}
	t.m.mu.Unlock()
}

// Finish ends the transfer with err (nil: done) and files it in history.
func (t *Task) Finish(local string, err error) Info {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	tr := m.running[t.id]
	if tr == nil {
		return Info{}
	}
	delete(m.running, t.id)
	tr.cancel()
	info := tr.info
	info.Ended = time.Now()
	info.ETA = 0
	if local != "" {
		info.Local = local
	}
	if secs := info.Ended.Sub(info.Started).Seconds(); secs > 0 {
		info.Rate = float64(info.Bytes-info.Resumed) / secs
	}
	switch {
	case err == nil:
		info.State = StateDone
		info.Bytes = info.Total
	case errors.Is(err, context.Canceled) && t.Ctx.Err() != nil:
		info.State = StateCanceled
		info.Error = "canceled"
	default:
		info.State = StateFailed
		info.Error = err.Error()
		if m.Classify != nil {
			info.Classes = m.Classify(err)
		}
	}
	m.fileLocked(info)
	return info
}

// Cancel stops a running transfer (its partial data stays for a resume)
// or drops a queued send.
func (m *Manager) Cancel(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancelQueuedLocked(id) {
		return nil
	}
	tr := m.running[id]
	if tr == nil {
		return fmt.Errorf("%w: %q is neither running nor queued", ErrNoTransfer, id)
	}
	tr.cancel()
	return nil
}

// Running is how many transfers are running.
func (m *Manager) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.running)
}

// List returns the running transfers, the queued sends, then the past
// ones, newest first.
func (m *Manager) List() []Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Info, 0, len(m.running)+len(m.queue)+len(m.history))
	for _, tr := range m.running {
		out = append(out, tr.info)
	}
	slices.SortFunc(out, func(a, b Info) int { return b.Started.Compare(a.Started) })
	for i := len(m.queue) - 1; i >= 0; i-- {
		out = append(out, m.queue[i])
	}
	for i := len(m.history) - 1; i >= 0; i-- {
		out = append(out, m.history[i])
	}
	return out
}

// Subscribe returns a channel of transfer updates (start, progress about
// four times a second, end). A reader that falls 64 updates behind misses
// updates rather than holding up transfers; List has the truth. Call
// cancel when done.
func (m *Manager) Subscribe() (<-chan Info, func()) {
	c := make(chan Info, 64)
	m.mu.Lock()
	m.subs[c] = struct{}{}
	m.mu.Unlock()
	return c, func() {
		m.mu.Lock()
		if _, ok := m.subs[c]; ok {
			delete(m.subs, c)
			close(c)
		}
		m.mu.Unlock()
	}
}

func (m *Manager) emitLocked(info Info) {
	for c := range m.subs {
		select {
		case c <- info:
		default:
		}
	}
}

func (m *Manager) saveLocked() error {
	b, err := json.Marshal(m.history)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(m.path, b, 0o600)
}
