package app

import (
	"context"
	"os"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/peerdesk/peerdesk/node"
)

// windowTitle is the main window's title for a peer named name.
func windowTitle(name string) string { return "Peerdesk — " + name }

// services are the parts of the core the screens call. A nil field leaves
// its screen out (tests build the window with only what they exercise).
type services struct {
	trust     peerTrust
	files     remoteFiles
	shares    shareAdmin
	accounts  accountAdmin
	transfers transferList
	audit     auditSource
	settings  settingsStore
	send      sender
	print     printService
	// adder adds a PC by address (nil: no "Add PC by address…").
	adder peerAdder
	// creds remembers credentials in the OS keyring (nil: nowhere).
	creds credStore
	// logins are the session's login per remote PC, shared by the
	// screens (made from creds when nil).
	logins *logins
	// sharing pauses and resumes sharing (the tray's Pause sharing).
	sharing sharingSwitch
	// network runs the network check (Settings › Network check; nil: no
	// button).
	network networkChecker
	// logPath is the log file (Settings › Open log; "": no button).
	logPath string
	// dialogs are the dialogs open now that WindowState reports.
	dialogs *openDialogs
	// picker asks the desktop's file chooser (default portalPick).
	picker func(context.Context, pickRequest) ([]string, error)
	// onUI runs a function on the UI goroutine (fyne.Do); bg starts one
	// in the background (go). Tests make both synchronous.
	onUI func(func())
	bg   func(func())
}

func (s *services) defaults() {
	if s.logins == nil {
		s.logins = newLogins(s.creds)
	}
	if s.dialogs == nil {
		s.dialogs = &openDialogs{}
	}
	if s.onUI == nil {
		s.onUI = fyne.Do
	}
	if s.picker == nil {
		s.picker = portalPick
	}
	if s.bg == nil {
		s.bg = func(fn func()) { go fn() }
	}
}

// Tab names, as WindowState.Tab reports them.
const (
	tabPeers     = "Peers"
	tabFiles     = "Files"
	tabShares    = "My shares"
	tabTransfers = "Transfers"
	tabPrint     = "Print"
	tabAccounts  = "Accounts"
	tabAudit     = "Audit log"
	tabSettings  = "Settings"
)

// mainWindow is the app's window: this peer's header over a tab per
// screen. Only the UI goroutine calls its methods.
type mainWindow struct {
	app     fyne.App
	win     fyne.Window
	self    node.IDInfo
	title   string
	peers   *peersModel
	svc     services
	visible bool
	tabs    *container.AppTabs
	browser *browserScreen
	// transfers is the Transfers screen once built (nil before).
	transfers *transfersScreen
	// print is the Print screen once built (nil before).
	print *printScreen
	// closers stop what screens follow in the background.
	closers []func()
	// picker is the open "send to which peer?" picker, nil when none.
	picker *peerPicker
	// offer is the question of the open accept dialog, "" when none.
	offer string
	// rethemers rebuild what Fyne leaves in the old theme's colours (the
	// tables' column lines) after a theme change.
	rethemers []func()
	// notified is the last notifications sent, for WindowState.
	notified []string
	// changed receives the window's state after every change, for readers
	// on other goroutines (control ops).
	changed func(WindowState)
}

func newMainWindow(a fyne.App, self node.IDInfo, peers *peersModel, svc services, changed func(WindowState)) *mainWindow {
	svc.defaults()
	w := &mainWindow{app: a, self: self, title: windowTitle(self.Name), peers: peers, svc: svc, changed: changed}
	w.win = a.NewWindow(w.title)
	w.win.SetIcon(Icon)
	w.win.SetContent(w.layout())
	w.win.Resize(fyne.NewSize(1000, 600))
	w.win.SetOnDropped(w.dropped)
	peers.onChange(w.publish)
	a.Settings().AddListener(func(fyne.Settings) { fyne.Do(w.retheme) })
	return w
}

// retheme redraws after a theme change what Fyne itself leaves in the old
// theme's colours: the tab contents not on show (only the one on show is
// repainted), and the Files table's column lines.
func (w *mainWindow) retheme() {
	if w.tabs == nil {
		return
	}
	for _, it := range w.tabs.Items {
		if it != w.tabs.Selected() {
			it.Content.Refresh()
		}
	}
	if w.browser != nil {
		w.browser.retheme()
	}
	for _, fn := range w.rethemers {
		fn()
	}
}

