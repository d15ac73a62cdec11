package transport

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pion/sctp"
)

// streamBufferLimit bounds the bytes one stream may have queued in SCTP
// before a write waits: without it pion buffers without bound.
const streamBufferLimit = 1 << 20

// Stream is one request and its answer: a bidirectional sequence of frames
// on its own SCTP stream, so a long body never holds up other requests.
type Stream struct {
	st      *sctp.Stream
	session *Session
	rbuf    []byte // a stream receiving large frames keeps one of MaxFrameSize
	small   []byte // the last small frame read
	wbuf    []byte

	lowOnce   sync.Once
	low       chan struct{}
	closeOnce sync.Once
	// aborted closes when a watched context ends: a write waiting for the
	// peer to drain its buffer must give up then too.
	abortOnce sync.Once
	aborted   chan struct{}
}

func newStream(st *sctp.Stream, sess *Session) *Stream {
	return &Stream{st: st, session: sess, aborted: make(chan struct{})}
}

// Peer is the authenticated peer at the other end.
func (s *Stream) Peer() PeerInfo { return s.session.Peer() }

// ReadFrame reads the next frame. Reads are sized to the largest frame: a
// smaller buffer would make pion return a partial message with
// io.ErrShortBuffer (and drop the rest). Most streams carry a few small
// frames (a hello, a request and its answer), so the 64 KiB read buffer is
// borrowed from a pool and what was read copied out; a stream that
// receives a large frame keeps its buffer, as bodies sent in data frames
// then follow. With 50 peers probing each other, allocating the buffer
// per stream was a tenth of each peer's CPU (docs/performance.md). The
// frame's payload is valid until the next ReadFrame.
func (s *Stream) ReadFrame() (Frame, error) {
	buf := s.rbuf
	var scratch *[]byte
	if buf == nil {
		scratch = readScratch.Get().(*[]byte)
		buf = *scratch
	}
	n, err := s.st.Read(buf)
	if scratch != nil {
		switch {
		case err != nil:
			readScratch.Put(scratch)
		case n > smallFrame:
			s.rbuf = buf // large frames come here: keep it
		default:
			s.small = append(s.small[:0], buf[:n]...)
			readScratch.Put(scratch)
			buf = s.small
		}
	}
	if err == nil {
		s.session.moved.Store(time.Now().UnixNano())
	}
	if err != nil {
		if errors.Is(err, io.ErrShortBuffer) {
			return Frame{}, fmt.Errorf("%w: message over %d bytes", ErrFrameTooLarge, MaxFrameSize)
		}
		if errors.Is(err, io.EOF) {
			return Frame{}, io.EOF
		}
		return Frame{}, err
	}
	return DecodeFrame(buf[:n])
}

// smallFrame is the largest frame read through the pooled buffer.
const smallFrame = 4 << 10

var readScratch = sync.Pool{New: func() any { b := make([]byte, MaxFrameSize); return &b }}

// WriteFrame writes one frame, waiting while the stream has more than
// streamBufferLimit bytes queued.
func (s *Stream) WriteFrame(t FrameType, payload []byte) error {
	var err error
	s.wbuf, err = AppendFrame(s.wbuf[:0], t, payload)
	if err != nil {
		return err
	}
	if err := s.waitBuffered(); err != nil {
		return err
	}
	_, err = s.st.Write(s.wbuf)
	if err == nil {
		s.session.moved.Store(time.Now().UnixNano())
	}
	return err
}

func (s *Stream) waitBuffered() error {
	if s.st.BufferedAmount() <= streamBufferLimit {
		return nil
	}
	s.lowOnce.Do(func() {
		s.low = make(chan struct{}, 1)
		s.st.SetBufferedAmountLowThreshold(streamBufferLimit / 2)
		s.st.OnBufferedAmountLow(func() {
			select {
			case s.low <- struct{}{}:
			default:
			}
		})
	})
	for s.st.BufferedAmount() > streamBufferLimit {
		select {
		case <-s.low:
		case <-time.After(100 * time.Millisecond):
			// The callback can fire between the check and the wait; a
			// short poll keeps that race from stalling the stream.
		case <-s.session.closed:
			return ErrClosed
		case <-s.aborted:
			return os.ErrDeadlineExceeded
		}
	}
	return nil
}

// WriteJSON writes v as a frame of type t.
func (s *Stream) WriteJSON(t FrameType, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.WriteFrame(t, b)
}

// Respond sends a successful response with body v (nil for none).
func (s *Stream) Respond(v any) error {
	resp := Response{OK: true}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		resp.Body = b
	}
	return s.WriteJSON(FrameResponse, resp)
}

// Fail sends a failure response for err.
func (s *Stream) Fail(err error) error {
	return s.WriteJSON(FrameResponse, ErrorResponse(err))
}

