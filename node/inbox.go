package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrUnsafeInbox is wrapped by the error for an inbox folder that pushed
// files must not land in.
var ErrUnsafeInbox = errors.New("unsafe inbox folder")

// checkInbox refuses inbox folders where a file other peers push could
// change what the computer runs or trusts: the home folder itself or a
// folder above it (".profile", ".ssh" would land in it), a hidden folder
// or one inside it (~/.config/autostart, ~/.ssh), the per-user program
// data of Windows and macOS, and the system's own folders. Offered names
// are never hidden either (shares.validateOffer), so a pushed file can
// only land in a visible place below a visible inbox.
func checkInbox(dir, home string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%w: %s", ErrUnsafeInbox, "the inbox must be an absolute path")
	}
	dir = filepath.Clean(dir)
	if home != "" {
		home = filepath.Clean(home)
		if dir == home || within(dir, home) {
			return fmt.Errorf("%w: %s", ErrUnsafeInbox, "the inbox cannot be the home folder or a folder above it; use a folder inside it, such as ~/Downloads/Peerdesk")
		}
		for _, sub := range userProgramFolders() {
			if p := filepath.Join(home, sub); dir == p || within(p, dir) {
				return fmt.Errorf("%w: %s", ErrUnsafeInbox, "the inbox cannot be inside "+p+", where programs keep their data")
			}
		}
	}
	vol := filepath.VolumeName(dir)
	for comp := range strings.SplitSeq(filepath.ToSlash(strings.TrimPrefix(dir, vol)), "/") {
		if strings.HasPrefix(comp, ".") {
			return fmt.Errorf("%w: %s", ErrUnsafeInbox, "the inbox cannot be a hidden folder or inside one")
		}
	}
	for _, sys := range systemFolders() {
		if dir == sys || within(sys, dir) {
			return fmt.Errorf("%w: %s", ErrUnsafeInbox, "the inbox cannot be a system folder ("+sys+")")
		}
	}
	return nil
}

// within reports whether path lies strictly inside dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// userProgramFolders are folders of the home where programs keep data
// and start-up items, relative to the home.
func userProgramFolders() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{"AppData"}
	case "darwin":
		return []string{"Library"}
	}
	return nil
}

// systemFolders are the operating system's folders.
func systemFolders() []string {
	if runtime.GOOS == "windows" {
		var out []string
		for _, v := range []string{"SystemRoot", "ProgramFiles", "ProgramFiles(x86)", "ProgramData"} {
			if p := os.Getenv(v); p != "" {
				out = append(out, filepath.Clean(p))
			}
		}
		return out
	}
	out := []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/var"}
	if runtime.GOOS == "darwin" {
		out = append(out, "/Applications", "/Library", "/System", "/private")
	}
	return out
}
