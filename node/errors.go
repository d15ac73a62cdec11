package node

import (
	"errors"
	"io/fs"

	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

// Sentinel errors of the node, mapped to CLI exit codes by main.
var (
	ErrAlreadyRunning      = errors.New("a peerdesk peer is already running for this home")
	ErrUsage               = errors.New("usage")
	ErrPeerNotFound        = errors.New("peer not found")
	ErrFingerprintMismatch = errors.New("fingerprint mismatch")
)

// Code classifies an error for the control socket and exit codes:
// "usage", "denied", "not_found", "changed" or "error".
func Code(err error) string {
	switch {
	case errors.Is(err, ErrUsage), errors.Is(err, shares.ErrInvalid):
		return "usage"
	case errors.Is(err, transport.ErrAccessDenied):
		return "denied"
	case errors.Is(err, ErrPeerNotFound), errors.Is(err, transport.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return "not_found"
	case errors.Is(err, transport.ErrIdentityChanged), errors.Is(err, ErrFingerprintMismatch), errors.Is(err, transport.ErrWrongPeer):
		return "changed"
	}
	return "error"
}
