package integration

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// TestHostileIdentityTakeover (H1, M5): a stranger on the LAN claims a
// pinned peer's public id with a key of its own, in mDNS records (another
// name, its own address) and in handshakes. The victim refuses it without
// touching the real peer: same name, address, key and trust, online, and
// both directions keep working; a bare `trust` adopts nothing.
func TestHostileIdentityTakeover(t *testing.T) {
	bed := netns.New(t, 3)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	a, b := ps[0], ps[1]
	a.start()
	b.start()
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(a, b) })
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(b, a) })
	before, _ := a.row(b.id.ID)

	victim := netip.AddrPortFrom(a.host.IP, port).String()
	f := attack(t, bed.Host(2), "claim-id", "-id", b.id.ID, "-name", "EVIL", "-victim", victim, "-for", "6s")
	t.Logf("attacker: %v", f)
	if f["handshakes_accepted"] != float64(0) || f["credentials_received"] != float64(0) || f["inbound_sessions"] != float64(0) {
		t.Fatalf("the impostor got in or got something: %v", f)
	}

	r, _ := a.row(b.id.ID)
	switch {
	case r.Name != before.Name || r.Fingerprint != b.id.Fingerprint || r.Trust != before.Trust:
		t.Fatalf("the impostor changed the real peer: before %+v, after %+v", before, r)
	case len(r.Addresses) == 0 || r.Addresses[0] != before.Addresses[0]:
		t.Fatalf("the impostor's address came first: before %v, after %v", before.Addresses, r.Addresses)
	case !r.Online:
		t.Fatalf("the real peer shown offline: %+v", r)
	case r.Offered == "" || r.Offered == b.id.Fingerprint:
		t.Fatalf("the offered key is not kept as a candidate: %+v", r)
	}
	for _, name := range []string{"EVIL"} {
		for _, row := range a.peers() {
			if row.Name == name {
				t.Fatalf("the impostor's name shows: %+v", row)
			}
		}
	}
	// The real peer keeps working both ways.
	if _, errOut, code := a.host.Run(t, bin, "ping", b.id.ID); code != 0 {
		t.Fatalf("a → b after the attack: exit %d: %s", code, errOut)
	}
	if _, errOut, code := b.host.Run(t, bin, "ping", a.id.ID); code != 0 {
		t.Fatalf("b → a after the attack: exit %d: %s", code, errOut)
	}
	// What the old error message told users to do adopts nothing now.
	if _, errOut, code := a.host.Run(t, bin, "trust", b.id.ID); code != 5 || !strings.Contains(errOut, "--fingerprint") {
		t.Fatalf("bare trust after the attack: exit %d, want 5 with how to confirm a code: %s", code, errOut)
	}
	if r, _ := a.row(b.id.ID); r.Fingerprint != b.id.Fingerprint || r.Trust != before.Trust {
		t.Fatalf("bare trust changed the pin: %+v", r)
	}
	if _, errOut, code := a.host.Run(t, bin, "ping", b.id.ID); code != 0 {
		t.Fatalf("a → b after the bare trust: exit %d: %s", code, errOut)
	}
}

// TestHostileMDNSReflection (M5): fake mDNS records naming an address make
// a peer probe it only a bounded number of times; unconfirmed addresses
// are dropped, never persisted, never probed forever.
func TestHostileMDNSReflection(t *testing.T) {
	bed := netns.New(t, 2)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	a := ps[0]
	a.start()
	f := attack(t, bed.Host(1), "reflect", "-records", "5", "-for", "10s", "-watch", "30s", "-window", "10s")
	t.Logf("attacker: %v", f)
	datagrams, lastDatagrams := sumFindings(t, f, "datagrams")
	handshakes, lastHandshakes := sumFindings(t, f, "handshakes")
	// 5 fake ids × hintTries probes; each probe is one handshake whose
	// ClientHello is resent every 250 ms for its 2 s (8 datagrams, 10
	// allowed for timer slack on a loaded machine).
	if handshakes > 5*3 {
		t.Errorf("%v handshakes drawn by 5 fake records, want at most 5 × 3", handshakes)
	}
	if datagrams > 5*3*10 {
		t.Errorf("%v datagrams drawn by 5 fake records, want at most 5 × 3 × 10", datagrams)
	}
	// The third probe may start up to 16 s after a record was first heard,
	// so up to 16 s after the records stopped; nothing after that.
	if lastDatagrams != 0 || lastHandshakes != 0 {
		t.Errorf("still probed 20-30 s after the fake records stopped: %v handshakes, %v datagrams", lastHandshakes, lastDatagrams)
	}
	for _, r := range a.peers() {
		if r.Name == "ghost" {
			t.Errorf("a fake record shows as a peer: %+v", r)
		}
	}
	t.Logf("MEASURED reflection: %v handshakes, %v datagrams drawn by 5 fake records over 40 s (%v + %v handshakes during and per 10 s after)",
		handshakes, datagrams, f["handshakes_during"], f["handshakes_after_by_window"])
}

// sumFindings adds the attacker's reflect counts of kind ("datagrams" or
// "handshakes"): in all, and in the last window after the records stopped.
func sumFindings(t *testing.T, f map[string]any, kind string) (total, last float64) {
	t.Helper()
	during, ok := f[kind+"_during"].(float64)
	after, _ := f[kind+"_after_by_window"].([]any)
	if !ok || len(after) != 3 {
		t.Fatalf("findings %v", f)
	}
	total = during
	for _, n := range after {
		total += n.(float64)
	}
	return total, after[len(after)-1].(float64)
}
