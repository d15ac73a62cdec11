package integration

import (
	"encoding/json"
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
	var findings map[string]any
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("attacker %s: findings: %v: %q", name, err, out)
	}
	return findings
}

func TestHostileHarnessRuns(t *testing.T) {
	b := netns.New(t, 1)
	if got := attack(t, b.Host(0), "noop", "-say", "hello"); got["said"] != "hello" {
		t.Fatalf("attacker noop said %v", got)
	}
}
