//go:build linux

package udp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"unsafe"

	"golang.org/x/sys/unix"
)

// udpSock on Linux: UDP GRO for reads (the kernel hands over up to 64 KiB
// of same-sized datagrams at once) and UDP segmentation offload for writes
// (one sendmsg for a burst of records); each turns itself off on a kernel
// that refuses it.
type udpSock struct {
	c         *net.UDPConn
	rc        syscall.RawConn
	connected bool
	gso       atomic.Bool
	gro       bool
	oob       []byte
}

func newUDPSock(c *net.UDPConn, connected bool) *udpSock {
	s := &udpSock{c: c, connected: connected, oob: make([]byte, unix.CmsgSpace(4))}
	rc, err := c.SyscallConn()
	if err != nil {
		return s
	}
	s.rc = rc
	s.gso.Store(true)
	_ = rc.Control(func(fd uintptr) {
		s.gro = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
	})
	return s
}

// readBatch reads the next (coalesced) datagrams into a batch from the
// pool. The batch is taken only once the socket has something to read:
// a blocked read holds no buffer, so an idle session costs no 64 KiB
// (with 100 peers, the dialled half of the sessions held 3 MB that way).
func (s *udpSock) readBatch() (*rxBatch, error) {
	if s.rc == nil || !s.gro {
		return readOne(s.c)
	}
	var b *rxBatch
	var n, oobn int
	var sa unix.Sockaddr
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		if b == nil {
			b = getRx()
		}
		n, oobn, _, sa, rerr = unix.Recvmsg(int(fd), b.buf, s.oob, 0)
		if rerr == unix.EAGAIN {
			putRx(b)
			b = nil
			return false
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		if b != nil {
			putRx(b)
		}
		return nil, err
	}
	b.from = sockaddrToAddrPort(sa)
	seg := n
	if oobn > 0 {
		if msgs, perr := unix.ParseSocketControlMessage(s.oob[:oobn]); perr == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_UDP && m.Header.Type == unix.UDP_GRO && len(m.Data) >= 4 {
					if g := int(binary.NativeEndian.Uint32(m.Data)); g > 0 {
						seg = g
					}
				}
			}
		}
	}
	for d := b.buf[:n]; len(d) > 0; {
		k := min(seg, len(d))
		b.segs = append(b.segs, d[:k])
		d = d[k:]
	}
	return b, nil
}

func sockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// send sends b, which holds datagrams of seg bytes each (the last may be
// shorter), or one datagram if seg is 0.
func (s *udpSock) send(b []byte, seg int, to netip.AddrPort) error {
	if seg > 0 && seg < len(b) && s.rc != nil && s.gso.Load() {
		err := s.sendGSO(b, seg, to)
		if err == nil {
			return nil
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) || (errno != unix.EIO && errno != unix.EINVAL && errno != unix.EOPNOTSUPP) {
			return err
		}
		// No segmentation offload here (a device without checksum
		// offload answers EIO): one datagram at a time from now on.
		s.gso.Store(false)
	}
	return s.sendEach(b, seg, to)
}

func (s *udpSock) sendGSO(b []byte, seg int, to netip.AddrPort) error {
	var oob [unix.SizeofCmsghdr + 8]byte
	h := (*unix.Cmsghdr)(unsafePointer(&oob[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(oob[unix.CmsgLen(0):], uint16(seg))
	var sa unix.Sockaddr
	if !s.connected {
		sa = addrPortToSockaddr(to, s.c.LocalAddr().(*net.UDPAddr).IP.To4() == nil)
	}
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), b, oob[:unix.CmsgSpace(2)], sa, 0)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}

// addrPortToSockaddr makes the address for a socket of the listener's
// family: an IPv6 socket (bound to [::]) takes IPv4 peers mapped.
func addrPortToSockaddr(a netip.AddrPort, inet6 bool) unix.Sockaddr {
	if a.Addr().Is4() && !inet6 {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
