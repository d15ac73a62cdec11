//go:build unix

package shares

import (
	"errors"
	"io/fs"
	"syscall"
)

// isNoSpace reports whether err means the disk (or the quota) is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// fileID identifies the file behind fi (device and inode).
func fileID(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// isLoop reports a symlink loop.
func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

// isNotDirErr reports a path that uses a file as a folder.
func isNotDirErr(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
