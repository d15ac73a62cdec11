// Package transport owns a peer's identity (uuid, ECDSA key, self-signed
// certificate, fingerprint), the trust-on-first-use store of other peers'
// fingerprints, and the encrypted link between peers: mutually authenticated
// DTLS 1.2 carrying SCTP streams, one request per stream, framed as described
// in docs/protocol.md. It knows nothing of shares, printers or discovery;
// services plug in through a Mux.
package transport
