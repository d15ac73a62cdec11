package transfer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSendQueue: queued sends are listed as queued, survive a restart in
// a private file, are dropped by Cancel (kept in the history as
// canceled), and are taken per peer for delivery, put back, or failed.
func TestSendQueue(t *testing.T) {
	home := t.TempDir()
	m := NewManager(home, nil)
	a1, err := m.Enqueue("peer-a", "desk", []string{"/home/u/minutes.txt"}, 23)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := m.Enqueue("peer-a", "desk", []string{"/home/u/a.pdf", "/home/u/b.pdf"}, 2000)
	b1, _ := m.Enqueue("peer-b", "lab", []string{"/home/u/c.txt"}, 1)
	if a2.Path != "a.pdf and 1 more" || a1.State != StateQueued || a1.Kind != KindSend {
		t.Fatalf("queued entries %+v %+v", a1, a2)
	}
	if fi, err := os.Stat(filepath.Join(home, "sendqueue.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("queue file: %v %v", fi, err)
	}

	m = NewManager(home, nil) // a restart
	ids := func(list []Info, st State) []string {
		var out []string
		for _, in := range list {
			if in.State == st {
				out = append(out, in.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	want := []string{a1.ID, a2.ID, b1.ID}
	slices.Sort(want)
	if got := ids(m.List(), StateQueued); !slices.Equal(got, want) {
		t.Fatalf("queued after a restart %v, want %v", got, want)
	}
	if got := m.QueuedPeers(); !slices.Equal(got, []string{"peer-a", "peer-b"}) {
		t.Fatalf("queued peers %v", got)
	}

	if err := m.Cancel(a1.ID); err != nil {
		t.Fatal(err)
	}
	if got := ids(m.List(), StateCanceled); !slices.Equal(got, []string{a1.ID}) {
		t.Fatalf("canceled %v, want %v", got, a1.ID)
	}
	taken := m.TakeQueued("peer-a")
	if len(taken) != 1 || taken[0].ID != a2.ID || !slices.Equal(taken[0].Files, []string{"/home/u/a.pdf", "/home/u/b.pdf"}) {
		t.Fatalf("taken for peer-a: %+v", taken)
	}
	if got := m.QueuedPeers(); !slices.Equal(got, []string{"peer-b"}) {
		t.Fatalf("queued peers while delivering %v", got)
	}
	m.Requeue(taken[0])
	if got := ids(NewManager(home, nil).List(), StateQueued); len(got) != 2 {
		t.Fatalf("after a requeue and a restart: %v queued, want 2", got)
	}
	m.FailQueued(m.TakeQueued("peer-b")[0], errors.New("declined"))
	if got := ids(m.List(), StateFailed); !slices.Equal(got, []string{b1.ID}) {
		t.Fatalf("failed %v, want %v", got, b1.ID)
	}
	if err := m.Cancel("nope"); err == nil {
		t.Error("canceling an unknown id succeeded")
	}
}
