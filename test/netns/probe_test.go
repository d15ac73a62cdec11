package netns

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// probeArg as the first argument makes the test binary a UDP probe.
const probeArg = "netns-probe"

// probeMain is the probe: `recv` waits for one datagram carrying -want on
// -addr (joining the group on -iface if -addr is multicast) and exits 0,
// or 1 after -timeout; `send` sends -msg to -addr -count times.
func probeMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: netns-probe recv|send [flags]")
		return 2
	}
	fs := flag.NewFlagSet(probeArg+" "+args[0], flag.ContinueOnError)
	addr := fs.String("addr", "", "UDP address (host:port)")
	iface := fs.String("iface", HostIface, "interface for multicast")
	want := fs.String("want", "", "recv: payload to wait for")
	timeout := fs.Duration("timeout", 3*time.Second, "recv: how long to wait")
	msg := fs.String("msg", "", "send: payload")
	count := fs.Int("count", 1, "send: datagrams to send")
	interval := fs.Duration("interval", 50*time.Millisecond, "send: pause between datagrams")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ua, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch args[0] {
	case "recv":
		return probeRecv(ua, *iface, *want, *timeout)
	case "send":
		return probeSend(ua, *iface, *msg, *count, *interval)
	}
	fmt.Fprintln(os.Stderr, "unknown probe mode", args[0])
	return 2
}

func probeRecv(ua *net.UDPAddr, iface, want string, timeout time.Duration) int {
	var conn *net.UDPConn
	var err error
	if ua.IP.IsMulticast() {
		var ifi *net.Interface
		if ifi, err = net.InterfaceByName(iface); err == nil {
			conn, err = net.ListenMulticastUDP("udp", ifi, ua)
		}
	} else {
		conn, err = net.ListenUDP("udp", ua)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 2
	}
	defer conn.Close()
	fmt.Println("listening on", ua)
	deadline := time.Now().Add(timeout)
	_ = conn.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			fmt.Println("not received:", err)
			return 1
		}
		if string(buf[:n]) == want {
			fmt.Println("received from", from)
			return 0
		}
	}
}

func probeSend(ua *net.UDPAddr, iface, msg string, count int, interval time.Duration) int {
	if ua.IP.IsLinkLocalMulticast() && ua.IP.To4() == nil {
		ua.Zone = iface // an IPv6 link-local group needs its interface
	}
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 2
	}
	defer conn.Close()
	for i := range count {
		if i > 0 {
			time.Sleep(interval)
		}
		// A send error is not fatal: a dropped or unreachable datagram is
		// what some tests look for; the receiver decides.
		if _, err := conn.Write([]byte(msg)); err != nil {
			fmt.Println("send:", err)
		}
	}
	return 0
}
