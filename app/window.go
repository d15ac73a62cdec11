package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"

	"github.com/peerdesk/peerdesk/node"
)

// windowTitle is the main window's title for a peer named name.
func windowTitle(name string) string { return "Peerdesk — " + name }

// mainWindow is the app's window: this peer's header over the peers
// screen. Only the UI goroutine calls its methods.
type mainWindow struct {
	win     fyne.Window
	title   string
	peers   *peersModel
	visible bool
	// changed receives the window's state after every change, for readers
	// on other goroutines (control ops).
	changed func(WindowState)
}

func newMainWindow(a fyne.App, self node.IDInfo, peers *peersModel, changed func(WindowState)) *mainWindow {
	w := &mainWindow{title: windowTitle(self.Name), peers: peers, changed: changed}
	w.win = a.NewWindow(w.title)
	w.win.SetIcon(Icon)
	w.win.SetContent(mainScreen(self, peers))
	w.win.Resize(fyne.NewSize(880, 480))
	peers.rows.AddListener(binding.NewDataListener(w.publish))
	return w
}

// mainScreen lays the screens out: header on top, peers below.
func mainScreen(self node.IDInfo, peers *peersModel) fyne.CanvasObject {
	return container.NewBorder(headerView(self), nil, nil, nil, peersView(peers))
}

// show brings the window up and to the front.
func (w *mainWindow) show() {
	w.win.Show()
	w.win.RequestFocus()
	w.visible = true
	w.publish()
}

// hide takes the window off screen; the app keeps running in the tray.
func (w *mainWindow) hide() {
	w.win.Hide()
	w.visible = false
	w.publish()
}

func (w *mainWindow) state() WindowState {
	return WindowState{Title: w.title, Peers: w.peers.len(), Visible: w.visible}
}

func (w *mainWindow) publish() {
	if w.changed != nil {
		w.changed(w.state())
	}
}
