package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// The hostile-peer tests (hostile_*_test.go) run real daemons on the bed
// and a hostile host that speaks the real protocol: the attacker binary of
// test/hostile/attacker, started inside a host's namespace.

const attackerPkg = netns.Module + "/test/hostile/attacker"

// attack runs one attack of the attacker binary on h and returns its
// findings. It fails the test when the attacker could not run.
func attack(t *testing.T, h *netns.Host, name string, args ...string) map[string]any {
	t.Helper()
	bin := netns.Build(t, attackerPkg)
	// Attacks bound themselves (ATTACKER_TIMEOUT, 60 s); the run allows that.
	out, errOut, code := h.RunWith(t, netns.RunOptions{Timeout: 70 * time.Second}, bin, append([]string{name}, args...)...)
	if code != 0 {
		t.Fatalf("attacker %s on %s: exit %d: %s", name, h.Name, code, errOut)
	}
	return findings(t, name, out)
}

// findings parses the attacker's report: the last line of its output.
func findings(t *testing.T, name, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var f map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &f); err != nil {
		t.Fatalf("attacker %s: findings: %v: %q", name, err, out)
	}
	return f
}

// startAttackNow starts an attack in the background on h without waiting
// for it to say it is ready; the returned function waits for it to end and
// returns its findings.
func startAttackNow(t *testing.T, h *netns.Host, name string, args ...string) func() map[string]any {
	t.Helper()
	proc := h.Start(t, netns.Build(t, attackerPkg), append([]string{name}, args...)...)
	return func() map[string]any {
		t.Helper()
		if code, err := proc.Wait(70 * time.Second); err != nil || code != 0 {
			t.Fatalf("attacker %s: exit %d, %v: %s", name, code, err, proc.Log())
		}
		return findings(t, name, proc.Log())
	}
}

// startAttack starts an attack in the background on h, once it says it is
// ready; the returned function waits for it to end and returns its
// findings.
func startAttack(t *testing.T, h *netns.Host, name string, args ...string) func() map[string]any {
	t.Helper()
	proc := h.Start(t, netns.Build(t, attackerPkg), append([]string{name}, args...)...)
	netns.WaitFor(t, 10*time.Second, 25*time.Millisecond, func() (bool, string) {
		return strings.Contains(proc.Log(), `{"ready":true}`), "attacker not ready: " + proc.Log()
	})
	return func() map[string]any {
		t.Helper()
		if code, err := proc.Wait(70 * time.Second); err != nil || code != 0 {
			t.Fatalf("attacker %s: exit %d, %v: %s", name, code, err, proc.Log())
		}
		return findings(t, name, proc.Log())
	}
}

func TestHostileHarnessRuns(t *testing.T) {
	b := netns.New(t, 1)
	if got := attack(t, b.Host(0), "noop", "-say", "hello"); got["said"] != "hello" {
		t.Fatalf("attacker noop said %v", got)
	}
}

// waitOnlineNamed waits until p sees a peer named name online (the
// attacker's peers have fresh ids, so they are found by name).
func waitOnlineNamed(t *testing.T, p *peer, name string) {
	t.Helper()
	waitUntil(t, 8*time.Second, func() (bool, string) {
		for _, r := range p.peers() {
			if r.Name == name && r.Online {
				return true, ""
			}
		}
		return false, name + " is not online on " + p.host.Name + " yet"
	})
}

// waitStarted waits until p's daemon says it started (it listens then).
func waitStarted(t *testing.T, p *peer) {
	t.Helper()
	netns.WaitFor(t, 10*time.Second, 25*time.Millisecond, func() (bool, string) {
		return strings.Contains(p.proc.Log(), "peer started"), p.host.Name + " has not started"
	})
}
