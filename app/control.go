package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/transport"
)

// Control ops the desktop app adds to its node's control socket.
const (
	// OpShow brings the window to the front: a second `peerdesk gui` for
	// the same home sends it and exits (single instance). With ShowArgs'
	// tab, on that screen.
	OpShow = "gui.show"
	// OpState answers a WindowState, so tests and scripts can wait for the
	// window instead of sleeping.
	OpState = "gui.state"
	// OpSend raises the peer picker for files (SendArgs): `peerdesk send
	// FILE...` with no peer named, e.g. from the file manager's "Send to".
	OpSend = "gui.send"
)

// ShowArgs is the (optional) argument of OpShow: the screen to show, by
// its tab's name ("Files", "Transfers"...).
type ShowArgs struct {
	Tab string `json:"tab,omitempty"`
	// Path opens the Files screen at "PC:SHARE/DIR" (PC a name or an id;
	// SHARE and DIR may be left out); with Tab "Print", the Print screen
	// on "PC:PRINTER" (PRINTER may be left out).
	Path string `json:"path,omitempty"`
}

// SendArgs is the argument of OpSend: absolute paths of files and folders.
type SendArgs struct {
	Files []string `json:"files"`
}

// Client asks the desktop app running for Home over its node's control
// socket: the typed side of OpShow, OpState and OpSend, as
// node.LocalClient is of the node's ops.
type Client struct {
	Home string
}

// Show brings the window to the front, on screen tab if not "".
func (c Client) Show(ctx context.Context, tab string) error {
	var args any
	if tab != "" {
		args = ShowArgs{Tab: tab}
	}
	return control.Call(ctx, c.Home, OpShow, args, nil)
}

// Open brings the window up on the Files screen at path, "PC:SHARE/DIR".
func (c Client) Open(ctx context.Context, path string) error {
	return control.Call(ctx, c.Home, OpShow, ShowArgs{Path: path}, nil)
}

// OpenPrinter brings the window up on the Print screen at path,
// "PC:PRINTER" (PRINTER may be left out).
func (c Client) OpenPrinter(ctx context.Context, path string) error {
	return control.Call(ctx, c.Home, OpShow, ShowArgs{Tab: tabPrint, Path: path}, nil)
}

// State is what the window shows.
func (c Client) State(ctx context.Context) (WindowState, error) {
	var w WindowState
	err := control.Call(ctx, c.Home, OpState, nil, &w)
	return w, err
}

// Send raises the peer picker for files.
func (c Client) Send(ctx context.Context, a SendArgs) error {
	return control.Call(ctx, c.Home, OpSend, a, nil)
}

// ErrNotShowing is the answer to OpState before the app has started and
// after it has quit.
var ErrNotShowing = errors.New("the desktop app is not showing its window (starting or quitting)")

func init() { transport.RegisterClass("not_showing", ErrNotShowing) }

// WindowState is what the main window shows, as answered by OpState.
type WindowState struct {
	Title   string `json:"title"`
	Peers   int    `json:"peers"` // rows in the peers table
	Visible bool   `json:"visible"`
	// Tab is the screen on show ("Peers", "Files", ...).
	Tab string `json:"tab,omitempty"`
	// Picker is true while the "send to which peer?" picker is open, for
	// PickerFiles.
	Picker      bool     `json:"picker"`
	PickerFiles []string `json:"picker_files"`
	// Offer is the question of the open "incoming files" dialog ("" when
	// none is open): who wants to send how many files.
	Offer string `json:"offer,omitempty"`
	// Notified is the last desktop notifications the app sent ("title:
	// text"), oldest first, at most maxNotified.
	Notified []string `json:"notified,omitempty"`
	// PID is the app's process id (tests stop an instance they started
	// through a hand-off).
	PID int `json:"pid"`
	// Files is the Files screen (nil until it is built), Dialog the login
	// dialog while it is open, Width the window's width.
	Files  *FilesState  `json:"files,omitempty"`
	Dialog *DialogState `json:"dialog,omitempty"`
	Width  float32      `json:"width"`
	// Transfers is the Transfers screen (nil until it is built).
	Transfers *TransfersState `json:"transfers,omitempty"`
	// Print is the Print screen (nil until it is built).
	Print *PrintState `json:"print,omitempty"`
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
	show  func(ShowArgs) // UI goroutine only
	// fresh reads the window's state now (UI goroutine only): what is
	// typed into a dialog is published by no event.
	fresh func() WindowState
	// pick raises the peer picker for files (UI goroutine only); files
	// handed over while the app starts wait in pending.
	pick    func(files []string)
	pending [][]string
	// gone closes when the phase becomes stopped: work handed to the UI
	// goroutine may then never run.
	gone chan struct{}
	// onUI runs f on the UI goroutine (fyne.Do; tests replace it).
	onUI func(f func())
}

