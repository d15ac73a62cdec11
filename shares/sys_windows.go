//go:build windows

package shares

import (
	"errors"
	"io/fs"
	"syscall"
)

// Windows error codes for a full disk.
const (
	errorHandleDiskFull = syscall.Errno(39)
	errorDiskFull       = syscall.Errno(112)
)

// isNoSpace reports whether err means the disk is full.
func isNoSpace(err error) bool {
	return errors.Is(err, errorDiskFull) || errors.Is(err, errorHandleDiskFull)
}

// fileID is not available from a Windows FileInfo without another call;
// the hash cache then keys on path, size and time alone.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

// isLoop reports a symlink loop (ERROR_CANT_RESOLVE_FILENAME).
func isLoop(err error) bool { return errors.Is(err, syscall.Errno(1921)) }

// isNotDirErr reports a path that uses a file as a folder
// (ERROR_DIRECTORY).
func isNotDirErr(err error) bool { return errors.Is(err, syscall.Errno(267)) }
