package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// TestPeerExchangeAcrossRouter (R2 4/7): two subnets of two peers each,
// joined by a router that does not forward multicast. Each side finds its
// own by mDNS and never the other; one `peer add` across makes all four
// see each other, through peer exchange.
func TestPeerExchangeAcrossRouter(t *testing.T) {
	left := netns.New(t, 3) // h2 is the router
	right := netns.New(t, 2)
	netns.Route(t, left, right, left.Host(2), 10)
	bin := netns.PeerdeskBinary(t)
	ps := append(newPeers(t, left, bin)[:2], newPeers(t, right, bin)...)
	for _, p := range ps {
		p.start()
	}
	a1, a2, b1, b2 := ps[0], ps[1], ps[2], ps[3]
	waitUntil(t, 10*time.Second, func() (bool, string) {
		if ok, msg := seesOnline(a1, a2); !ok {
			return false, msg
		}
		return seesOnline(b1, b2)
	})
	if _, ok := a1.row(b1.id.ID); ok {
		t.Fatal("a1 knows b1 before any peer add: multicast crossed the router")
	}
	if out, errOut, code := a1.host.Run(t, bin, "peer", "add", fmt.Sprintf("%s:%d", b1.host.IP, port)); code != 0 {
		t.Fatalf("peer add across the router: exit %d: %s %s", code, out, errOut)
	}
	start := time.Now()
	d := waitUntil(t, 10*time.Second, func() (bool, string) {
		for i, p := range ps {
			var others []*peer
			for j, o := range ps {
				if j != i {
					others = append(others, o)
				}
			}
			if ok, msg := seesOnline(p, others...); !ok {
				return false, p.host.Name + ": " + msg
			}
		}
		return true, ""
	})
	// What a peer learned from another is not trusted for it: still "new".
	if r, _ := a2.row(b2.id.ID); r.Trust == "verified" || r.Fingerprint != b2.id.Fingerprint {
		t.Errorf("a2's row for b2: %+v, want b2's own key, not verified", r)
	}
	t.Logf("MEASURED peer exchange: all 4 peers on 2 routed subnets see each other %v after one peer add (%v since it returned)",
		d.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestHostilePeerList (R2 4/7): a peer answers peer.list first with 10,000
// made-up peers (far over what one answer may hold), then (added by hand,
// under another id) with 150 at
// addresses no peer may be sent to, led by a real peer's id and address
// under a key that is not that peer's. The victim stays small, probes the
// real peer only to find the key wrong, never pins the reported key, and
// keeps working.
func TestHostilePeerList(t *testing.T) {
	bed := netns.New(t, 3)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	a, b := ps[0], ps[1]
	a.start()
	b.start("--no-mdns") // a can learn of b only from the attacker
	waitStarted(t, a)
	waitStarted(t, b)
	asked := func(f map[string]any) int {
		n := 0
		for _, op := range f["inbound_ops"].([]any) {
			if op == "peer.list" {
				n++
			}
		}
		return n
	}
	// The first attacker is a stranger on the LAN's mDNS: a, with no other
	// peer on its mDNS, asks it once settled. The second one announces
	// nothing and is added by hand, like a PC across a router: a asks it
	// as soon as it is connected.
	huge := attack(t, bed.Host(2), "listen", "-for", "10s", "-bogus-peers", "10000")
	wait := startAttack(t, bed.Host(2), "listen", "-for", "12s", "-no-mdns", "-bogus-peers", "150",
		"-misreport", fmt.Sprintf("%s@%s:%d", b.id.ID, b.host.IP, port))
	if _, errOut, code := a.host.Run(t, bin, "peer", "add", fmt.Sprintf("%s:%d", bed.Host(2).IP, port)); code != 0 {
		t.Fatalf("peer add the attacker: exit %d: %s", code, errOut)
	}
	lying := wait()
	if asked(huge) == 0 || asked(lying) == 0 {
		t.Fatalf("the victim did not ask the attacker for its peers (%d, %d times): the attack did not run", asked(huge), asked(lying))
	}
	rows := a.peers()
	for _, r := range rows {
		if r.ID == b.id.ID {
			t.Errorf("a lists b from the attacker's report: %+v", r)
		}
	}
	if len(rows) > 2 {
		t.Errorf("a lists %d peers after the made-up lists, want only the attacker's two ids", len(rows))
	}
	// a did try b, at the reported address, and refused its real key as
	// not the reported one: b saw the handshake.
	if !strings.Contains(b.proc.Log(), "addr="+a.host.IP.String()+":") {
		t.Errorf("b saw no handshake from a: the misreported entry was never probed; b's log:\n%s", b.proc.Log())
	}
	// Pins are saved within a second (docs/security.md).
	time.Sleep(1500 * time.Millisecond)
	if pins, err := os.ReadFile(filepath.Join(a.host.Home, "trust.json")); err == nil && strings.Contains(string(pins), b.id.ID) {
		t.Errorf("a pinned a key for b from the attacker's report: %s", pins)
	}
	rss := rssMBOf(a.proc.Pid())
	if rss > 60 {
		t.Errorf("victim RSS %.1f MB after the made-up lists", rss)
	}
	// The victim still works: b, added by hand, is reached and pinned
	// with its own key.
	if _, errOut, code := a.host.Run(t, bin, "peer", "add", fmt.Sprintf("%s:%d", b.host.IP, port)); code != 0 {
		t.Fatalf("peer add b after the attack: exit %d: %s", code, errOut)
	}
	if r, _ := a.row(b.id.ID); r.Fingerprint != b.id.Fingerprint {
		t.Errorf("b on a after peer add: %+v, want its own fingerprint", r)
	}
	t.Logf("MEASURED hostile peer lists: asked %d and %d times; 10,000 made-up peers, then 150 and one misreported key: %d rows, nothing pinned, RSS %.1f MB",
		asked(huge), asked(lying), len(rows), rss)
}
