//go:build !unix && !windows

package shares

import "io/fs"

func isNoSpace(error) bool { return false }

func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

func isLoop(error) bool { return false }

func isNotDirErr(error) bool { return false }
