package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/test/netns"
)

// doctor runs `peerdesk doctor --json` on p.
func doctor(t *testing.T, p *peer) (node.DoctorReport, int) {
	t.Helper()
	out, errOut, code := p.host.Run(t, p.bin, "doctor", "--json")
	var r node.DoctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%s: doctor --json: exit %d: %v: %s %s", p.host.Name, code, err, out, errOut)
	}
	return r, code
}

// TestDoctor (R2 4/7): the network check on a healthy pair says so (exit
// 0), and with one side's firewall dropping new flows to its UDP port it
// names the port and the PC to fix on both sides (exit 1).
func TestDoctor(t *testing.T) {
	bed, bin, a, b := onlinePair(t)
	waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(b, a) })
	// The daemon keeps its log in the home too, private (R2 7/7, 8).
	if st, err := os.Stat(filepath.Join(a.host.Home, "peerdesk.log")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("log file: %v %v, want peerdesk.log with mode 0600", st, err)
	} else if data, _ := os.ReadFile(filepath.Join(a.host.Home, "peerdesk.log")); !strings.Contains(string(data), "peer started") {
		t.Errorf("log file holds %q, want the daemon's log", data)
	}

	start := time.Now()
	r, code := doctor(t, a)
	took := time.Since(start)
	if code != 0 || !r.Healthy || len(r.Problems) != 0 {
		t.Fatalf("healthy pair: exit %d, report %+v", code, r)
	}
	if len(r.Interfaces) != 1 || r.Interfaces[0].Name != netns.HostIface || r.MDNS == nil || r.Interfaces[0].MDNSAnswers == 0 {
		t.Errorf("interfaces %+v, mdns %+v: want %s with mDNS answers", r.Interfaces, r.MDNS, netns.HostIface)
	}
	if len(r.Peers) != 1 || !r.Peers[0].Reachable || r.Peers[0].ReachesUs == nil || !*r.Peers[0].ReachesUs ||
		r.Peers[0].ClockSkewMillis == nil || abs64(*r.Peers[0].ClockSkewMillis) > 1000 {
		t.Errorf("peers %+v: want b reachable both ways, clocks within 1 s", r.Peers)
	}

	bed.BlockNewUDP(t, 1, port) // b's firewall: nobody may open a flow to b's port
	r, code = doctor(t, a)
	if code != 1 || r.Healthy || len(r.Problems) == 0 {
		t.Fatalf("b firewalled, doctor on a: exit %d, report %+v", code, r)
	}
	if p := r.Problems[0]; p.Peer != b.id.ID || !strings.Contains(p.Fix, "47220") || !strings.Contains(p.Fix, b.host.Name) {
		t.Errorf("doctor on a names %+v, want b's firewall and its UDP port", r.Problems)
	}
	rb, code := doctor(t, b)
	if code != 1 || len(rb.Problems) == 0 || rb.Problems[0].Peer != a.id.ID || !strings.Contains(rb.Problems[0].Fix, "this PC's firewall") {
		t.Errorf("doctor on b: exit %d, problems %+v; want a cannot reach this PC, fix this PC's firewall", code, rb.Problems)
	}
	// Text output, as a user sees it.
	out, _, code := a.host.Run(t, bin, "doctor")
	if code != 1 || !strings.Contains(out, "Problem:") || !strings.Contains(out, "Fix:") {
		t.Errorf("doctor text: exit %d:\n%s", code, out)
	}
	t.Logf("MEASURED doctor: healthy pair checked in %v; firewall found from both sides: %q / %q", took.Round(time.Millisecond), r.Problems[0].Problem, rb.Problems[0].Problem)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestDoctorClientIsolation (R2 4/7): two PCs that knew each other find
// themselves on a network that isolates its clients (multicast passes,
// nothing from one PC to another does): the network check on either
// says so, with the fix, and exits 1; with isolation off again it is
// healthy.
func TestDoctorClientIsolation(t *testing.T) {
	bed, _, a, b := onlinePair(t)
	bed.IsolateClients(t, true)
	start := time.Now()
	for _, p := range []*peer{a, b} {
		r, code := doctor(t, p)
		isolation := false
		for _, pr := range r.Problems {
			isolation = isolation || strings.Contains(pr.Fix, "client isolation")
		}
		if code != 1 || !isolation {
			t.Errorf("doctor on %s with client isolation: exit %d, problems %+v; want client isolation named", p.host.Name, code, r.Problems)
		}
	}
	took := time.Since(start)
	bed.IsolateClients(t, false)
	waitUntil(t, 15*time.Second, func() (bool, string) {
		r, code := doctor(t, a)
		return code == 0 && r.Healthy, fmt.Sprintf("doctor on a after isolation ended: exit %d, %+v", code, r.Problems)
	})
	t.Logf("MEASURED doctor under client isolation: named on both PCs in %v", took.Round(time.Millisecond))
}
