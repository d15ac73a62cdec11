package integration

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// TestHostileSpoofedHellos (M2): a host sending DTLS ClientHellos from
// ever new source addresses, never answering the cookie (as a spoofer
// cannot), holds no handshake slot: newcomers joining meanwhile all
// connect, and what the victim sends back is no bigger than what it got.
func TestHostileSpoofedHellos(t *testing.T) {
	bed := netns.New(t, 5)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, &netns.Bed{Hosts: bed.Hosts[:4]}, bin)
	victim := ps[0]
	victim.start()
	waitStarted(t, victim)
	addr := netip.AddrPortFrom(victim.host.IP, port).String()
	const rate = 500
	stop := startAttack(t, bed.Host(4), "hellos", "-victim", addr, "-rate", fmt.Sprint(rate), "-for", "12s")
	time.Sleep(2 * time.Second) // the flood is on: every handshake slot would be taken by now
	joined := 0
	for _, p := range ps[1:] {
		p.start()
		waitStarted(t, p)
		start := time.Now()
		out, errOut, code := p.host.Run(t, bin, "peer", "add", addr)
		if code != 0 {
			t.Errorf("%s: peer add during the flood: exit %d: %s %s", p.host.Name, code, out, errOut)
			continue
		}
		joined++
		t.Logf("%s joined in %v", p.host.Name, time.Since(start).Round(time.Millisecond))
	}
	f := stop()
	t.Logf("MEASURED %d hellos/s for 12 s (%v): %d of 3 newcomers joined", rate, f, joined)
	sent, _ := f["hellos_sent"].(float64)
	if sent < rate*10 {
		t.Fatalf("the attacker sent only %.0f hellos", sent)
	}
	helloBytes, _ := f["hello_bytes"].(float64)
	replyBytes, _ := f["reply_bytes"].(float64)
	if replyBytes > sent*helloBytes {
		t.Errorf("the victim sent back %.0f bytes for %.0f of hellos: a reflection gain", replyBytes, sent*helloBytes)
	}
	if !victim.proc.Running() {
		t.Fatal("the victim died")
	}
}