func (b *controlBridge) do(f func()) {
	if b.onUI != nil {
		b.onUI(f)
		return
	}
	fyne.Do(f)
}

// goneC is closed once the app has stopped.
func (b *controlBridge) goneC() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone == nil {
		b.gone = make(chan struct{})
	}
	return b.gone
}

// attach gives the bridge the window's show and pick (before the app runs;
// control ops may already be arriving).
func (b *controlBridge) attach(show func(ShowArgs), pick func([]string), fresh func() WindowState) {
	b.mu.Lock()
	b.show, b.pick, b.fresh = show, pick, fresh
	b.mu.Unlock()
}

// publish records the window state; the UI goroutine calls it.
func (b *controlBridge) publish(s WindowState) {
	b.mu.Lock()
	b.state = s
	b.mu.Unlock()
}

// setPhase moves the app through starting → running → stopped. Entering
// running raises the pickers asked for meanwhile.
func (b *controlBridge) setPhase(p phase) {
	b.mu.Lock()
	b.phase = p
	if p == stopped {
		if b.gone == nil {
			b.gone = make(chan struct{})
		}
		close(b.gone)
	}
	var pending [][]string
	if p == running {
		pending, b.pending = b.pending, nil
	}
	pick := b.pick
	b.mu.Unlock()
	for _, files := range pending {
		b.do(func() { pick(files) })
	}
}

func (b *controlBridge) serveShow(_ context.Context, _ string, args json.RawMessage) (any, error) {
	var a ShowArgs
	if len(args) > 0 && string(args) != "null" {
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, fmt.Errorf("%w: gui.show wants {\"tab\": NAME} or nothing", node.ErrUsage)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.phase {
	case starting:
		return nil, nil // the window shows as the app starts
	case stopped:
		return nil, ErrNotShowing
	}
	show := b.show
	b.do(func() { show(a) })
	return nil, nil
}

func (b *controlBridge) serveSend(_ context.Context, _ string, args json.RawMessage) (any, error) {
	files, err := decodeFiles(args)
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%w: gui.send wants {\"files\": [PATH...]}", node.ErrUsage)
	}
	for _, f := range files {
		if !filepath.IsAbs(f) || strings.ContainsRune(f, 0) {
			return nil, fmt.Errorf("%w: %q is not an absolute path", node.ErrUsage, f)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.phase {
	case starting:
		b.pending = append(b.pending, files)
		return nil, nil
	case stopped:
		return nil, ErrNotShowing
	}
	pick := b.pick
	b.do(func() { pick(files) })
	return nil, nil
}

func (b *controlBridge) serveState(ctx context.Context, _ string, _ json.RawMessage) (any, error) {
	gone := b.goneC()
	b.mu.Lock()
	st, fresh, ph := b.state, b.fresh, b.phase
	b.mu.Unlock()
	if ph != running {
		return nil, ErrNotShowing
	}
	if fresh == nil {
		return st, nil
	}
	// Not under b.mu: the UI goroutine publishes through it. Not
	// fyne.DoAndWait: if the app quits meanwhile the UI goroutine may never
	// run it, and this op would hold the node's Close forever.
	got := make(chan WindowState, 1)
	b.do(func() { got <- fresh() })
	select {
	case st = <-got:
		return st, nil
	case <-gone:
		return nil, ErrNotShowing
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
