package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/peerdesk/peerdesk/node"
)

// credStore remembers the credentials a person gave for a peer beyond this
// session. The OS keyring is the only place they are kept: Peerdesk never
// writes a clear password to disk itself.
type credStore interface {
	// Load returns the credentials remembered for a peer id.
	Load(peerID string) (node.Creds, bool)
	// Save remembers them; an error means there is no keyring to keep
	// them in (they then last until Peerdesk quits).
	Save(peerID string, c node.Creds) error
	Forget(peerID string) error
}

// keyringService names Peerdesk's entries in the OS keyring.
const keyringService = "Peerdesk"

// osKeyring keeps credentials in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows), one entry per peer and
// home, so two peers on one machine do not share them.
type osKeyring struct{ home string }

func (k osKeyring) user(peerID string) string { return peerID + "@" + k.home }

func (k osKeyring) Load(peerID string) (node.Creds, bool) {
	s, err := keyring.Get(keyringService, k.user(peerID))
	if err != nil {
		return node.Creds{}, false
	}
	var c node.Creds
	if json.Unmarshal([]byte(s), &c) != nil {
		return node.Creds{}, false
	}
	return c, true
}

// ErrNoKeyring: the system offers no keyring to remember passwords in.
var ErrNoKeyring = errors.New("no keyring to remember the password in")

func (k osKeyring) Save(peerID string, c node.Creds) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := keyring.Set(keyringService, k.user(peerID), string(b)); err != nil {
		return fmt.Errorf("%w: %w", ErrNoKeyring, err)
	}
	return nil
}

func (k osKeyring) Forget(peerID string) error {
	err := keyring.Delete(keyringService, k.user(peerID))
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// printerSignIn is what signInForAddedPrinters needs of the node.
type printerSignIn interface {
	AddedPrinters() []node.AddedPrinter
	Printers(ctx context.Context, ref string, creds node.Creds) ([]node.PrinterInfo, error)
	Done() <-chan struct{}
}

// signInForAddedPrinters signs in, with the credentials the keyring
// remembers, to the peers whose printers were added to this PC's print
// system: jobs printed there go at once instead of waiting, held, for the
// user to sign in (node/printqueues.go). Peers not online yet are tried
// every retry for tries rounds (5 s × 12 in the app: a minute).
func signInForAddedPrinters(n printerSignIn, creds credStore, tries int, retry time.Duration) {
	if creds == nil {
		return
	}
	pending := map[string]node.Creds{}
	for _, ap := range n.AddedPrinters() {
		if c, ok := creds.Load(ap.Peer); ok {
			pending[ap.Peer] = c
		}
	}
	for try := 0; try < tries && len(pending) > 0; try++ {
		for id, c := range pending {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := n.Printers(ctx, id, c)
			cancel()
			if err == nil {
				delete(pending, id)
			}
		}
		if len(pending) == 0 {
			return
		}
		select {
		case <-n.Done():
			return
		case <-time.After(retry):
		}
	}
}
