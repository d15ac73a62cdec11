package integration

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// TestPeerStartedBeforeItsNetwork (R2 4/7): a peer started while its link
// is down (autostart before the Wi-Fi connects) finds the others, and is
// found, within 5 s of its link coming up. Before the interface watcher it
// logged "mdns browse unavailable" once and never saw anyone.
func TestPeerStartedBeforeItsNetwork(t *testing.T) {
	bed := netns.New(t, 3)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	bed.LinkDown(t, 2)
	for _, p := range ps {
		p.start()
	}
	late := ps[2]
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(ps[0], ps[1]) })
	time.Sleep(2 * time.Second) // the late peer is well settled without a network
	if ok, _ := seesOnline(late, ps[0]); ok {
		t.Fatal("the peer without a link sees another")
	}
	up := time.Now()
	bed.LinkUp(t, 2)
	netns.WaitFor(t, 5*time.Second, 50*time.Millisecond, func() (bool, string) {
		if ok, msg := seesOnline(late, ps[0], ps[1]); !ok {
			return false, msg
		}
		return seesOnline(ps[0], late)
	})
	took := time.Since(up)
	netns.WaitFor(t, 5*time.Second, 50*time.Millisecond, func() (bool, string) { return seesOnline(ps[1], late) })
	t.Logf("MEASURED a peer started with its link down: sees both others and is seen %v after the link came up", took.Round(time.Millisecond))
}

// TestInterfaceAddedLater (R2 4/7): a peer that gains an interface while
// it runs (a docking station, a second card, a VPN) finds the peers
// reachable only through it within 5 s, and they find it.
func TestInterfaceAddedLater(t *testing.T) {
	office := netns.New(t, 1)
	lab := netns.New(t, 1)
	bin := netns.PeerdeskBinary(t)
	laptop := newPeers(t, office, bin)[0]
	printerPC := newPeers(t, lab, bin)[0]
	laptop.start()
	printerPC.start()
	time.Sleep(2 * time.Second)
	if ok, _ := seesOnline(laptop, printerPC); ok {
		t.Fatal("the laptop sees a peer of a network it is not on")
	}
	docked := time.Now()
	lab.Attach(t, laptop.host, "eth1", 100)
	netns.WaitFor(t, 5*time.Second, 50*time.Millisecond, func() (bool, string) {
		if ok, msg := seesOnline(laptop, printerPC); !ok {
			return false, msg
		}
		return seesOnline(printerPC, laptop)
	})
	t.Logf("MEASURED a peer gaining an interface: it and the peer behind it see each other %v after the interface came up", time.Since(docked).Round(time.Millisecond))
}

// TestPeerAddByName (R2 4/7): `peer add` takes a DNS name, and keeps it:
// when the peer's address changes (new DHCP lease, the name now pointing
// elsewhere), it is found again by its name.
func TestPeerAddByName(t *testing.T) {
	bed := netns.New(t, 2)
	bin := netns.PeerdeskBinary(t)
	bed.DropMulticast(t, 0) // no mDNS: only the name leads to the peer
	ps := newPeers(t, bed, bin)
	a, b := ps[0], ps[1]
	// a's /etc/hosts (ip netns exec mounts /etc/netns/NS/hosts over it;
	// the file must exist before a starts and be rewritten in place).
	dir := filepath.Join("/etc/netns", a.host.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hosts := filepath.Join(dir, "hosts")
	setHost := func(ip netip.Addr) {
		t.Helper()
		if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"+ip.String()+" pc12.office.lan pc12\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setHost(b.host.IP)
	a.start()
	b.start()
	waitStarted(t, a)
	waitStarted(t, b)
	if out, errOut, code := a.host.Run(t, bin, "peer", "add", fmt.Sprintf("pc12.office.lan:%d", port)); code != 0 {
		t.Fatalf("peer add by name: exit %d: %s %s", code, out, errOut)
	}
	if ok, msg := seesOnline(a, b); !ok {
		t.Fatal(msg)
	}
	r, _ := a.row(b.id.ID)
	if len(r.Addresses) == 0 || r.Addresses[0] != fmt.Sprintf("pc12.office.lan:%d", port) {
		t.Errorf("b's addresses on a: %v, want the name first", r.Addresses)
	}
	// b moves to another address; the name follows it.
	moved := netip.AddrFrom4([4]byte{b.host.IP.As4()[0], b.host.IP.As4()[1], b.host.IP.As4()[2], 200})
	bed.Readdress(t, 1, moved)
	setHost(moved)
	// b forgets a, so that only a can re-establish contact: by the name.
	if _, errOut, code := b.host.Run(t, bin, "peer", "rm", a.id.ID); code != 0 {
		t.Fatalf("peer rm on b: exit %d: %s", code, errOut)
	}
	start := time.Now()
	newAddr := netip.AddrPortFrom(moved, port).String()
	netns.WaitFor(t, 20*time.Second, 200*time.Millisecond, func() (bool, string) {
		r, _ := a.row(b.id.ID)
		return r.Online && slices.Contains(r.Addresses, newAddr), fmt.Sprintf("a has not reached b at %s yet: %+v", newAddr, r)
	})
	if _, errOut, code := a.host.Run(t, bin, "ping", b.id.ID); code != 0 {
		t.Fatalf("ping at the new address: exit %d: %s", code, errOut)
	}
	t.Logf("MEASURED a peer added by name found again %v after its address changed", time.Since(start).Round(time.Millisecond))
}
