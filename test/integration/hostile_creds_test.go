package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// TestHostileCredentialsStayWithTheirPeer (H2): an unrelated peer that is
// online on the LAN receives no credentials when the client downloads a
// file big enough to look for other sources (≥ 32 MiB) from another peer,
// nor when it searches: it is asked as guest.
func TestHostileCredentialsStayWithTheirPeer(t *testing.T) {
	bed := netns.New(t, 3)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, &netns.Bed{Hosts: bed.Hosts[:2]}, bin)
	owner, client := ps[0], ps[1]
	docs := owner.data("docs")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRandom(t, filepath.Join(docs, "big.bin"), 40<<20)
	owner.must([]string{"PEERDESK_PASSWORD=" + alicePW}, "user", "add", "alice")
	owner.must([]string{"PEERDESK_SHARE_PASSWORD=" + sharePW}, "share", "folder", "docs", docs, "--allow", "alice:ro", "--password")
	owner.start()
	client.start()
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(client, owner) })

	done := startAttack(t, bed.Host(2), "listen", "-name", "stranger", "-port", "47220", "-for", "12s")
	waitOnlineNamed(t, client, "stranger")

	alice := creds("alice", alicePW, sharePW)
	client.must(alice, "get", owner.host.Name+":docs/big.bin", filepath.Join(client.host.Home, "got"))
	client.must(alice, "search", "big", "--peer", owner.host.Name)
	// Credentials with no PC named are refused before anything is sent.
	if _, errOut, code := client.cli(alice, "search", "big"); code != 2 {
		t.Fatalf("search with an account and no --peer: exit %d, want 2: %s", code, errOut)
	}

	f := done()
	t.Logf("the stranger saw: %v", f)
	if f["credentials_received"] != float64(0) {
		t.Fatalf("credentials reached an unrelated peer: %v", f)
	}
	ops, _ := f["inbound_ops"].([]any)
	if !slices.Contains(ops, any("search")) {
		t.Fatalf("the stranger was not asked at all (as guest), so the test shows nothing: %v", f)
	}
}

// TestHostileLyingAnswers (M3): a peer answering fs.stat with a negative
// or absurd size makes the download fail with a clear error; the client's
// daemon stays up (it used to panic on make([]bool, n)).
func TestHostileLyingAnswers(t *testing.T) {
	bed := netns.New(t, 2)
	bin := netns.PeerdeskBinary(t)
	client := newPeers(t, &netns.Bed{Hosts: bed.Hosts[:1]}, bin)[0]
	client.start()
	for i, size := range []string{"-1", "-9223372036854775808", "9223372036854775807"} {
		liar := fmt.Sprintf("liar%d", i)
		done := startAttack(t, bed.Host(1), "listen", "-name", liar, "-port", "47220", "-for", "3s", "-lie-size", size)
		waitOnlineNamed(t, client, liar)
		_, errOut, code := client.cli(nil, "get", liar+":docs/x.bin", filepath.Join(client.host.Home, "got"))
		if code == 0 || !strings.Contains(errOut, "out of range") {
			t.Errorf("size %s: get exit %d: %s; want a clear refusal", size, code, errOut)
		}
		if !client.proc.Running() {
			t.Fatalf("size %s: the client's daemon died: %s", size, client.proc.Log())
		}
		done()
		// The liar is gone; the table forgets nothing the user needs.
		client.peers()
	}
}

// TestHostileNameEscapes (low): a peer named with terminal escape
// sequences cannot drive the terminal of someone listing peers.
func TestHostileNameEscapes(t *testing.T) {
	bed := netns.New(t, 2)
	bin := netns.PeerdeskBinary(t)
	client := newPeers(t, &netns.Bed{Hosts: bed.Hosts[:1]}, bin)[0]
	client.start()
	done := startAttack(t, bed.Host(1), "listen", "-name", "evil\x1b]0;pwned\x07\x1b[2J", "-port", "47220", "-for", "4s")
	waitOnlineNamed(t, client, "evil\x1b]0;pwned\x07\x1b[2J")
	out, _, code := client.cli(nil, "peers")
	if code != 0 || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "evil?]0;pwned??[2J") {
		t.Fatalf("peers printed %q (exit %d)", out, code)
	}
	done()
}
