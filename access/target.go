package access

import (
	"context"

	"github.com/peerdesk/peerdesk/transport"
)

// Caller is what the client needs of the transport; *transport.Endpoint
// implements it.
type Caller interface {
	Open(ctx context.Context, id string, addrs []string, op string, body any) (*transport.Stream, error)
}

// Target is a remote peer and the credentials presented to it.
type Target struct {
	// ID is the peer's id; Addrs where to dial it if no session is up.
	ID    string
	Addrs []string
	Auth  Credentials
}
