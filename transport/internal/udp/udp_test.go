package udp

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestListenerDivertAndCork runs the layer on loopback: only a datagram
// the filter accepts makes a conn; diverted datagrams reach the divert
// handler and not Read, with drained after each batch; corked writes
// arrive as the separate datagrams they were, in order.
func TestListenerDivertAndCork(t *testing.T) {
	ln, err := Listen(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, 1<<20, func(d []byte) bool { return len(d) > 0 && d[0] == 'H' })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	uc, err := net.DialUDP("udp", nil, ln.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	client := NewConnected(uc)
	defer client.Close()

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
