//go:build !linux

package udp

import (
	"net"
	"net/netip"
)

// udpSock without batching: one datagram per system call.
type udpSock struct {
	c         *net.UDPConn
	connected bool
}

func newUDPSock(c *net.UDPConn, connected bool) *udpSock {
	return &udpSock{c: c, connected: connected}
}

// gsoSend is the state of a segmented send, which only Linux has.
type gsoSend struct{}

// readBatch reads the next datagram into a batch from the pool.
func (s *udpSock) readBatch() (*rxBatch, error) { return readOne(s.c) }

// send sends b, which holds datagrams of seg bytes each (the last may be
// shorter), or one datagram if seg is 0.
func (s *udpSock) send(_ *gsoSend, b []byte, seg int, to netip.AddrPort) error {
	return s.sendEach(b, seg, to)
}
