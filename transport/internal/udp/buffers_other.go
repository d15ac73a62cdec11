//go:build !linux

package udp

import "net"

// SetBuffers asks for size bytes of kernel buffer each way on c and
// returns what was granted, as far as this system says: the size if it
// took it, 0 if it refused.
func SetBuffers(c *net.UDPConn, size int) (rcv, snd int) {
	if c.SetReadBuffer(size) == nil {
		rcv = size
	}
	if c.SetWriteBuffer(size) == nil {
		snd = size
	}
	return rcv, snd
}
