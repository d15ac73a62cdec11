//go:build go1.25

package shares

import (
	"os"
	"time"
)

// These use the os.Root methods of Go 1.25, which resolve both names
// inside the root like every other access.

func linkInRoot(root *os.Root, oldname, newname string) error {
	return root.Link(oldname, newname)
}

func renameInRoot(root *os.Root, oldname, newname string) error {
	return root.Rename(oldname, newname)
}

func setMtimeInRoot(root *os.Root, name string, mtime time.Time) error {
	return root.Chtimes(name, time.Time{}, mtime)
}
