package app

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// sharingSwitch pauses and resumes serving this peer's shares.
type sharingSwitch interface {
	SetSharingPaused(paused bool)
	SharingPaused() bool
}

// trayActions are what the tray menu's items do (UI goroutine).
type trayActions struct {
	open       func()
	quickShare func(id, name string)
	sharing    sharingSwitch // nil: no Pause sharing item
	quit       func()
	// changed redraws the menu after Pause sharing toggled.
	changed func()
}

// tray is the system tray menu: Open, Quick share ▸ one entry per online
// peer, Pause sharing, Quit. Only the UI goroutine uses it.
type tray struct {
	desk  desktop.App
	act   trayActions
	peers *peersModel
	menu  *fyne.Menu
}

// installTray puts Peerdesk in the system tray. It returns nil when there
// is no tray here (then closing the window quits).
func installTray(a fyne.App, peers *peersModel, act trayActions) *tray {
	desk, ok := a.(desktop.App)
	if !ok || !trayAvailable() {
		return nil
	}
	t := &tray{desk: desk, act: act, peers: peers}
	t.act.changed = t.rebuild
	desk.SetSystemTrayIcon(Icon)
	t.rebuild()
	return t
}

// rebuild makes the menu anew (the online peers changed, or pause did).
func (t *tray) rebuild() {
	t.menu = trayMenu(onlineRows(t.peers), t.act)
	t.desk.SetSystemTrayMenu(t.menu)
}

func trayMenu(online []peerRow, act trayActions) *fyne.Menu {
	var peers []*fyne.MenuItem
	for _, r := range online {
		peers = append(peers, fyne.NewMenuItem(r.Name, func() { act.quickShare(r.ID, r.Name) }))
	}
	quick := fyne.NewMenuItem("Quick share", nil)
	if len(peers) == 0 {
		none := fyne.NewMenuItem("No other PC online", nil)
		none.Disabled = true
		peers = append(peers, none)
	}
	quick.ChildMenu = fyne.NewMenu("", peers...)
	items := []*fyne.MenuItem{fyne.NewMenuItem("Open", act.open), quick}
	if act.sharing != nil {
		pause := fyne.NewMenuItem("Pause sharing", nil)
		pause.Checked = act.sharing.SharingPaused()
		pause.Action = func() {
			act.sharing.SetSharingPaused(!pause.Checked)
			if act.changed != nil {
				act.changed()
			}
		}
		items = append(items, pause)
	}
	// Fyne's tray adds its own Quit unless the last item is labelled
	// "Quit", which then keeps our action.
	items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Quit", act.quit))
	return fyne.NewMenu("Peerdesk", items...)
}

// trayAvailable reports whether a tray can work here. On Linux and the BSDs
// the tray is a D-Bus service: with no session bus, Fyne's tray fails to
// start and then crashes the app on quit (fyne.io/systray's nativeEnd
// closes a nil connection), so there we look for the bus first, the way
// godbus does (without autolaunch, which would start a bus no tray uses).
func trayAvailable() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return sessionBusAvailable()
	}
	return true
}

func sessionBusAvailable() bool {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return true
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	}
	_, err := os.Stat(filepath.Join(dir, "bus"))
	return err == nil
}
