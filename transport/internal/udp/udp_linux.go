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
	rd        sockRead
}

func newUDPSock(c *net.UDPConn, connected bool) *udpSock {
	s := &udpSock{c: c, connected: connected}
	s.rd.oob = make([]byte, unix.CmsgSpace(4))
	s.rd.fromFD = s.rd.readFrom
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
// One goroutine reads a socket, so the read's state lives in s.rd.
func (s *udpSock) readBatch() (*rxBatch, error) {
	if s.rc == nil || !s.gro {
		return readOne(s.c)
	}
	r := &s.rd
	err := s.rc.Read(r.fromFD)
	if err == nil {
		err = r.err
	}
	b := r.b
	r.b, r.err = nil, nil
	if err != nil {
		if b != nil {
			putRx(b)
		}
		return nil, err
	}
	b.from = addrPortFromRaw(&r.from)
	seg := r.n
	if g := groSegment(r.oob[:r.oobn]); g > 0 {
		seg = g
	}
	for d := b.buf[:r.n]; len(d) > 0; {
		k := min(seg, len(d))
		b.segs = append(b.segs, d[:k])
		d = d[k:]
	}
	return b, nil
}

// sockRead is the state of a socket's current read, kept with the socket
// so that a read allocates nothing: x/sys's Recvmsg costs a
// getsockopt(SO_PROTOCOL) system call and two allocations per read to
// hand over the sender's address, and a closure over the results would
// cost more (measured on the receiving end of a 2.5 Gbit/s transfer: 2%
// of its CPU, and most of the app's garbage besides the data).
type sockRead struct {
	fromFD func(fd uintptr) bool // readFrom, bound once
	b      *rxBatch
	n      int
	oob    []byte
	oobn   int
	from   unix.RawSockaddrAny
	err    error
}

// readFrom reads into a batch it takes from the pool; false asks the
// runtime to wait until the socket is readable.
func (r *sockRead) readFrom(fd uintptr) bool {
	if r.b == nil {
		r.b = getRx()
	}
	iov := unix.Iovec{Base: &r.b.buf[0]}
	iov.SetLen(len(r.b.buf))
	msg := unix.Msghdr{Name: (*byte)(unsafe.Pointer(&r.from)), Namelen: unix.SizeofSockaddrAny, Iov: &iov}
	msg.SetIovlen(1)
	msg.Control = &r.oob[0]
	msg.SetControllen(len(r.oob))
	n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&msg)), 0)
	if errno == unix.EAGAIN {
		putRx(r.b)
		r.b = nil
		return false
	}
	r.n, r.oobn, r.err = int(n), int(msg.Controllen), nil
	if errno != 0 {
		r.n, r.oobn, r.err = 0, 0, errno
	}
	return true
}

// groSegment finds the segment size of a coalesced read in its control
// messages (0 if none says).
func groSegment(oob []byte) int {
	// ParseOneSocketControlMessage reads a header before checking its
	// length: only whole headers go in.
	for len(oob) >= unix.SizeofCmsghdr {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && len(data) >= 4 {
			return max(0, int(int32(binary.NativeEndian.Uint32(data))))
		}
		oob = rest
	}
	return 0
}

// addrPortFromRaw is the sender's address of a read (IPv6 zones dropped,
// as the net package's UDP reads do not report them either).
func addrPortFromRaw(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), binary.BigEndian.Uint16(port[:]))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), binary.BigEndian.Uint16(port[:]))
	}
	return netip.AddrPort{}
}

// send sends b, which holds datagrams of seg bytes each (the last may be
// shorter), or one datagram if seg is 0.
func (s *udpSock) send(g *gsoSend, b []byte, seg int, to netip.AddrPort) error {
	if seg > 0 && seg < len(b) && s.rc != nil && s.gso.Load() {
		err := s.sendGSO(g, b, seg, to)
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

func (s *udpSock) sendGSO(g *gsoSend, b []byte, seg int, to netip.AddrPort) error {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&g.oob[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(g.oob[unix.CmsgLen(0):], uint16(seg))
	g.iov = unix.Iovec{Base: &b[0]}
	g.iov.SetLen(len(b))
	g.msg = unix.Msghdr{Iov: &g.iov, Control: &g.oob[0]}
	g.msg.SetIovlen(1)
	g.msg.SetControllen(unix.CmsgSpace(2))
	if !s.connected {
		g.msg.Name = (*byte)(unsafe.Pointer(&g.sa))
		g.msg.Namelen = putRawSockaddr(&g.sa, to, s.c.LocalAddr().(*net.UDPAddr).IP.To4() == nil)
	}
	if g.fn == nil {
		g.fn = g.sendmsg
	}
	err := s.rc.Write(g.fn)
	g.iov.Base = nil // the queue's buffer is not the send's to hold
	if err == nil {
		err, g.err = g.err, nil
	}
	return err
}

// gsoSend is one send queue's segmented send, kept with the queue (whose
// lock orders its sends) so that a send allocates nothing: x/sys's
// Sendmsg allocates the address on every call, and a closure over the
// message would too.
type gsoSend struct {
	fn  func(fd uintptr) bool // sendmsg, bound once
	msg unix.Msghdr
	iov unix.Iovec
	oob [unix.SizeofCmsghdr + 8]byte
	sa  unix.RawSockaddrAny
	err error
}

// sendmsg sends g.msg; false asks the runtime to wait until the socket
// is writable.
func (g *gsoSend) sendmsg(fd uintptr) bool {
	_, _, errno := unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&g.msg)), 0)
	if errno == unix.EAGAIN {
		return false
	}
	g.err = nil
	if errno != 0 {
		g.err = errno
	}
	return true
}

// putRawSockaddr writes a into rsa in the form a socket of the listener's
// family takes (an IPv6 socket, bound to [::], takes IPv4 peers mapped)
// and returns its length.
func putRawSockaddr(rsa *unix.RawSockaddrAny, a netip.AddrPort, inet6 bool) uint32 {
	if a.Addr().Is4() && !inet6 {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		sa.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
		sa.Addr = a.Addr().As4()
		return unix.SizeofSockaddrInet4
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
	sa.Family = unix.AF_INET6
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
	sa.Addr = a.Addr().As16()
	return unix.SizeofSockaddrInet6
}
