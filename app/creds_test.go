package app

import (
	"errors"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/peerdesk/peerdesk/node"
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
