package app

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
)

var self = node.IDInfo{ID: "9d4e0000-0000-0000-0000-000000000000", Name: "front-desk", Code: "AR57-VUWX-V6UZ-RQA6"}

func TestMainWindow(t *testing.T) {
	a := test.NewTempApp(t)
	var last WindowState
	peers := newPeersModel()
	w := newMainWindow(a, self, peers, services{}, func(s WindowState) { last = s })
	t.Cleanup(w.win.Close)

	if got, want := w.win.Title(), "Peerdesk — front-desk"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	w.show()
	if want := (WindowState{Title: "Peerdesk — front-desk", Peers: 0, Visible: true, Tab: tabPeers, PID: os.Getpid(), Width: last.Width}); last.Width < 800 || !reflect.DeepEqual(last, want) {
		t.Errorf("after show: state %+v, want %+v", last, want)
	}
	peers.apply(discovery.Event{Kind: discovery.EventUp, Peer: peer("a", "alpha", true, "new", fpA)})
	if last.Peers != 1 {
		t.Errorf("after a peer came up: state %+v, want 1 peer", last)
	}
	w.hide()
	if last.Visible {
		t.Errorf("after hide: state %+v, want not visible", last)
	}

	markup := test.RenderToMarkup(w.win.Canvas())
	for _, want := range []string{">front-desk<", ">AR57-VUWX-V6UZ-RQA6<", ">alpha<"} {
		if !strings.Contains(markup, want) {
			t.Errorf("window lacks %s", want)
		}
	}
}

func TestControlBridge(t *testing.T) {
	test.NewTempApp(t)
	shown := 0
	var tabs []string
	b := &controlBridge{show: func(a ShowArgs) { shown++; tabs = append(tabs, a.Tab) }}
	ctx := context.Background()

	// Starting: the window is about to show; there is no state yet.
	if _, err := b.serveShow(ctx, OpShow, nil); err != nil {
		t.Errorf("show while starting: %v", err)
	}
	if _, err := b.serveState(ctx, OpState, nil); !errors.Is(err, ErrNotShowing) {
		t.Errorf("state while starting: %v, want ErrNotShowing", err)
	}

	b.setPhase(running)
	b.publish(WindowState{Title: "Peerdesk — x", Peers: 3, Visible: false})
	if _, err := b.serveShow(ctx, OpShow, nil); err != nil || shown != 1 {
		t.Errorf("show while running: err %v, shown %d times, want once", err, shown)
	}
	got, err := b.serveState(ctx, OpState, nil)
	if want := (WindowState{Title: "Peerdesk — x", Peers: 3}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("state: %+v, %v; want %+v", got, err, want)
	}
	if _, err := b.serveShow(ctx, OpShow, []byte(`{"tab":"Transfers"}`)); err != nil || !reflect.DeepEqual(tabs, []string{"", "Transfers"}) {
		t.Errorf("show on Transfers: err %v, shown on %q", err, tabs)
	}
	if _, err := b.serveShow(ctx, OpShow, []byte(`[1]`)); !errors.Is(err, node.ErrUsage) {
		t.Errorf("show with bad arguments: %v, want a usage error", err)
	}
	shown = 1

	b.setPhase(stopped)
	if _, err := b.serveShow(ctx, OpShow, nil); !errors.Is(err, ErrNotShowing) {
		t.Errorf("show after quit: %v, want ErrNotShowing", err)
	}
	if shown != 1 {
		t.Errorf("show ran %d times, want once", shown)
	}
}

func TestTrayMenu(t *testing.T) {
	var opened, quit bool
	var shared string
	sw := &fakeSharing{}
	changed := 0
	act := trayActions{
		open: func() { opened = true }, quit: func() { quit = true },
		quickShare: func(id, name string) { shared = id + "/" + name },
		sharing:    sw, changed: func() { changed++ },
	}
	m := trayMenu([]peerRow{{ID: "a", Name: "alpha", Online: true}, {ID: "b", Name: "beta", Online: true}}, act)
	var labels []string
	for _, it := range m.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, ","); got != "Open,Quick share,Pause sharing,,Quit" {
		t.Fatalf("tray menu %s, want Open, Quick share, Pause sharing, separator, Quit", got)
	}
	quick := m.Items[1].ChildMenu
	if len(quick.Items) != 2 || quick.Items[1].Label != "beta" {
		t.Fatalf("quick share lists %v, want alpha, beta", quick.Items)
	}
	quick.Items[1].Action()
	if shared != "b/beta" {
		t.Errorf("quick share to beta asked for %q", shared)
	}
	m.Items[2].Action()
	if !sw.paused || changed != 1 {
		t.Errorf("pause: paused %v, menu redrawn %d times", sw.paused, changed)
	}
	if m2 := trayMenu(nil, act); !m2.Items[2].Checked {
		t.Error("Pause sharing is not ticked while paused")
	} else if it := m2.Items[1].ChildMenu.Items; len(it) != 1 || !it[0].Disabled {
		t.Errorf("quick share with nobody online: %v", it)
	}
	m.Items[0].Action()
	m.Items[len(m.Items)-1].Action()
	if !opened || !quit {
		t.Errorf("actions ran: open %v, quit %v", opened, quit)
	}
}

type fakeSharing struct{ paused bool }

func (f *fakeSharing) SetSharingPaused(p bool) { f.paused = p }
func (f *fakeSharing) SharingPaused() bool     { return f.paused }

// A state request the UI goroutine never gets to (the app quit meanwhile)
// ends when the app stops, instead of holding the node's Close forever.
func TestStateRequestDuringQuit(t *testing.T) {
	dropped := make(chan struct{}, 1)
	b := &controlBridge{
		fresh: func() WindowState { return WindowState{Title: "never"} },
		onUI:  func(func()) { dropped <- struct{}{} }, // a UI loop that has ended
	}
	b.setPhase(running)
	errc := make(chan error, 1)
	go func() {
		_, err := b.serveState(context.Background(), OpState, nil)
		errc <- err
	}()
	<-dropped
	select {
	case err := <-errc:
		t.Fatalf("state returned before the app stopped: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.setPhase(stopped)
	select {
	case err := <-errc:
		if !errors.Is(err, ErrNotShowing) {
			t.Errorf("state during quit: %v, want ErrNotShowing", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("state request still waiting 5 s after the app stopped")
	}

	// The caller giving up ends it too.
	b = &controlBridge{fresh: b.fresh, onUI: func(func()) {}}
	b.setPhase(running)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := b.serveState(ctx, OpState, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("state with a caller that gave up: %v, want its deadline", err)
	}
}
