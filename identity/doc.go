// Package identity is who a peer is and whom it trusts: its Identity (a
// uuid, an ECDSA P-256 key and the self-signed certificate that carries
// both, named by its fingerprint and a short verification code people
// compare), and the TrustStore, the trust-on-first-use pins of other
// peers' keys with the keys offered in their place (docs/security.md).
//
// The transport checks every handshake against the TrustStore; the peer
// table and the screens read trust from it. It knows nothing of the
// network.
package identity
