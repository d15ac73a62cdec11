package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport/internal/bulk"
)

// BulkDataPlane moves bodies over the session's bulk channel: offset-
// addressed chunks in their own DTLS records next to SCTP's, acknowledged
// selectively, retransmitted when lost, paced by a BBR-like rate control
// (docs/transport.md). The request's stream carries only the start (a
// FrameBulk) and the end frame with the total length, so truncation shows
// as it does with data frames. Small bodies, and every body on a session
// whose peer does not speak the bulk channel, go as data frames
// (StreamDataPlane). It is the default DataPlane.
type BulkDataPlane struct{}

// bulkInline is the body size up to which data frames are used anyway: a
// body this small is done before the bulk channel's start round trip
// would pay off.
const bulkInline = 128 << 10

// SendBody implements DataPlane.
func (BulkDataPlane) SendBody(ctx context.Context, s *Stream, r io.Reader) (int64, error) {
	mux := s.session.bulk
	if mux == nil {
		return StreamDataPlane{}.SendBody(ctx, s, r)
	}
	// Read the start of the body: a small one goes inline.
	hp := headPool.Get().(*[]byte)
	defer headPool.Put(hp)
	head := *hp
	n, err := io.ReadFull(r, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return StreamDataPlane{}.SendBody(ctx, s, bytesReader(head[:n]))
	case err != nil:
		return 0, err
	}
	return mux.Send(ctx, bulkStream{s}, head, r, IsBackground(ctx))
}

type backgroundKey struct{}

// WithBackground marks the bodies sent under ctx as background transfers:
// on the bulk channel they yield to other traffic on the path, and take
// the whole link when alone. Bodies sent as data frames are not affected
// (they are small).
func WithBackground(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx marks background transfers.
func IsBackground(ctx context.Context) bool {
	on, _ := ctx.Value(backgroundKey{}).(bool)
	return on
}

// ReleaseIdleBuffers gives the bulk channel's pooled buffers to the
// collector; call it when no transfer runs.
func ReleaseIdleBuffers() { bulk.DrainPages() }

// OnBulkActivity sets the function told busy=true when a first body
// starts moving in this process (any session, either way) and busy=false
// when the last one ended; the two may arrive in either order when close
// together, so check BulkFlows before acting on busy=false. nil: none.
func OnBulkActivity(fn func(busy bool)) { bulk.SetOnActivity(fn) }

// BulkFlows reports how many bodies are moving in this process now.
func BulkFlows() int64 { return bulk.Flows() }

// BulkReceiveHeld reports how many bytes the bodies this process receives
// hold in their windows now: arrived and waiting for their writers.
func BulkReceiveHeld() int64 { return bulk.ReceiveHeld() }

// BulkSendTotals is how many bulk data packets this process has sent in
// all, and how many of them sent a chunk again, declared lost or as a
// probe (for benchmarks: the share of packets retransmitted).
func BulkSendTotals() (packets, resent uint64) { return bulk.SendTotals() }

var headPool = sync.Pool{New: func() any { b := make([]byte, bulkInline); return &b }}

// ReceiveBody implements DataPlane: it takes data frames or a bulk
// transfer, whichever the sender chose.
func (BulkDataPlane) ReceiveBody(ctx context.Context, s *Stream, w io.Writer, limit int64) (int64, error) {
	stop := s.Watch(ctx)
	f, err := s.ReadFrame()
	stop()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%w after 0 bytes", ErrTruncated)
		}
		return 0, ctxErr(ctx, err)
	}
	if f.Type != FrameBulk {
		return receiveFrames(ctx, s, w, limit, &f)
	}
	if s.session.bulk == nil {
		return 0, fmt.Errorf("%w: bulk frame on a session without bulk channel", ErrProtocol)
	}
	return s.session.bulk.Receive(ctx, bulkStream{s}, f.Payload, w, limit)
}

// ErrStalled is wrapped by the error of a transfer that heard nothing
// from the peer for too long.
var ErrStalled = bulk.ErrStalled

// bulkStream is a request stream as the bulk channel uses it: the start
// and end of a body as frames.
type bulkStream struct{ *Stream }

func (s bulkStream) WriteStart(payload []byte) error { return s.WriteFrame(FrameBulk, payload) }

func (s bulkStream) WriteEnd(total int64) error {
	var end [8]byte
	binary.BigEndian.PutUint64(end[:], uint64(total))
	return s.WriteFrame(FrameEnd, end[:])
}

func (s bulkStream) ReadEnd() (int64, error) {
	f, err := s.ReadFrame()
	switch {
	case errors.Is(err, io.EOF):
		return 0, ErrTruncated
	case err != nil:
		return 0, err
	case f.Type == FrameEnd:
		return int64(binary.BigEndian.Uint64(f.Payload)), nil
	case f.Type == FrameResponse:
		resp, err := DecodeResponse(f.Payload)
		switch {
		case err != nil:
			return 0, err
		case !resp.OK:
			return 0, remoteError("body", resp)
		}
		return 0, fmt.Errorf("%w: response inside a body", ErrProtocol)
	}
	return 0, fmt.Errorf("%w: %s frame inside a bulk body", ErrProtocol, f.Type)
}

func (s bulkStream) SetReadDeadline(t time.Time) error { return s.st.SetReadDeadline(t) }

func bytesReader(b []byte) io.Reader {
	return &sliceReader{b: b}
}

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
