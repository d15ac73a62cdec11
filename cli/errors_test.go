//go:build !nogui

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/peerdesk/peerdesk/app"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/transport"
)

// wantExit is the CLI exit status of each failure class: a class added
// without an entry here fails TestEveryClassFromWireToScreen.
var wantExit = map[string]int{
	"usage": exitUsage, "unknown_command": exitUsage, "invalid": exitUsage, "unsafe_inbox": exitError,
	"denied": exitDenied, "bad_path": exitDenied, "rate_limited": exitDenied,
	"not_found": exitNotFound, "no_account": exitNotFound, "no_share": exitNotFound, "peer_not_found": exitNotFound, "not_pinned": exitNotFound, "no_transfer": exitNotFound,
	"identity_changed": exitChanged, "fingerprint_mismatch": exitChanged, "wrong_peer": exitChanged,
}

// TestEveryClassFromWireToScreen walks every registered failure class from
// the peer that answers to the user: the responder's error travels as a
// response, matches its sentinel on the caller's side whatever the message
// says, crosses the control socket, gives the CLI's exit status and the
// GUI's own wording.
func TestEveryClassFromWireToScreen(t *testing.T) {
	for _, c := range transport.Classes() {
		if c.Name == "not_showing" || c.Name == "closed" {
			continue // local to one process: never answered by a peer nor shown
		}
		t.Run(c.Name, func(t *testing.T) {
			// The responding peer.
			resp := transport.ErrorResponse(fmt.Errorf("serving: %w", c.Sentinel))
			b, _ := json.Marshal(resp)
			got, err := transport.DecodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			remote := fmt.Errorf("calling: %w", &transport.RemoteError{Op: "op", Code: got.Code, Classes: got.Classes, Message: "any words at all"})
			if !errors.Is(remote, c.Sentinel) {
				t.Fatalf("the caller's error does not match %v (response %+v)", c.Sentinel, got)
			}
			// The running peer answers the CLI or a second app over the
			// control socket.
			code, classes := node.Classify(remote)
			ce := &control.Error{Code: code, Classes: classes, Message: "other words"}
			if !errors.Is(ce, c.Sentinel) {
				t.Fatalf("the control error (%s %v) does not match %v", code, classes, c.Sentinel)
			}
			want, ok := wantExit[c.Name]
			if !ok {
				want = exitError
			}
			cl := &cli{stdout: io.Discard, stderr: &bytes.Buffer{}}
			if got := cl.report(ce); got != want {
				t.Errorf("exit status %d, want %d", got, want)
			}
			if words := app.HumanError(ce); words == app.HumanError(errors.New("something")) {
				t.Errorf("the GUI has no words of its own for %s", c.Name)
			}
		})
	}
}
