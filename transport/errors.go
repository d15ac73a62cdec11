package transport

import (
	"errors"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

// Sentinel errors callers branch on (exit codes, GUI messages). Those the
// internal packages produce too are declared in internal/errs (and
// ErrStalled in internal/bulk): the same values under their public names.
var (
	// ErrWrongPeer: the peer at the address is not the peer that was asked for.
	ErrWrongPeer = errors.New("peer at address has another id")
	// ErrProtocol: the peer sent something the protocol does not allow.
	ErrProtocol = errs.Protocol
	// ErrFrameTooLarge: a frame exceeds its size limit.
	ErrFrameTooLarge = errs.FrameTooLarge
	// ErrTruncated: a body ended before its announced end.
	ErrTruncated = errs.Truncated
	// ErrAccessDenied: the remote peer refused the request.
	ErrAccessDenied = errors.New("access denied")
	// ErrNotFound: the remote peer has no such thing.
	ErrNotFound = errors.New("not found")
	// ErrUnreachable: no connection to the peer could be made.
	ErrUnreachable = errors.New("peer unreachable")
	// ErrClosed: the endpoint or session is closed.
	ErrClosed = errs.Closed
	// ErrNoSession: Ping found no session with the peer (it needs one;
	// a hello makes one).
	ErrNoSession = errors.New("no session with the peer")
	// ErrNoPing: the session cannot carry pings (the peer does not speak
	// the bulk channel); a hello proves the peer is there instead.
	ErrNoPing = errors.New("session cannot carry pings")
)
