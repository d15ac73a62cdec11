package app

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// installTray puts Peerdesk in the system tray with Open and Quit. It
// reports false when there is no tray here (then closing the window
// quits).
func installTray(a fyne.App, open, quit func()) bool {
	desk, ok := a.(desktop.App)
	if !ok || !trayAvailable() {
		return false
	}
	desk.SetSystemTrayIcon(Icon)
	desk.SetSystemTrayMenu(trayMenu(open, quit))
	return true
}

func trayMenu(open, quit func()) *fyne.Menu {
	// Fyne's tray adds its own Quit unless the last item is labelled
	// "Quit", which then keeps our action.
	return fyne.NewMenu("Peerdesk",
		fyne.NewMenuItem("Open", open),
		fyne.NewMenuItem("Quit", quit),
	)
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
