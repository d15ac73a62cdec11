//go:build windows

package control

import "net"

// listenPrivate creates the AF_UNIX socket; on Windows the home folder's
// ACL (the user's profile) is what keeps other users out.
func listenPrivate(path string) (net.Listener, error) {
	return net.Listen("unix", path)
}
