package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
)

var self = node.IDInfo{ID: "9d4e0000-0000-0000-0000-000000000000", Name: "front-desk", Code: "AR57-VUWX-V6UZ-RQA6"}

func TestMainWindow(t *testing.T) {
	a := test.NewTempApp(t)
	var last WindowState
	peers := newPeersModel()
	w := newMainWindow(a, self, peers, func(s WindowState) { last = s })
	t.Cleanup(w.win.Close)

	if got, want := w.win.Title(), "Peerdesk — front-desk"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	w.show()
	if want := (WindowState{Title: "Peerdesk — front-desk", Peers: 0, Visible: true}); last != want {
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
	b := &controlBridge{show: func() { shown++ }}
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
	if want := (WindowState{Title: "Peerdesk — x", Peers: 3}); err != nil || got != want {
		t.Errorf("state: %+v, %v; want %+v", got, err, want)
	}

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
	m := trayMenu(func() { opened = true }, func() { quit = true })
	if len(m.Items) != 2 || m.Items[0].Label != "Open" || m.Items[1].Label != "Quit" {
		t.Fatalf("tray menu %v, want Open, Quit", m.Items)
	}
	m.Items[0].Action()
	m.Items[1].Action()
	if !opened || !quit {
		t.Errorf("actions ran: open %v, quit %v", opened, quit)
	}
}
