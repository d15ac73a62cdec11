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

func (s *udpSock) read(buf []byte, segs [][]byte) ([][]byte, netip.AddrPort, error) {
	n, from, err := s.c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return segs, from, err
	}
	return append(segs, buf[:n]), from, nil
}

// send sends b, which holds datagrams of seg bytes each (the last may be
// shorter), or one datagram if seg is 0.
func (s *udpSock) send(b []byte, seg int, to netip.AddrPort) error {
	return s.sendEach(b, seg, to)
}
