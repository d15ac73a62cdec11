package shares

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// renameNoReplace gives the file oldname the name newname unless newname
// exists (then fs.ErrExist). A hard link followed by removing the old name
// makes this atomic: the new name appears complete or not at all, and an
// existing file is never replaced. Where hard links are not supported (FAT,
// some network file systems) it checks, then renames.
func renameNoReplace(root *os.Root, oldname, newname string) error {
	err := linkInRoot(root, oldname, newname)
	if err == nil {
		if rerr := root.Remove(oldname); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("remove %s after linking it: %w", oldname, rerr)
		}
		return nil
	}
	if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, lerr := root.Lstat(newname); lerr == nil {
		return fs.ErrExist
	} else if !errors.Is(lerr, fs.ErrNotExist) {
		return lerr
	}
	return renameInRoot(root, oldname, newname)
}

// mkdirAll creates a cleaned relative folder and its parents inside root.
func mkdirAll(root *os.Root, clean string) error {
	if clean == "" {
		return nil
	}
	cur := ""
	for comp := range strings.SplitSeq(clean, "/") {
		cur = joinRel(cur, comp)
		err := root.Mkdir(cur, 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return err
			}
			continue
		}
		fi, serr := root.Stat(cur)
		if serr != nil {
			return serr
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w", cur, errNotDir)
		}
	}
	return nil
}

var errNotDir = errors.New("not a folder")

// syncDir fsyncs a folder inside root so a rename in it survives a power
// failure. Some systems cannot fsync folders; that is not an error.
func syncDir(root *os.Root, clean string) {
	d, err := root.Open(rootName(clean))
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
