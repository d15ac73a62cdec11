//go:build linux

package udp

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBatchedSendAndReadAllocateNothing sends corked bursts both ways
// between a connected socket and a listener's socket (segmentation
// offload, the listener addressing each send) and reads them back
// (coalesced reads, the sender's address decoded): once warm, a burst and
// its reads allocate nothing. x/sys's Recvmsg and Sendmsg allocated the
// address on every call, and the closures around them their results; on
// the receiving end of a transfer that was most of the garbage besides
// the data.
func TestBatchedSendAndReadAllocateNothing(t *testing.T) {
	ln, client := listenAndDial(t, 4<<20, nil)
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items: allocation counts mean nothing")
	}
	if !client.sock.gro || !ln.sock.gro {
		t.Skip("no UDP GRO on this kernel: reads take one datagram each")
	}
	if err := client.WriteDatagram([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	buf := make([]byte, 2048)
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := server.Read(buf); err != nil {
		t.Fatal(err)
	}

	const burst = 16
	datagram := bytes.Repeat([]byte{'d'}, 1200)
	// send corks from, writes a burst and reads it at to.
	send := func(from Conn, to net.Conn) {
		from.Cork()
		for range burst {
			if err := from.WriteDatagram(datagram); err != nil {
				t.Fatal(err)
			}
		}
		if err := from.Uncork(); err != nil {
			t.Fatal(err)
		}
		for i := range burst {
			n, err := to.Read(buf)
			if err != nil || n != len(datagram) {
				t.Fatalf("datagram %d of the burst: %d bytes, %v", i, n, err)
			}
		}
	}
	_ = client.SetReadDeadline(time.Now().Add(time.Minute))
	for _, c := range []struct {
		name     string
		from     Conn
		to       net.Conn
		sockFrom *udpSock
	}{
		{"connected to listener", client, server, client.sock},
		{"listener to connected", server.(Conn), client, ln.sock},
	} {
		sends := 0
		allocs := testing.AllocsPerRun(50, func() {
			send(c.from, c.to)
			sends++
		})
		// A burst that went as several segmented sends, or was read in
		// pieces, allocates no more: the figure is per burst. The pool
		// may refill once after a collection.
		if allocs >= 1 {
			t.Errorf("%s: %.1f allocations per burst of %d datagrams, want none", c.name, allocs, burst)
		}
		if !c.sockFrom.gso.Load() {
			t.Errorf("%s: segmentation offload switched itself off", c.name)
		}
		t.Logf("%s: %.2f allocations per burst of %d datagrams (%d bursts)", c.name, allocs, burst, sends)
	}
}

// TestRawSockaddr checks the addresses the socket layer builds for a send
// and decodes from a read, as the kernel lays them out.
func TestRawSockaddr(t *testing.T) {
	for _, c := range []struct {
		name     string
		addr     netip.AddrPort
		inet6    bool // the socket's family
		family   uint16
		length   uint32
		wantBack netip.AddrPort
	}{
		{"IPv4 on an IPv4 socket", netip.MustParseAddrPort("192.0.2.7:5353"), false, unix.AF_INET, unix.SizeofSockaddrInet4, netip.MustParseAddrPort("192.0.2.7:5353")},
		{"IPv4 on an IPv6 socket, mapped", netip.MustParseAddrPort("192.0.2.7:40001"), true, unix.AF_INET6, unix.SizeofSockaddrInet6, netip.MustParseAddrPort("[::ffff:192.0.2.7]:40001")},
		{"IPv6", netip.MustParseAddrPort("[fd00::1:2]:65535"), true, unix.AF_INET6, unix.SizeofSockaddrInet6, netip.MustParseAddrPort("[fd00::1:2]:65535")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rsa unix.RawSockaddrAny
			if n := putRawSockaddr(&rsa, c.addr, c.inet6); n != c.length {
				t.Errorf("length %d, want %d", n, c.length)
			}
			if rsa.Addr.Family != c.family {
				t.Errorf("family %d, want %d", rsa.Addr.Family, c.family)
			}
			// The port is in network byte order, after the family.
			raw := (*[4]byte)(unsafe.Pointer(&rsa))
			if port := binary.BigEndian.Uint16(raw[2:4]); port != c.addr.Port() {
				t.Errorf("port in the sockaddr %d, want %d", port, c.addr.Port())
			}
			if got := addrPortFromRaw(&rsa); got != c.wantBack {
				t.Errorf("decoded %v, want %v", got, c.wantBack)
			}
		})
	}
	var unknown unix.RawSockaddrAny
	unknown.Addr.Family = unix.AF_UNIX
	if got := addrPortFromRaw(&unknown); got.IsValid() {
		t.Errorf("a sockaddr of another family decoded as %v", got)
	}
}

// groCmsg is a control message as the kernel reports a coalesced read's
// segment size.
func groCmsg(size uint32) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], size)
	return b
}

// otherCmsg is a control message of another kind (a receive timestamp).
func otherCmsg() []byte {
	b := make([]byte, unix.CmsgSpace(16))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_SOCKET
	h.Type = unix.SO_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(16))
	return b
}

func TestGROSegment(t *testing.T) {
	for _, c := range []struct {
		name string
		oob  []byte
		want int
	}{
		{"none", nil, 0},
		{"GRO", groCmsg(1232), 1232},
		{"after another message", append(otherCmsg(), groCmsg(1400)...), 1400},
		{"another message only", otherCmsg(), 0},
		{"truncated header", groCmsg(1232)[:unix.SizeofCmsghdr-1], 0},
		{"length past the end", groCmsg(1232)[:unix.CmsgLen(4)-1], 0},
		{"zero size", groCmsg(0), 0},
	} {
		if got := groSegment(c.oob); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// FuzzGROSegment: any control data gives a size ≥ 0 without panicking, and
// a GRO message's size is found behind whatever precedes it.
func FuzzGROSegment(f *testing.F) {
	f.Add([]byte{}, uint32(1232))
	f.Add(otherCmsg(), uint32(1400))
	f.Add(groCmsg(9), uint32(65535))
	f.Fuzz(func(t *testing.T, oob []byte, size uint32) {
		if g := groSegment(oob); g < 0 {
			t.Fatalf("segment size %d", g)
		}
		var prefix []byte
		for len(prefix) < len(oob) && len(prefix) < 4*unix.CmsgSpace(16) {
			prefix = append(prefix, otherCmsg()...)
		}
		want := int(int32(size))
		if want < 0 {
			want = 0
		}
		if got := groSegment(append(prefix, groCmsg(size)...)); got != want {
			t.Fatalf("segment size %d after %d bytes of other messages, want %d", got, len(prefix), want)
		}
	})
}

// SetBuffers reports what the kernel granted. Asked for twice what
// net.core.rmem_max allows, a root process (CI) gets it all; any other
// gets the cap, reported as it is.
func TestSetBuffersReportsWhatTheKernelGranted(t *testing.T) {
	capBytes := func(name string) int {
		b, err := os.ReadFile("/proc/sys/net/core/" + name)
		if err != nil {
			t.Skip(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rmax, wmax := capBytes("rmem_max"), capBytes("wmem_max")
	size := 2 * max(rmax, wmax)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rcv, snd := SetBuffers(c, size)
	if os.Geteuid() == 0 {
		if rcv < size || snd < size {
			t.Errorf("as root, asked for %d each way: got %d and %d", size, rcv, snd)
		}
		return
	}
	if rcv != rmax || snd != wmax {
		t.Errorf("capped at %d and %d: SetBuffers says %d and %d", rmax, wmax, rcv, snd)
	}
}
