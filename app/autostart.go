package app

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Start at login follows the XDG autostart spec (Linux, BSDs): the .deb
// installs /etc/xdg/autostart/ID.desktop for everyone, and a person's own
// ~/.config/autostart/ID.desktop shadows it — "Hidden=true" turns login
// start off (packaging/README.md). Elsewhere the installer owns it.

var errNoAutostart = errors.New("start at login is set by the installer on this system")

// autostart is where the login-start entries live (dirs overridable in
// tests).
type autostart struct {
	userDir, systemDir string
}

func defaultAutostart() autostart {
	cfg, err := os.UserConfigDir()
	if err != nil {
		cfg = filepath.Join(os.Getenv("HOME"), ".config")
	}
	return autostart{userDir: filepath.Join(cfg, "autostart"), systemDir: "/etc/xdg/autostart"}
}

func autostartSupported() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return true
	}
	return false
}

func (a autostart) file(dir string) string { return filepath.Join(dir, ID+".desktop") }

// Enabled reports whether Peerdesk starts at this person's login.
func (a autostart) Enabled() bool {
	if b, err := os.ReadFile(a.file(a.userDir)); err == nil {
		return !hiddenEntry(b)
	}
	b, err := os.ReadFile(a.file(a.systemDir))
	return err == nil && !hiddenEntry(b)
}

// hiddenEntry reports whether a desktop entry says Hidden=true.
func hiddenEntry(b []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && strings.TrimSpace(k) == "Hidden" && strings.EqualFold(strings.TrimSpace(v), "true") {
			return true
		}
	}
	return false
}

// Set turns login start on or off with the person's own entry, written
// atomically.
func (a autostart) Set(on bool, exe string) error {
	if !autostartSupported() {
		return errNoAutostart
	}
	if err := os.MkdirAll(a.userDir, 0o700); err != nil {
		return fmt.Errorf("autostart folder: %w", err)
	}
	entry := fmt.Sprintf("[Desktop Entry]\nType=Application\nName=Peerdesk\nExec=%s gui\nIcon=%s\nHidden=%t\nX-GNOME-Autostart-enabled=%t\n",
		execQuote(exe), ID, !on, on)
	return atomicfile.WriteFile(a.file(a.userDir), []byte(entry), 0o644)
}

// execQuote quotes a path for a desktop entry's Exec key when needed.
func execQuote(p string) string {
	if !strings.ContainsAny(p, " \t\"'\\$`") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	return `"` + r.Replace(p) + `"`
}
