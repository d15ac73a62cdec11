package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/discovery"
)

// fakeSource is a peer table under the test's control.
type fakeSource struct {
	list         []discovery.Peer
	events       chan discovery.Event
	unsubscribed chan struct{}
}

func newFakeSource(list ...discovery.Peer) *fakeSource {
	return &fakeSource{list: list, events: make(chan discovery.Event, 16), unsubscribed: make(chan struct{})}
}

func (f *fakeSource) PeerList() []discovery.Peer { return f.list }

func (f *fakeSource) Subscribe() (<-chan discovery.Event, func()) {
	return f.events, func() { close(f.unsubscribed) }
}

// uiQueue stands in for the UI goroutine: the test goroutine runs what
// followPeers hands over, as the Fyne loop would.
type uiQueue chan func()

func (q uiQueue) do(fn func()) { q <- fn }

func (q uiQueue) runNext(t *testing.T) {
	t.Helper()
	select {
	case fn := <-q:
		fn()
	case <-time.After(5 * time.Second):
		t.Fatal("no UI update handed over within 5 s")
	}
}

func TestFollowPeers(t *testing.T) {
	test.NewTempApp(t)
	src := newFakeSource(peer("a", "alpha", true, "pinned", fpA))
	// Events already queued at start arrive as one batch.
	src.events <- discovery.Event{Kind: discovery.EventUp, Peer: peer("b", "bravo", true, "new", fpB)}
	src.events <- discovery.Event{Kind: discovery.EventDown, Peer: peer("a", "alpha", false, "pinned", fpA)}

	m := newPeersModel()
	ui := make(uiQueue, 16)
	stop := followPeers(src, m, ui.do)

	if got := m.len(); got != 1 {
		t.Fatalf("before any event: %d rows, want the 1 listed peer", got)
	}
	ui.runNext(t)
	if got := rowNames(t, m); len(got) != 2 || got[0] != "bravo" || got[1] != "alpha" {
		t.Fatalf("after the first batch: rows %v, want [bravo alpha]", got)
	}
	select {
	case <-ui:
		t.Fatal("two queued events cost two UI updates, want one batch")
	default:
	}

	src.events <- discovery.Event{Kind: discovery.EventRemoved, Peer: peer("b", "bravo", true, "new", fpB)}
	ui.runNext(t)
	if got := rowNames(t, m); len(got) != 1 || got[0] != "alpha" {
		t.Fatalf("after removal: rows %v, want [alpha]", got)
	}

	stop()
	select {
	case <-src.unsubscribed:
	default:
		t.Error("stop did not end the subscription")
	}
	src.events <- discovery.Event{Kind: discovery.EventUp, Peer: peer("c", "charlie", true, "new", "")}
	select {
	case <-ui:
		t.Error("an update was handed to the UI after stop")
	default:
	}
}

func TestPumpEventsEndsWhenChannelCloses(t *testing.T) {
	events := make(chan discovery.Event, 4)
	events <- discovery.Event{Kind: discovery.EventUp, Peer: peer("a", "alpha", true, "new", "")}
	close(events)
	var batches [][]discovery.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		pumpEvents(make(chan struct{}), events, func(b []discovery.Event) { batches = append(batches, b) })
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pumpEvents still running after its channel closed")
	}
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Errorf("batches %v, want the one event delivered before the end", batches)
	}
}
