// Package app is the Peerdesk desktop app (Fyne): the main window with this
// peer's header and the live peer table, the tray menu, and the control ops
// through which a second start hands over to the running window. It holds
// screens only: everything it shows comes from the node's API and events.
// The core never imports it.
package app

import (
	"errors"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/peerdesk/peerdesk/app/internal/localefix"
	"github.com/peerdesk/peerdesk/node"
)

// Fyne's packages have run their init by now (this package imports them).
func init() { localefix.Restore() }

// ID is the app's unique id (FyneApp.toml, preferences, desktop files).
const ID = "org.peerdesk.Peerdesk"

// ErrNoDisplay: there is no graphical session to open the window in.
var ErrNoDisplay = errors.New("no display to open the desktop app on (DISPLAY and WAYLAND_DISPLAY are unset); run `peerdesk daemon` for a headless peer")

// Options configure Run. The zero value is valid.
type Options struct {
	// Logger receives the app's log; nil means slog.Default().
	Logger *slog.Logger
	// Done, when closed, quits the app as the tray's Quit does (the caller
	// closes it on SIGTERM, say). Nil: only the user quits.
	Done <-chan struct{}
	// Version is shown to the user (about, notifications); "" for a
	// development build.
	Version string
	// LogPath is the log file Settings › Open log opens ("": no button).
	LogPath string
}

// Run shows the desktop app for the running peer n and returns when the
// user quits (tray Quit, or closing the window where there is no tray),
// when opts.Done closes, or when n stops. It must be called on the main
// goroutine. The caller still owns n and closes it after Run: that is the
// graceful part of Quit (goodbye to the other peers).
func Run(n *node.Node, opts Options) error {
	if err := CheckDisplay(); err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}

	// Control ops first: a second start may already be knocking.
	bridge := &controlBridge{}
	n.HandleControl(OpShow, bridge.serveShow)
	n.HandleControl(OpState, bridge.serveState)
	n.HandleControl(OpSend, bridge.serveSend)

	self := n.ID()
	fyneapp.SetMetadata(fyne.AppMetadata{ID: ID, Name: "Peerdesk", Version: opts.Version, Build: 1, Icon: Icon})
	a := fyneapp.NewWithID(ID)
	a.SetIcon(Icon)
	a.Settings().SetTheme(newAppTheme(a.Preferences().StringWithFallback(prefTheme, themeSystem)))

	core := nodeCore{Node: n}
	svc := services{
		trust: core, files: core, shares: core, accounts: core, transfers: core,
		audit: core, settings: core, send: core, print: core, sharing: core, network: core, logPath: opts.LogPath,
		adder: core,
	}
	if keyringAvailable() {
		svc.creds = osKeyring{home: n.Home}
	}
	svc.logins = newLogins(svc.creds)
	svc.logins.loggedOut = n.LogOut
	peers := newPeersModel()
	win := newMainWindow(a, self, peers, svc, bridge.publish)
	bridge.attach(win.showArgs, win.pickPeer, win.state)
	t := installTray(a, peers, trayActions{open: win.show, quickShare: win.chooseFilesFor, sharing: core, quit: a.Quit})
	if t != nil {
		win.win.SetCloseIntercept(win.hide)
		peers.onChange(t.rebuild)
	} else {
		win.win.SetMaster()
	}
	prompt := &acceptPrompt{win: win.win, onUI: fyne.Do, notify: win.notify, show: win.show, inbox: n.Files().Inbox, shown: win.offerShown}
	n.SetAcceptAsker(prompt.ask)
	defer n.SetAcceptAsker(nil)
	a.Lifecycle().SetOnStarted(func() { bridge.setPhase(running) })
	trim := trimMemory()
	defer trim.Stop()

	stopPeers := followPeers(n, peers, fyne.Do)
	go signInForAddedPrinters(n, svc.creds, 12, 5*time.Second)
	stopNotify := notifyReceived(core, func(title, text string) { fyne.Do(func() { win.notify(title, text) }) })
	stopWatch := quitWhen(a, opts.Done, n.Done())
	win.show()
	log.Info("desktop app started", "title", win.title)

	a.Run()

	bridge.setPhase(stopped)
	win.close()
	stopWatch()
	stopNotify()
	stopPeers()
	log.Info("desktop app quit")
	return nil
}

// quitWhen quits a when either channel closes (nil channels never do).
// stop returns once its goroutine is gone.
func quitWhen(a fyne.App, c1, c2 <-chan struct{}) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-c1:
		case <-c2:
		case <-quit:
			return
		}
		fyne.Do(a.Quit)
	}()
	return func() {
		close(quit)
		<-done
	}
}

// CheckDisplay fails early, with a hint, where the windowing library would
// fail obscurely: on X11/Wayland systems with no session.
func CheckDisplay() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return ErrNoDisplay
		}
	}
	return nil
}

// keyringAvailable reports whether the OS keyring can be asked without
// side effects: on Linux and the BSDs it is a D-Bus service, and asking
// with no session bus would make the D-Bus library launch one.
func keyringAvailable() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return sessionBusAvailable()
	}
	return true
}

// memoryTrimDelay is when, after start, the startup garbage (fonts and
// icons parsed, first frames laid out) goes back to the OS.
const memoryTrimDelay = 3 * time.Second

// trimMemory makes the desktop app lean (SPEC: GUI ≤ 150 MB RSS): the
// collector lets the heap grow by a quarter of what is live before it
// runs, unless GOGC says otherwise, and once the window is up the pages
// freed since start are returned to the OS at once rather than over
// minutes. A quarter, not the default whole: the live heap is 12-20 MB
// (fonts, widgets, a download's windows), so a collection costs a few
// milliseconds, and a 1 GiB download allocates about 80 MB, some twenty
// collections; at half, the app's peak during that download was 4-8 MB
// higher (GUI test under Xvfb: 169.7 against 174.9-177.7 MB). No memory
// limit: a big listing or transfer may need more, and a limit below the
// live heap makes the collector run without pause.
func trimMemory() *time.Timer {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	return time.AfterFunc(memoryTrimDelay, debug.FreeOSMemory)
}
