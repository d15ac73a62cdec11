package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
)

// fakeAdder answers "peer add": desk-2 answers, anything else does not.
type fakeAdder struct{ asked []string }

func (f *fakeAdder) AddPeer(_ context.Context, addr string) (discovery.Peer, error) {
	f.asked = append(f.asked, addr)
	if strings.HasPrefix(addr, "desk-2.office.lan:") {
		return discovery.Peer{ID: "pc2", Name: "Desk 2", Online: true}, nil
	}
	if strings.HasPrefix(addr, "nosuch.") {
		return discovery.Peer{}, fmt.Errorf("%w: cannot resolve %q", node.ErrPeerNotFound, "nosuch.office.lan")
	}
	return discovery.Peer{}, fmt.Errorf("peer at %s remembered, but not reachable now (will retry): %w", addr, context.DeadlineExceeded)
}

func TestPeerAddress(t *testing.T) {
	tests := map[string]string{
		"":                  "",
		" 192.168.1.20 ":    "192.168.1.20:47220",
		"192.168.1.20:5000": "192.168.1.20:5000",
		"desk-2.office.lan": "desk-2.office.lan:47220",
		"fd00::20":          "[fd00::20]:47220",
		"[fd00::20]:47221":  "[fd00::20]:47221",
	}
	for in, want := range tests {
		if got := peerAddress(in); got != want {
			t.Errorf("peerAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddPeerByAddress(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeAdder{}
	var added []discovery.Peer
	form := newAddPeerForm(syncSvc(services{adder: f}), func(p discovery.Peer) { added = append(added, p) })
	test.NewTempWindow(t, form.view())

	// A PC that does not answer: said in the dialog, the address kept.
	test.Type(form.entry, "10.0.0.99")
	form.entry.OnSubmitted(form.entry.Text) // Enter
	if len(added) != 0 || form.entry.Text != "10.0.0.99" {
		t.Fatalf("after a refusal: added %v, entry %q", added, form.entry.Text)
	}
	if !strings.Contains(form.status.Text, "10.0.0.99:47220 does not answer yet") || !strings.Contains(form.status.Text, "UDP port 47220") {
		t.Errorf("no answer says %q", form.status.Text)
	}
	form.entry.SetText("nosuch.office.lan")
	test.Tap(form.add)
	if !strings.Contains(form.status.Text, "No computer is known by the name nosuch.office.lan") || form.entry.Text != "nosuch.office.lan" {
		t.Errorf("unknown name says %q, entry %q", form.status.Text, form.entry.Text)
	}
	// A DNS name, default port: added.
	form.entry.SetText("desk-2.office.lan")
	test.Tap(form.add)
	if len(added) != 1 || added[0].Name != "Desk 2" || form.status.Text != "Added Desk 2." {
		t.Fatalf("added %v, status %q", added, form.status.Text)
	}
	if want := []string{"10.0.0.99:47220", "nosuch.office.lan:47220", "desk-2.office.lan:47220"}; strings.Join(f.asked, ",") != strings.Join(want, ",") {
		t.Errorf("asked %v, want %v", f.asked, want)
	}
}
