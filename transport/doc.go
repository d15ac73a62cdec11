// Package transport is the encrypted link between peers, authenticated
// with the identities and pins of package identity: mutually
// authenticated DTLS 1.2 (pion/dtls) carrying SCTP streams, one request
// per stream, framed as described in docs/protocol.md (endpoint.go,
// session.go, stream.go, frame.go, message.go, mux.go), and the failure
// classes that travel in responses (codes.go).
//
// Under it, in internal packages behind small interfaces: the UDP layer
// (internal/udp: one socket per endpoint shared by DTLS and the bulk
// channel, batching with sendmmsg and GSO/GRO on Linux) and the bulk
// channel (internal/bulk: file bodies as AES-GCM records keyed by the DTLS
// exporter, offset-addressed chunks, selective acks and BBR-like rate
// control; docs/transport.md). BulkDataPlane (bulkplane.go) is the glue:
// a body's start and end travel on its request stream, the bytes on the
// bulk channel.
//
// It knows nothing of shares, printers or discovery; services plug in
// through a Mux.
package transport