// layout puts the header on top of one tab per screen. Screens other
// than Peers are built the first time they are shown: most sessions open
// few of them, and each costs memory (widgets, subscriptions).
func (w *mainWindow) layout() fyne.CanvasObject {
	items := []*container.TabItem{
		container.NewTabItemWithIcon(tabPeers, theme.ComputerIcon(), peersScreen(w)),
	}
	type lazy struct {
		box   *fyne.Container
		build func() fyne.CanvasObject
	}
	builders := map[*container.TabItem]lazy{}
	add := func(name string, icon fyne.Resource, ok bool, build func() fyne.CanvasObject) {
		if ok {
			box := container.NewStack()
			it := container.NewTabItemWithIcon(name, icon, box)
			builders[it] = lazy{box, build}
			items = append(items, it)
		}
	}
	add(tabFiles, theme.FolderOpenIcon(), w.svc.files != nil, func() fyne.CanvasObject {
		return w.browser.view()
	})
	if w.svc.files != nil {
		// The browser exists from the start: the Peers tab and drops
		// on the window open it.
		w.browser = newBrowserScreen(w.svc, w.peers, w.win)
		w.browser.m.openPrinter = func(peer, printer string) {
			w.showArgs(ShowArgs{Tab: tabPrint, Path: peer + ":" + printer})
		}
	}
	add(tabShares, theme.FolderNewIcon(), w.svc.shares != nil, func() fyne.CanvasObject {
		return newSharesScreen(w.svc, w.win).view()
	})
	add(tabTransfers, theme.DownloadIcon(), w.svc.transfers != nil, func() fyne.CanvasObject {
		ts := newTransfersScreen(w.svc, w.app, w.win)
		ts.idOf = w.peers.idOf
		w.transfers = ts
		v := ts.view()
		w.closers = append(w.closers, ts.close)
		return v
	})
	add(tabPrint, theme.DocumentPrintIcon(), w.svc.print != nil, func() fyne.CanvasObject {
		w.print = newPrintScreen(w.svc, w.peers, w.win)
		return w.print.view()
	})
	add(tabAccounts, theme.AccountIcon(), w.svc.accounts != nil, func() fyne.CanvasObject {
		return newAccountsScreen(w.svc, w.win).view()
	})
	add(tabAudit, theme.ListIcon(), w.svc.audit != nil, func() fyne.CanvasObject {
		as := newAuditScreen(w.svc, w.win)
		v := as.view()
		w.rethemers = append(w.rethemers, as.retheme)
		return v
	})
	add(tabSettings, theme.SettingsIcon(), w.svc.settings != nil, func() fyne.CanvasObject {
		return newSettingsScreen(w.svc, w.app, w.win).view()
	})
	w.tabs = container.NewAppTabs(items...)
	w.tabs.OnSelected = func(it *container.TabItem) {
		if l, ok := builders[it]; ok {
			delete(builders, it)
			l.box.Objects = []fyne.CanvasObject{l.build()}
			l.box.Refresh()
		}
		w.publish()
	}
	return container.NewBorder(headerView(w.self), nil, nil, nil, w.tabs)
}

// selectTab shows the screen named name.
func (w *mainWindow) selectTab(name string) {
	for _, it := range w.tabs.Items {
		if it.Text == name {
			w.tabs.Select(it)
			return
		}
	}
}

// browsePeer opens the Files screen on a peer's shares.
func (w *mainWindow) browsePeer(id string) {
	if w.browser == nil {
		return
	}
	w.selectTab(tabFiles)
	w.browser.openPeer(id)
}

// dropped uploads files dropped on the window into the folder the Files
// screen shows.
func (w *mainWindow) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) == 0 {
		return
	}
	if w.browser != nil && w.tabs.Selected() != nil && w.tabs.Selected().Text == tabFiles && w.browser.canUpload() {
		w.browser.upload(paths)
		return
	}
	// Anywhere else a drop means "send these to someone".
	w.pickPeer(paths)
}

// showTab brings the window up on the screen named tab ("" or an unknown
// name: the one on show).
func (w *mainWindow) showTab(tab string) {
	if w.tabs != nil {
		for _, it := range w.tabs.Items {
			if it.Text == tab {
				w.tabs.Select(it)
			}
		}
	}
	w.show()
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
	s := WindowState{Title: w.title, Peers: w.peers.len(), Visible: w.visible, PID: os.Getpid()}
	if w.tabs != nil && w.tabs.Selected() != nil {
		s.Tab = w.tabs.Selected().Text
	}
	s.Offer = w.offer
	s.Notified = slices.Clone(w.notified)
	if w.picker != nil {
		s.Picker = true
		s.PickerFiles = append([]string(nil), w.picker.files...)
	}
	if w.browser != nil {
		s.Files = w.browser.state()
	}
	if d := w.svc.dialogs.login; d != nil {
		s.Dialog = d.state(w.win.Canvas().Focused())
	}
	if w.transfers != nil {
		s.Transfers = w.transfers.state(w.win.Canvas().Focused())
	}
	if w.print != nil {
		s.Print = w.print.state(w.win.Canvas().Focused())
	}
	s.Width = w.win.Canvas().Size().Width
	return s
}

// showArgs brings the window up as gui.show asks: on a screen, on the
// Files screen at PC:SHARE/DIR, or on the Print screen at PC:PRINTER.
func (w *mainWindow) showArgs(a ShowArgs) {
	if a.Path != "" && a.Tab == tabPrint {
		w.showTab(tabPrint) // builds the screen on first show
		if w.print != nil {
			pc, printer, _ := strings.Cut(a.Path, ":")
			w.print.choose(pc, printer)
		}
		return
	}
	if a.Path != "" && w.browser != nil {
		pc, rest, _ := strings.Cut(a.Path, ":")
		share, dir, _ := strings.Cut(rest, "/")
		w.selectTab(tabFiles)
		w.browser.openPath(pc, share, dir)
		w.show()
		return
	}
	w.showTab(a.Tab)
}

func (w *mainWindow) publish() {
	if w.changed != nil {
		w.changed(w.state())
	}
}

// close stops the screens' background work (the app is quitting).
func (w *mainWindow) close() {
	for _, c := range w.closers {
		c()
	}
}

// offerShown records the accept dialog's question for WindowState.
func (w *mainWindow) offerShown(title string) {
	w.offer = title
	w.publish()
}
