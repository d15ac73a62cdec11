// Package transport is the encrypted link between peers, authenticated
// with the identities and pins of package identity. It holds three
// concerns (R2 3/7 leaves the last two to become internal packages):
//
//   - sessions and streams: mutually authenticated DTLS 1.2 (pion/dtls)
//     carrying SCTP streams, one request per stream, framed as described in
//     docs/protocol.md (endpoint.go, session.go, stream.go, frame.go,
//     message.go, mux.go), and the failure classes that travel in
//     responses (codes.go);
//   - the UDP layer: one socket per endpoint shared by DTLS and the bulk
//     channel, demultiplexed by record content type (demux.go), with
//     segmentation offload where the OS has it (demux_udp*.go: sendmmsg,
//     GSO/GRO on Linux);
//   - the bulk channel: file bodies as AES-GCM records keyed by the DTLS
//     exporter, offset-addressed chunks, selective acks and BBR-like rate
//     control (bulk*.go; docs/transport.md).
//
// It knows nothing of shares, printers or discovery; services plug in
// through a Mux.
package transport
