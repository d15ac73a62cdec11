package transport

import "errors"

// Sentinel errors callers branch on (exit codes, GUI messages).
var (
	// ErrWrongPeer: the peer at the address is not the peer that was asked for.
	ErrWrongPeer = errors.New("peer at address has another id")
	// ErrProtocol: the peer sent something the protocol does not allow.
	ErrProtocol = errors.New("protocol error")
	// ErrFrameTooLarge: a frame exceeds its size limit.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrTruncated: a body ended before its announced end.
	ErrTruncated = errors.New("body truncated")
	// ErrAccessDenied: the remote peer refused the request.
	ErrAccessDenied = errors.New("access denied")
	// ErrNotFound: the remote peer has no such thing.
	ErrNotFound = errors.New("not found")
	// ErrUnreachable: no connection to the peer could be made.
	ErrUnreachable = errors.New("peer unreachable")
	// ErrClosed: the endpoint or session is closed.
	ErrClosed = errors.New("closed")
)