// ReadResponse reads a response frame and decodes its body into out
// (if out is non-nil). A failure response becomes a *RemoteError.
func (s *Stream) ReadResponse(op string, out any) error {
	f, err := s.ReadFrame()
	if err != nil {
		return fmt.Errorf("%s: read response: %w", op, err)
	}
	if f.Type != FrameResponse {
		return fmt.Errorf("%s: %w: expected response, got %s", op, ErrProtocol, f.Type)
	}
	resp, err := DecodeResponse(f.Payload)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !resp.OK {
		return remoteError(op, resp)
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("%s: %w: response body: %v", op, ErrProtocol, err)
		}
	}
	return nil
}

// SendBody streams r to the other side through the session's data plane.
func (s *Stream) SendBody(ctx context.Context, r io.Reader) (int64, error) {
	return s.session.data.SendBody(ctx, s, r)
}

// ReceiveBody writes the body the other side sends into w, refusing more
// than limit bytes (limit < 0: no limit).
func (s *Stream) ReceiveBody(ctx context.Context, w io.Writer, limit int64) (int64, error) {
	return s.session.data.ReceiveBody(ctx, s, w, limit)
}

// Watch makes ctx's end abort blocked reads and writes on the stream. Call
// the returned stop when done with ctx. The stream's deadline is set only
// once ctx is done (not to ctx's deadline up front), so a failed read
// always finds ctx.Err() set and reports context.DeadlineExceeded rather
// than the stream's own i/o timeout.
func (s *Stream) Watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		_ = s.st.SetDeadline(time.Now())
		s.abortOnce.Do(func() { close(s.aborted) })
	})
}

// Close ends the stream. Callers close only after the other side has
// answered (every exchange ends with a response or an end frame that the
// other side acknowledges by closing), since pion can drop data still
// queued when a stream is reset.
func (s *Stream) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.session.streamDone(s.st.StreamIdentifier())
		err = s.st.Close()
	})
	return err
}

// DataPlane moves request bodies (file contents) between peers. The default
// sends data frames on the request's own stream; a faster bulk path can
// replace it in Config without touching callers of SendBody/ReceiveBody.
type DataPlane interface {
	SendBody(ctx context.Context, s *Stream, r io.Reader) (int64, error)
	ReceiveBody(ctx context.Context, s *Stream, w io.Writer, limit int64) (int64, error)
}

// StreamDataPlane sends a body as data frames followed by an end frame that
// carries the total length.
type StreamDataPlane struct{}

var bodyBufPool = sync.Pool{New: func() any { b := make([]byte, MaxPayloadSize); return &b }}

// SendBody implements DataPlane.
func (StreamDataPlane) SendBody(ctx context.Context, s *Stream, r io.Reader) (int64, error) {
	stop := s.Watch(ctx)
	defer stop()
	bp := bodyBufPool.Get().(*[]byte)
	defer bodyBufPool.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if err := s.WriteFrame(FrameData, buf[:n]); err != nil {
				return total, ctxErr(ctx, err)
			}
			total += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return total, rerr
		}
	}
	var end [8]byte
	binary.BigEndian.PutUint64(end[:], uint64(total))
	return total, ctxErr(ctx, s.WriteFrame(FrameEnd, end[:]))
}

// ReceiveBody implements DataPlane.
func (StreamDataPlane) ReceiveBody(ctx context.Context, s *Stream, w io.Writer, limit int64) (int64, error) {
	return receiveFrames(ctx, s, w, limit, nil)
}

// receiveFrames reads a body of data frames and its end frame, starting
// with first if the caller already read it.
func receiveFrames(ctx context.Context, s *Stream, w io.Writer, limit int64, first *Frame) (int64, error) {
	stop := s.Watch(ctx)
	defer stop()
	var total int64
	for {
		var f Frame
		var err error
		if first != nil {
			f, first = *first, nil
		} else {
			f, err = s.ReadFrame()
		}
		if errors.Is(err, io.EOF) {
			return total, fmt.Errorf("%w after %d bytes", ErrTruncated, total)
		}
		if err != nil {
			return total, ctxErr(ctx, err)
		}
		switch f.Type {
		case FrameData:
			if limit >= 0 && total+int64(len(f.Payload)) > limit {
				return total, fmt.Errorf("%w: body exceeds %d bytes", ErrFrameTooLarge, limit)
			}
			if _, err := w.Write(f.Payload); err != nil {
				return total, err
			}
			total += int64(len(f.Payload))
		case FrameEnd:
			if want := int64(binary.BigEndian.Uint64(f.Payload)); want != total {
				return total, fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, total, want)
			}
			return total, nil
		case FrameResponse:
			// The sender gave up and says why.
			resp, derr := DecodeResponse(f.Payload)
			if derr != nil {
				return total, derr
			}
			if !resp.OK {
				return total, remoteError("body", resp)
			}
			return total, fmt.Errorf("%w: response inside a body", ErrProtocol)
		default:
			return total, fmt.Errorf("%w: %s frame inside a body", ErrProtocol, f.Type)
		}
	}
}

func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
