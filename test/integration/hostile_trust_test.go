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
	during, _ := f["datagrams_during"].(float64)
	after, _ := f["datagrams_after_by_window"].([]any)
	if len(after) != 3 {
		t.Fatalf("findings %v", f)
	}
	total := during
	for _, n := range after {
		total += n.(float64)
	}
	// 5 fake ids × hintTries probes, each a few handshake retransmissions.
	if total > 5*3*8 {
		t.Errorf("%v datagrams drawn by 5 fake records, want a small bound", total)
	}
	if last := after[2].(float64) + after[1].(float64); last != 0 {
		t.Errorf("still probed %v times 10-30 s after the fake records stopped", last)
	}
	for _, r := range a.peers() {
		if r.Name == "ghost" {
			t.Errorf("a fake record shows as a peer: %+v", r)
		}
	}
	t.Logf("MEASURED reflection: %v datagrams during 10 s of 5 fake records, %v per 10 s after", during, after)
}
