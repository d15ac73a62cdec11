//go:build !linux

package transport

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
	if seg == 0 {
		seg = len(b)
	}
	for len(b) > 0 {
		n := min(seg, len(b))
		var err error
		if s.connected {
			_, err = s.c.Write(b[:n])
		} else {
			_, err = s.c.WriteToUDPAddrPort(b[:n], to)
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
