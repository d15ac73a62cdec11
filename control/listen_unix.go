//go:build !windows

package control

import "net"

// listenPrivate creates the socket. Its safety rests on the home folder
// being 0700 (node.PrivateHome makes it so): nobody else can reach the
// socket in the moment before the caller's chmod to 0600. Changing the
// process umask instead would race with every other goroutine creating
// files.
func listenPrivate(path string) (net.Listener, error) {
	return net.Listen("unix", path)
}
