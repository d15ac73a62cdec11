package integration

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// networkChange changes the bed's network in the middle of a transfer
// between a desk PC (host 0) and a laptop (host 1) that also has Wi-Fi.
type networkChange struct {
	name  string
	apply func(t *testing.T, bed *netns.Bed, desk, laptop *peer)
}

// movingTransfer is a transfer the laptop starts with the desk.
type movingTransfer struct {
	name string
	// args is the laptop's command, landed where the file ends up and
	// partial the folder where the receiving side keeps it meanwhile.
	args    func(desk *peer, local, dest string) []string
	landed  func(desk *peer, dest string) string
	partial func(desk *peer, dest string) string
}

// TestUndockMidTransfer: the network changes under a laptop's download,
// upload or send with a desk PC. The laptop, on its dock's cable and on
// Wi-Fi in the same office network, is undocked: its traffic moves to
// Wi-Fi. Or the desk gets a new address (a new DHCP lease after the
// router restarted). The two are back on a new session within seconds;
// each transfer goes on from where it was and ends whole and verified.
// Before, each failed ("receive body: closed" 3 s after the cable went,
// "network is unreachable") or hung, and had to be started again by hand.
func TestUndockMidTransfer(t *testing.T) {
	changes := []networkChange{
		{"undocked", func(t *testing.T, _ *netns.Bed, _, laptop *peer) {
			// The cable's interface is gone with its address and routes;
			// the laptop is left with Wi-Fi.
			if o, err := exec.Command("ip", "-n", laptop.host.NS, "link", "del", laptop.host.Iface).CombinedOutput(); err != nil {
				t.Fatalf("undock: %v: %s", err, o)
			}
		}},
		{"desk readdressed", func(t *testing.T, bed *netns.Bed, _, _ *peer) {
			to := bed.Subnet.Addr().As4()
			to[3] = 51
			bed.Readdress(t, 0, netip.AddrFrom4(to))
		}},
	}
	transfers := []movingTransfer{
		{"get",
			func(desk *peer, _, dest string) []string {
				return []string{"get", desk.host.Name + ":docs/big.bin", dest}
			},
			func(_ *peer, dest string) string { return filepath.Join(dest, "big.bin") },
			func(_ *peer, dest string) string { return dest }},
		{"put",
			func(desk *peer, local, _ string) []string { return []string{"put", local, desk.host.Name + ":drop"} },
			func(desk *peer, _ string) string { return filepath.Join(desk.data("drop"), "big.bin") },
			func(desk *peer, _ string) string { return desk.data("drop") }},
		{"send",
			func(desk *peer, local, _ string) []string { return []string{"send", desk.host.Name, local} },
			func(desk *peer, _ string) string { return filepath.Join(desk.host.Home, "Inbox", "big.bin") },
			func(desk *peer, _ string) string { return filepath.Join(desk.host.Home, "Inbox") }},
	}
	for _, ch := range changes {
		for _, tr := range transfers {
			t.Run(tr.name+" "+ch.name, func(t *testing.T) { transferAcross(t, tr, ch) })
		}
	}
}

// transferAcross runs tr on a bed of a desk and a laptop and applies ch
// once a quarter of the file has arrived.
func transferAcross(t *testing.T, tr movingTransfer, ch networkChange) {
	const size = 120 << 20
	bed := netns.New(t, 2)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	desk, laptop := ps[0], ps[1]
	docs, drop := desk.data("docs"), desk.data("drop")
	for _, d := range []string{docs, drop} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	desk.must([]string{"PEERDESK_PASSWORD=" + alicePW}, "user", "add", "alice")
	desk.must(nil, "share", "folder", "docs", docs, "--allow", "alice:ro")
	desk.must(nil, "share", "folder", "drop", drop, "--allow", "alice:rw")
	desk.must(nil, "settings", "set", "inbox", filepath.Join(desk.host.Home, "Inbox"))
	desk.must(nil, "settings", "set", "auto-accept", "true")
	wifi := bed.Attach(t, laptop.host, "wlan0", 100)
	// 200 Mbit/s: the transfer lasts long enough to be cut.
	bed.Shape(t, 0, "200mbit")
	for _, p := range ps {
		p.start()
	}
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(laptop, desk) })
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(desk, laptop) })
	// Files pushed without asking come only from a verified peer.
	desk.must(nil, "trust", laptop.id.ID, "--fingerprint", laptop.id.Code)
	local := filepath.Join(laptop.host.Home, "big.bin")
	sum := writeRandom(t, local, size)
	if err := os.Link(local, filepath.Join(docs, "big.bin")); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(laptop.host.Home, "got")
	cmd := laptop.host.Command(t.Context(), laptop.bin, tr.args(desk, local, dest)...)
	cmd.Env = append(cmd.Env, creds("alice", alicePW, "")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	partial := tr.partial(desk, dest)
	netns.WaitFor(t, time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := partialBytes(partial)
		return n > size/4, fmt.Sprintf("%s holds %d bytes", partial, n)
	})
	changed := time.Now()
	ch.apply(t, bed, desk, laptop)
	at := partialBytes(partial)
	t.Logf("%s %v after the %s started, at %d bytes (the laptop's Wi-Fi: %s)", ch.name, changed.Sub(start).Round(time.Millisecond), tr.name, at, wifi)
	// The pause: until the receiving side holds a MiB more than at the
	// change.
	var paused time.Duration
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
wait:
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s failed %v after the change: %v\n%s", tr.name, time.Since(changed).Round(time.Millisecond), err, out.String())
			}
			break wait
		case <-tick.C:
			if paused == 0 && partialBytes(partial) > at+1<<20 {
				paused = time.Since(changed)
			}
		case <-deadline.C:
			t.Fatalf("%s still running a minute after the change", tr.name)
		}
	}
	t.Logf("MEASURED %s of %d MiB, %s: moving again %v after it, done %v after it (%v in all; 200 Mbit/s link)", tr.name, size>>20, ch.name, paused.Round(time.Millisecond), time.Since(changed).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	// A transfer that waited out a stall timeout (10-15 s) instead of a
	// new session would pause far longer.
	if paused > 5*time.Second {
		t.Errorf("the %s paused %v when %s, want at most 5 s", tr.name, paused, ch.name)
	}
	landed := tr.landed(desk, dest)
	if got := fileSum(t, landed); got != sum {
		t.Fatal("the file that landed differs")
	}
	if entries, _ := os.ReadDir(filepath.Dir(landed)); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the file: %v (a second copy, a partial left over)", names)
	}
}
