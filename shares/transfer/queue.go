package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Queued sends: files sent to a peer that is offline wait in the queue,
// kept in the home (sendqueue.json, 0600) across restarts, until the node
// sees the peer again and delivers them (asking the receiver as any send
// does). They show in List as StateQueued and Cancel drops them.

// maxQueued bounds the queue: a person queues a few sends, not thousands.
const maxQueued = 1000

// ErrQueueFull is the refusal of a send beyond maxQueued.
var ErrQueueFull = errors.New("too many sends queued")

func (m *Manager) queuePath() string { return filepath.Join(filepath.Dir(m.path), "sendqueue.json") }

func (m *Manager) loadQueue() {
	b, err := os.ReadFile(m.queuePath())
	if err != nil {
		return
	}
	if err := json.Unmarshal(b, &m.queue); err != nil {
		m.log.Warn("send queue unreadable; starting with none", "err", err)
		m.queue = nil
	}
	m.queue = slices.DeleteFunc(m.queue, func(in Info) bool { return in.State != StateQueued || in.PeerID == "" || len(in.Files) == 0 })
}

func (m *Manager) saveQueueLocked() {
	b, err := json.Marshal(m.queue)
	if err == nil {
		err = atomicfile.WriteFile(m.queuePath(), b, 0o600)
	}
	if err != nil {
		m.log.Warn("save send queue", "err", err)
	}
}

// Enqueue queues a send of files (total bytes) to peer peerID, named
// peer, for when it is back online.
func (m *Manager) Enqueue(peerID, peer string, files []string, total int64) (Info, error) {
	if peerID == "" || len(files) == 0 {
		return Info{}, fmt.Errorf("enqueue: no peer or no files")
	}
	path := filepath.Base(files[0])
	if len(files) > 1 {
		path = fmt.Sprintf("%s and %d more", path, len(files)-1)
	}
	in := Info{
		ID: uuid.NewString()[:8], Kind: KindSend, Peer: peer, PeerID: peerID, Path: path, Local: files[0],
		Files: slices.Clone(files), State: StateQueued, Total: total, Started: time.Now(),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queue) >= maxQueued {
		return Info{}, fmt.Errorf("%w (%d); cancel some on Transfers", ErrQueueFull, maxQueued)
	}
	m.queue = append(m.queue, in)
	m.saveQueueLocked()
	m.emitLocked(in)
	return in, nil
}

// QueuedPeers are the peers sends wait for.
func (m *Manager) QueuedPeers() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, in := range m.queue {
		if !slices.Contains(out, in.PeerID) {
			out = append(out, in.PeerID)
		}
	}
	return out
}

// TakeQueued removes the sends queued for peerID and returns them, to be
// delivered: each then either runs as sends do, goes back with Requeue,
// or ends with FailQueued.
func (m *Manager) TakeQueued(peerID string) []Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Info
	m.queue = slices.DeleteFunc(m.queue, func(in Info) bool {
		if in.PeerID == peerID {
			out = append(out, in)
			return true
		}
		return false
	})
	if len(out) > 0 {
		m.saveQueueLocked()
	}
	return out
}

// Requeue puts a taken send back (its peer went away again before it
// could be delivered).
func (m *Manager) Requeue(in Info) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in.State = StateQueued
	m.queue = append(m.queue, in)
	slices.SortStableFunc(m.queue, func(a, b Info) int { return a.Started.Compare(b.Started) })
	m.saveQueueLocked()
	m.emitLocked(in)
}

// FailQueued files a taken send in the history as failed with err (the
// receiver declined, the files are gone).
func (m *Manager) FailQueued(in Info, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in.State, in.Error, in.Ended = StateFailed, err.Error(), time.Now()
	if m.Classify != nil {
		in.Classes = m.Classify(err)
	}
	m.fileLocked(in)
}

// cancelQueuedLocked drops queued send id into the history as canceled;
// it reports whether id was queued.
func (m *Manager) cancelQueuedLocked(id string) bool {
	i := slices.IndexFunc(m.queue, func(in Info) bool { return in.ID == id })
	if i < 0 {
		return false
	}
	in := m.queue[i]
	m.queue = slices.Delete(m.queue, i, i+1)
	m.saveQueueLocked()
	in.State, in.Error, in.Ended = StateCanceled, "canceled", time.Now()
	m.fileLocked(in)
	return true
}

// fileLocked adds a finished transfer to the history and tells the
// subscribers.
func (m *Manager) fileLocked(in Info) {
	m.history = append(m.history, in)
	if len(m.history) > historyLimit {
		m.history = slices.Clone(m.history[len(m.history)-historyLimit:])
	}
	m.emitLocked(in)
	if err := m.saveLocked(); err != nil {
		m.log.Warn("save transfer history", "err", err)
	}
}
