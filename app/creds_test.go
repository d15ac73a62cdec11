package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/transport"
)

func TestOSKeyringRoundTrip(t *testing.T) {
	keyring.MockInit() // the library's in-memory keyring: no OS keyring in CI
	home1, home2 := osKeyring{home: "/home/a/.config/peerdesk"}, osKeyring{home: "/tmp/other"}
	c := node.Creds{User: "bob", Password: "pw 1", SharePassword: "s"}
	if err := home1.Save("pc2", c); err != nil {
		t.Fatal(err)
	}
	if got, ok := home1.Load("pc2"); !ok || got != c {
		t.Errorf("load %+v %v, want %+v", got, ok, c)
	}
	if _, ok := home2.Load("pc2"); ok {
		t.Error("another home sees the credentials")
	}
	if err := home1.Forget("pc2"); err != nil {
		t.Fatal(err)
	}
	if _, ok := home1.Load("pc2"); ok {
		t.Error("forgotten credentials still load")
	}
	if err := home1.Forget("pc2"); err != nil {
		t.Errorf("forgetting twice: %v", err)
	}

	keyring.MockInitWithError(errors.New("no secret service"))
	if err := home1.Save("pc2", c); !errors.Is(err, ErrNoKeyring) {
		t.Errorf("save without a keyring: %v, want ErrNoKeyring", err)
	}
	if _, ok := home1.Load("pc2"); ok {
		t.Error("load without a keyring found something")
	}
}

// signInRecorder is the node as signInForAddedPrinters sees it: owners
// answer once they are "online".
type signInRecorder struct {
	added  []node.AddedPrinter
	online map[string]int // peer → the attempt from which it answers
	calls  map[string][]node.Creds
	done   chan struct{}
}

func (r *signInRecorder) AddedPrinters() []node.AddedPrinter { return r.added }
func (r *signInRecorder) Done() <-chan struct{}              { return r.done }
func (r *signInRecorder) Printers(_ context.Context, id string, c node.Creds) ([]node.PrinterInfo, error) {
	r.calls[id] = append(r.calls[id], c)
	if len(r.calls[id]) < r.online[id] {
		return nil, transport.ErrUnreachable
	}
	return nil, nil
}

// The desktop app signs in to the owners of the added printers with what
// the keyring remembers, so that jobs printed from any program go at once
// instead of being held; owners not online yet are tried again, those
// the keyring knows nothing of are left alone (their jobs stay held).
func TestSignInForAddedPrinters(t *testing.T) {
	keyring.MockInit()
	kr := osKeyring{home: t.TempDir()}
	alice := node.Creds{User: "alice", Password: "correct horse battery"}
	if err := kr.Save("pc1", alice); err != nil {
		t.Fatal(err)
	}
	r := &signInRecorder{
		added: []node.AddedPrinter{
			{Queue: "pc1-pdf", Peer: "pc1", Printer: "pdf"},
			{Queue: "pc1-laser", Peer: "pc1", Printer: "laser"},
			{Queue: "pc3-pdf", Peer: "pc3", Printer: "pdf"},
		},
		online: map[string]int{"pc1": 3},
		calls:  map[string][]node.Creds{},
		done:   make(chan struct{}),
	}
	signInForAddedPrinters(r, kr, 5, time.Millisecond)
	if got := r.calls["pc1"]; len(got) != 3 || got[2] != alice {
		t.Errorf("pc1 asked %d times with %+v, want 3 times (online at the third) with alice's keyring entry", len(got), got)
	}
	if got := r.calls["pc3"]; len(got) != 0 {
		t.Errorf("pc3, unknown to the keyring, asked %d times", len(got))
	}

	// Without a keyring nothing is asked; a node that stops ends the retries.
	r.calls = map[string][]node.Creds{}
	signInForAddedPrinters(r, nil, 5, time.Millisecond)
	r.online["pc1"] = 100
	close(r.done)
	signInForAddedPrinters(r, kr, 5, time.Hour)
	if got := len(r.calls["pc1"]); got != 1 {
		t.Errorf("asked %d times after the node stopped, want 1", got)
	}
}
