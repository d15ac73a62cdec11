//go:build !windows

package control

import (
	"net"
	"syscall"
)

// listenPrivate creates the socket with no permissions for group and others
// from the start, so there is no window before the chmod.
func listenPrivate(path string) (net.Listener, error) {
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
