package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestQueuedSendWaitsForThePeer (R2 7/7, queued sends): files sent with
// --queue to a PC that is offline wait on the sender (shown by
// `transfers`, cancelable there, kept across the sender's restart) and
// go when the PC is back, asking it as any send does (its daemon's
// auto-accept from a verified peer here); a canceled one never goes.
func TestQueuedSendWaitsForThePeer(t *testing.T) {
	ps, _ := officeBed(t, 2)
	receiver, sender := ps[0], ps[1]
	inbox := filepath.Join(receiver.host.Home, "Inbox")
	receiver.must(nil, "settings", "set", "inbox", inbox)
	receiver.must(nil, "settings", "set", "auto-accept", "true")
	receiver.must(nil, "trust", sender.id.ID, "--fingerprint", sender.id.Code)
	minutes := filepath.Join(sender.host.Home, "minutes.pdf")
	sum := writeRandom(t, minutes, 5<<20)
	draft := filepath.Join(sender.host.Home, "draft.pdf")
	writeRandom(t, draft, 1000)

	stop := func(p *peer) {
		t.Helper()
		if err := p.proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, err := p.proc.Wait(10 * time.Second); err != nil || code != 0 {
			t.Fatalf("%s after SIGTERM: exit %d, %v", p.host.Name, code, err)
		}
	}
	stop(receiver)
	waitUntil(t, 15*time.Second, func() (bool, string) { return seesOffline(sender, receiver) })

	queuedID := regexp.MustCompile(`queued \(([0-9a-f]{8})\)`)
	out := sender.must(nil, "send", "--queue", receiver.host.Name, minutes)
	m := queuedID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("send --queue to an offline PC said %q", out)
	}
	keep := m[1]
	out = sender.must(nil, "send", "--queue", receiver.host.Name, draft)
	m = queuedID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("second send --queue said %q", out)
	}
	drop := m[1]
	if _, errOut, code := sender.cli(nil, "transfers", "cancel", drop); code != 0 {
		t.Fatalf("transfers cancel %s: exit %d: %s", drop, code, errOut)
	}
	if _, errOut, code := sender.cli(nil, "transfers", "cancel", "ffffffff"); code != 4 {
		t.Errorf("transfers cancel of no transfer: exit %d, want 4 (not found): %s", code, errOut)
	}

	// The sender restarts: the queue is still there.
	stop(sender)
	sender.start()
	state := func(id string) string {
		var list []struct{ ID, State, Kind, Peer string }
		out := sender.must(nil, "transfers", "--json")
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("transfers --json: %v: %s", err, out)
		}
		for _, in := range list {
			if in.ID == id {
				return in.Kind + " " + in.State + " " + in.Peer
			}
		}
		return ""
	}
	if got := state(keep); got != "send queued "+receiver.host.Name {
		t.Fatalf("after the sender's restart the queued send reads %q", got)
	}
	if got := state(drop); got != "send canceled "+receiver.host.Name {
		t.Fatalf("the canceled send reads %q", got)
	}

	// The receiver comes back: the queued send goes by itself.
	receiver.start()
	d := waitUntil(t, 30*time.Second, func() (bool, string) {
		_, err := os.Stat(filepath.Join(inbox, "minutes.pdf"))
		return err == nil, fmt.Sprintf("minutes.pdf not in the inbox: %v; sender's transfers:\n%s", err, sender.must(nil, "transfers"))
	})
	if got := fileSum(t, filepath.Join(inbox, "minutes.pdf")); got != sum {
		t.Fatal("the queued file arrived different")
	}
	if _, err := os.Stat(filepath.Join(inbox, "draft.pdf")); err == nil {
		t.Error("the canceled send was delivered")
	}
	waitUntil(t, 10*time.Second, func() (bool, string) {
		got := state(keep)
		return got == "", fmt.Sprintf("the delivered send still listed as %q", got)
	})
	t.Logf("MEASURED queued send in the receiver's inbox %v after the receiver started", d.Round(time.Millisecond))
}
