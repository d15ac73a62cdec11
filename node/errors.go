package node

import (
	"errors"
	"io/fs"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Sentinel errors of the node, mapped to CLI exit codes by main. ErrUsage
// and ErrDeclined are the file operations' own (package remote): the same
// values under the names callers of the node know.
var (
	ErrAlreadyRunning      = errors.New("a peerdesk peer is already running for this home")
	ErrUsage               = remote.ErrUsage
	ErrPeerNotFound        = errors.New("peer not found")
	ErrFingerprintMismatch = errors.New("fingerprint mismatch")
	// ErrDeclined: the receiver of a push-send declined the files. It also
	// wraps transport.ErrAccessDenied, so the exit status stays 3.
	ErrDeclined = remote.ErrDeclined
	// ErrUnknownCommand: the running peer does not know a control op (it
	// is an older version than the command).
	ErrUnknownCommand = errors.New("unknown command")
)

// Code classifies an error for the control socket and exit codes:
// "usage", "denied", "not_found", "changed" or "error".
func Code(err error) string {
	switch {
	case errors.Is(err, ErrUsage), errors.Is(err, ErrUnknownCommand), errors.Is(err, access.ErrInvalid):
		return "usage"
	case errors.Is(err, transport.ErrAccessDenied):
		return "denied"
	case errors.Is(err, ErrPeerNotFound), errors.Is(err, transport.ErrNotFound), errors.Is(err, identity.ErrNotPinned), errors.Is(err, transfer.ErrNoTransfer), errors.Is(err, fs.ErrNotExist):
		return "not_found"
	case errors.Is(err, identity.ErrIdentityChanged), errors.Is(err, ErrFingerprintMismatch), errors.Is(err, transport.ErrWrongPeer):
		return "changed"
	}
	return "error"
}

// Classify is the control socket's classification of err: the exit-code
// class (Code) and the failure classes, the same names the peer protocol
// carries.
func Classify(err error) (string, []string) {
	return Code(err), transport.ClassesOf(err)
}

func init() {
	transport.RegisterClass("usage", ErrUsage)
	transport.RegisterClass("already_running", ErrAlreadyRunning)
	transport.RegisterClass("peer_not_found", ErrPeerNotFound)
	transport.RegisterClass("not_pinned", identity.ErrNotPinned)
	transport.RegisterClass("no_transfer", transfer.ErrNoTransfer)
	transport.RegisterClass("queue_full", transfer.ErrQueueFull)
	transport.RegisterClass("fingerprint_mismatch", ErrFingerprintMismatch)
	transport.RegisterClass("declined", ErrDeclined)
	transport.RegisterClass("unknown_command", ErrUnknownCommand)
	transport.RegisterClass("unsafe_inbox", ErrUnsafeInbox)
	// Denied and not found travel as generic codes between peers; over
	// the control socket they are classes like any other.
	transport.RegisterClass("denied", transport.ErrAccessDenied)
	transport.RegisterClass("not_found", transport.ErrNotFound)
	transport.RegisterClass("protocol", transport.ErrProtocol)
	transport.RegisterClass("bad_certificate", identity.ErrBadCertificate)
	transport.RegisterClass("closed", transport.ErrClosed)
	// The transfer package stays free of the transport: its classes are
	// declared here.
	transport.RegisterClass("download_damaged", transfer.ErrHashMismatch)
	transport.RegisterClass("local_disk_full", transfer.ErrDiskFull)
	transport.RegisterClass("no_source", transfer.ErrNoSource)
	transport.RegisterClass("chunk_mismatch", transfer.ErrChunkMismatch)
}
