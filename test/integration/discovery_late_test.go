package integration

import (
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
