// Package errs holds the failure sentinels that transport and its
// internal packages both produce; transport re-exports each under its
// public name (transport.ErrProtocol is errs.Protocol), so callers match
// one value whichever layer failed.
package errs

import "errors"

var (
	// Protocol: the peer sent something the protocol does not allow.
	Protocol = errors.New("protocol error")
	// FrameTooLarge: a frame or body exceeds its size limit.
	FrameTooLarge = errors.New("frame too large")
	// Truncated: a body ended before its announced end.
	Truncated = errors.New("body truncated")
	// Closed: the endpoint or session is closed.
	Closed = errors.New("closed")
)
