package udp

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// helloFilter lets datagrams starting with 'H' open a conn.
func helloFilter(d []byte) bool { return len(d) > 0 && d[0] == 'H' }

// listenAndDial opens a listener on loopback with buffer bytes of kernel
// buffers and filter, and a connected socket to it; both close with t.
func listenAndDial(t *testing.T, buffer int, filter func([]byte) bool) (*Listener, *Connected) {
	t.Helper()
	ln, err := Listen(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, buffer, filter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	uc, err := net.DialUDP("udp", nil, ln.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	client := NewConnected(uc)
	t.Cleanup(func() { client.Close() })
	return ln, client
}

// TestListenerDivertAndCork runs the layer on loopback: only a datagram
// the filter accepts makes a conn; diverted datagrams reach the divert
// handler and not Read, with drained after each batch; corked writes
// arrive as the separate datagrams they were, in order.
func TestListenerDivertAndCork(t *testing.T) {
	ln, client := listenAndDial(t, 1<<20, helloFilter)

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	if err := client.WriteDatagram([]byte("stray")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
		t.Fatal("a datagram the filter refuses made a conn")
	case <-time.After(100 * time.Millisecond):
	}
	if err := client.WriteDatagram([]byte("Hello")); err != nil {
		t.Fatal(err)
	}
	var server net.Conn
	select {
	case server = <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("no conn for the accepted datagram")
	}
	defer server.Close()
	buf := make([]byte, 2048)
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "Hello" {
		t.Fatalf("first read %q, %v", buf[:n], err)
	}

	var mu sync.Mutex
	var diverted []string
	drained := 0
	server.(Conn).SetDivert(func(d []byte) bool {
		if d[0] != 'B' {
			return false
		}
		mu.Lock()
		diverted = append(diverted, string(d))
		mu.Unlock()
		return true
	}, func() { mu.Lock(); drained++; mu.Unlock() })

	client.Cork()
	for _, d := range []string{"B1", "B2", "data", "B3"} {
		if err := client.WriteDatagram([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Uncork(); err != nil {
		t.Fatal(err)
	}
	_ = server.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := server.Read(buf); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("read %q, %v; want only the datagram not diverted", buf[:n], err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got, d := slices.Clone(diverted), drained
		mu.Unlock()
		if len(got) == 3 && d > 0 {
			if !slices.Equal(got, []string{"B1", "B2", "B3"}) {
				t.Fatalf("diverted %v, want B1 B2 B3 in order", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("diverted %v, drained %d times", got, d)
		}
		// B3 is handed on by the next Read.
		_ = server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = server.Read(buf)
	}
}

// TestQueuesBounded: datagrams waiting for a conn whose owner does not
// read hold a small buffer each and at most the conn's budget, a small
// one until the conn is established; closing the conn gives its queue
// back; what waited arrives intact.
func TestQueuesBounded(t *testing.T) {
	ln, err := Listen(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, 8<<20, helloFilter)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// flood sends a hello from a new port and n datagrams of sizes 1 to
	// 64 after it, and returns the listener's conn for that port.
	flood := func(n int) (*udpPeerConn, *net.UDPConn) {
		uc, err := net.DialUDP("udp", nil, ln.Addr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { uc.Close() })
		if _, err := uc.Write([]byte("Hello")); err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		pc := c.(*udpPeerConn)
		return pc, uc
	}
	send := func(uc *net.UDPConn, n int) {
		b := make([]byte, 64)
		for i := range n {
			b[0] = byte(i)
			if _, err := uc.Write(b[:1+i%64]); err != nil {
				t.Fatal(err)
			}
		}
	}
	queued := func(c *udpPeerConn) int64 {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		return c.queued
	}
	// settle waits until the listener has read what was sent.
	settle := func() {
		time.Sleep(200 * time.Millisecond)
	}

	fresh, fuc := flood(0)
	send(fuc, 2000)
	settle()
	if q := queued(fresh); q > newConnQueueBytes || q == 0 {
		t.Errorf("a new conn holds %d bytes of queued reads, want some and at most %d", q, newConnQueueBytes)
	}
	if n := len(fresh.rx); n*smallRead != int(queued(fresh)) {
		t.Errorf("%d batches hold %d bytes: not 2 KiB each", n, queued(fresh))
	}
	if q := ln.queuedNew.Load(); q != queued(fresh) || ln.queued.Load() != 0 {
		t.Errorf("listener counts %d (new) and %d (sessions), want %d and 0", q, ln.queued.Load(), queued(fresh))
	}
	// The first datagram after the hello arrives as it was sent.
	buf := make([]byte, 2048)
	_ = fresh.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := fresh.Read(buf); err != nil || string(buf[:n]) != "Hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if n, err := fresh.Read(buf); err != nil || n != 1 || buf[0] != 0 {
		t.Fatalf("read %v, %v; want the first datagram, 1 byte", buf[:n], err)
	}
	fresh.Close()
	if q := ln.queuedNew.Load(); q != 0 {
		t.Errorf("a closed conn's queue still counts %d bytes", q)
	}

	est, euc := flood(0)
	est.Established()
	send(euc, 2000)
	settle()
	if q := queued(est); q <= newConnQueueBytes || q > connQueueBytes {
		t.Errorf("an established conn holds %d bytes of queued reads, want more than a new one's %d and at most %d", q, newConnQueueBytes, connQueueBytes)
	}
	// The hello waited before the conn was established: it counts with
	// the new conns'.
	if q, n := ln.queued.Load(), ln.queuedNew.Load(); q+n != queued(est) || n != smallRead {
		t.Errorf("listener counts %d for sessions and %d for new conns, want %d in all, the hello's %d of it for new conns", q, n, queued(est), smallRead)
	}
	est.Close()
	if q, n := ln.queued.Load(), ln.queuedNew.Load(); q != 0 || n != 0 {
		t.Errorf("a closed session's queue still counts %d and %d bytes", q, n)
	}
}
