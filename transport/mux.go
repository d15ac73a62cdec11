package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// HandlerFunc answers one request.
type HandlerFunc func(ctx context.Context, req Request, s *Stream)

// Mux routes requests to handlers by op.
type Mux struct {
	mu       sync.RWMutex
	handlers map[string]HandlerFunc
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{handlers: map[string]HandlerFunc{}} }

// Handle registers fn for op, replacing any earlier handler.
func (m *Mux) Handle(op string, fn HandlerFunc) {
	m.mu.Lock()
	m.handlers[op] = fn
	m.mu.Unlock()
}

// Lookup returns the handler of op, if any.
func (m *Mux) Lookup(op string) (HandlerFunc, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fn, ok := m.handlers[op]
	return fn, ok
}

// ServeStream implements Handler.
func (m *Mux) ServeStream(ctx context.Context, req Request, s *Stream) {
	m.mu.RLock()
	fn := m.handlers[req.Op]
	m.mu.RUnlock()
	if fn == nil {
		_ = s.Fail(fmt.Errorf("%w: unknown op %q", ErrNotFound, req.Op))
		return
	}
	fn(ctx, req, s)
}

// DecodeBody decodes a request body into v, reporting a malformed body as a
// protocol error.
func DecodeBody(req Request, v any) error {
	if len(req.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(req.Body, v); err != nil {
		return fmt.Errorf("%w: %s body: %v", ErrProtocol, req.Op, err)
	}
	return nil
}
