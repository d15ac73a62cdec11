package app

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"fyne.io/fyne/v2"
)

// Control ops the desktop app adds to its node's control socket.
const (
	// OpShow brings the window to the front: a second `peerdesk gui` for
	// the same home sends it and exits (single instance).
	OpShow = "gui.show"
	// OpState answers a WindowState, so tests and scripts can wait for the
	// window instead of sleeping.
	OpState = "gui.state"
)

// ErrNotShowing is the answer to OpState before the app has started and
// after it has quit.
var ErrNotShowing = errors.New("the desktop app is not showing its window (starting or quitting)")

// WindowState is what the main window shows, as answered by OpState.
type WindowState struct {
	Title   string `json:"title"`
	Peers   int    `json:"peers"` // rows in the peers table
	Visible bool   `json:"visible"`
}

type phase int

const (
	starting phase = iota
	running
	stopped
)

// controlBridge carries control ops, which run on the control socket's
// goroutines, to the UI goroutine: it holds the window state the UI last
// published and runs show there.
type controlBridge struct {
	mu    sync.Mutex
	phase phase
	state WindowState
	show  func() // UI goroutine only
}

// publish records the window state; the UI goroutine calls it.
func (b *controlBridge) publish(s WindowState) {
	b.mu.Lock()
	b.state = s
	b.mu.Unlock()
}

// setPhase moves the app through starting → running → stopped.
func (b *controlBridge) setPhase(p phase) {
	b.mu.Lock()
	b.phase = p
	b.mu.Unlock()
}

func (b *controlBridge) serveShow(context.Context, string, json.RawMessage) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.phase {
	case starting:
		return nil, nil // the window shows as the app starts
	case stopped:
		return nil, ErrNotShowing
	}
	fyne.Do(b.show)
	return nil, nil
}

func (b *controlBridge) serveState(context.Context, string, json.RawMessage) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.phase != running {
		return nil, ErrNotShowing
	}
	return b.state, nil
}
