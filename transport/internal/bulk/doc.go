// Package bulk is a session's bulk channel: file bodies as AES-GCM records
// keyed by the DTLS exporter (record.go), sent next to DTLS's own on the
// session's UDP flow (package udp), as offset-addressed chunks that the
// receiver acknowledges selectively (wire.go, recv.go) and the sender
// retransmits when lost, paced by a BBR-like rate control (send.go,
// cc.go; docs/transport.md). A body's start and end travel on its request
// stream (Stream), so truncation shows as it does with data frames.
package bulk
