package identity

import "errors"

// Sentinel errors of identities and the trust store callers branch on.
var (
	// ErrIdentityChanged: the peer presented a key other than the one pinned
	// for its id. Nothing is exchanged until a person re-trusts it.
	ErrIdentityChanged = errors.New("peer identity changed")
	// ErrBadCertificate: the certificate is not a valid peer certificate.
	ErrBadCertificate = errors.New("invalid peer certificate")
	// ErrNotPinned: no key is pinned (or known) for the peer.
	ErrNotPinned = errors.New("no key known for this peer")
)
