package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxConflicts bounds the "name (N).ext" search.
const maxConflicts = 10000

// Place moves the finished file src to dir/name. Unless replace, an
// existing file keeps its name and the new one becomes "name (1).ext",
// "name (2).ext"...: the rename never overwrites. It returns the final
// path.
func Place(src, dir, name string, replace bool) (string, error) {
	if replace {
		dst := filepath.Join(dir, name)
		if err := os.Rename(src, dst); err != nil {
			return "", diskErr(err)
		}
		return dst, syncDir(dir)
	}
	for i := 0; i < maxConflicts; i++ {
		dst := filepath.Join(dir, ConflictName(name, i))
		// A hard link fails if dst exists, so two transfers racing for
		// the same name cannot overwrite each other.
		err := os.Link(src, dst)
		if err == nil {
			os.Remove(src)
			return dst, syncDir(dir)
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// No hard links here (FAT, some network shares): check, then
		// rename.
		if _, serr := os.Lstat(dst); serr == nil {
			continue
		}
		if rerr := os.Rename(src, dst); rerr != nil {
			return "", diskErr(rerr)
		}
		return dst, syncDir(dir)
	}
	return "", fmt.Errorf("place %s: %d files of that name already", name, maxConflicts)
}

// ConflictName is name with " (i)" before its extension; i = 0 is name
// itself. "report.tar.gz" becomes "report (1).tar.gz".
func ConflictName(name string, i int) string {
	if i == 0 {
		return name
	}
	base, ext := splitExt(name)
	return fmt.Sprintf("%s (%d)%s", base, i, ext)
}

func splitExt(name string) (string, string) {
	if strings.HasPrefix(name, ".") && strings.Count(name, ".") == 1 {
		return name, "" // ".bashrc" has no extension
	}
	lower := strings.ToLower(name)
	for _, double := range []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"} {
		if strings.HasSuffix(lower, double) && len(name) > len(double) {
			return name[:len(name)-len(double)], name[len(name)-len(double):]
		}
	}
	ext := filepath.Ext(name)
	if ext == name {
		return name, ""
	}
	return name[:len(name)-len(ext)], ext
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // not supported here (Windows): nothing to do
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
