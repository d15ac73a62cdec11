package bulk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

// A ping is the cheapest proof that the peer of a session is there: one
// sealed record each way on the session's flow, against a request and
// its answer on a new SCTP stream (a stream's opening and reset, the
// frames, their acknowledgements, JSON) for a liveness hello. With 50
// peers probing each other every two seconds, hellos took 3% of a core
// per peer (docs/performance.md). A peer that does not know pings ignores
// the record (unknown tags are), so a node pings only peers whose hello
// said they answer.
const (
	recBulkPing byte = 0x05 // ping: tag, 8-byte token
	recBulkPong byte = 0x06 // its answer: tag, the same token
	pingSize         = 1 + 8
)

// PingResend is how often an unanswered ping is sent again; a variable so
// that tests can shorten it.
var PingResend = 300 * time.Millisecond

// pings are the pings waiting for their pong, by token.
type pings struct {
	mu      sync.Mutex
	waiting map[uint64]chan struct{}
	onPing  func()
}

// SetOnPing names what to call when the peer pings (it is there); it runs
// on the goroutine that reads the session's datagrams and must not block.
func (m *Mux) SetOnPing(fn func()) {
	m.pings.mu.Lock()
	m.pings.onPing = fn
	m.pings.mu.Unlock()
}

// Ping sends pings until the peer answers one or ctx ends.
func (m *Mux) Ping(ctx context.Context) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	token := binary.BigEndian.Uint64(b[:])
	pong := make(chan struct{})
	m.pings.mu.Lock()
	if m.pings.waiting == nil {
		m.pings.waiting = map[uint64]chan struct{}{}
	}
	m.pings.waiting[token] = pong
	m.pings.mu.Unlock()
	defer func() {
		m.pings.mu.Lock()
		delete(m.pings.waiting, token)
		m.pings.mu.Unlock()
	}()
	resend := time.NewTicker(PingResend)
	defer resend.Stop()
	for {
		if err := m.write(binary.BigEndian.AppendUint64(append(newMessage(pingSize), recBulkPing), token)); err != nil {
			return err
		}
		select {
		case <-pong:
			return nil
		case <-m.closed:
			return m.deadErr()
		case <-ctx.Done():
			return ctx.Err()
		case <-resend.C:
		}
	}
}

// handlePing answers a ping, or wakes the Ping its pong answers.
func (m *Mux) handlePing(rec []byte) {
	if len(rec) != pingSize {
		return
	}
	token := binary.BigEndian.Uint64(rec[1:])
	m.pings.mu.Lock()
	onPing, pong := m.pings.onPing, m.pings.waiting[token]
	if rec[0] == recBulkPong && pong != nil {
		delete(m.pings.waiting, token)
		close(pong)
	}
	m.pings.mu.Unlock()
	if rec[0] == recBulkPing {
		// Heard before answered: once the pinger has its pong, this side
		// knows it was pinged.
		if onPing != nil {
			onPing()
		}
		_ = m.write(binary.BigEndian.AppendUint64(append(newMessage(pingSize), recBulkPong), token))
	}
}

// deadErr is why the channel closed.
func (m *Mux) deadErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead != nil {
		return m.dead
	}
	return errs.Closed
}
