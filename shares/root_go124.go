//go:build !go1.25

package shares

import (
	"os"
	"path/filepath"
	"time"
)

// Go 1.24's os.Root has no Link, Rename or Chtimes. These fall back to
// path-based calls below the root's folder; the names were checked by
// CleanPath and the files just opened through the root, so only a local
// process swapping a folder for a symlink in between could redirect them.
// Building with Go 1.25 or later uses the root-confined versions.

func pathInRoot(root *os.Root, name string) string {
	return filepath.Join(root.Name(), filepath.FromSlash(name))
}

func linkInRoot(root *os.Root, oldname, newname string) error {
	return os.Link(pathInRoot(root, oldname), pathInRoot(root, newname))
}

func renameInRoot(root *os.Root, oldname, newname string) error {
	return os.Rename(pathInRoot(root, oldname), pathInRoot(root, newname))
}

func setMtimeInRoot(root *os.Root, name string, mtime time.Time) error {
	return os.Chtimes(pathInRoot(root, name), time.Time{}, mtime)
}
