package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/peerdesk/peerdesk/transport/internal/bulk"
)

// ProtocolVersion is the version every frame carries. A peer refuses frames
// of a version it does not speak.
const ProtocolVersion = 1

// Frame layout (big endian), one frame per SCTP message:
//
//	0  'P' 'D'   magic
//	2  version   uint8
//	3  type      uint8 (FrameType)
//	4  flags     uint8 (reserved, must be 0)
//	5  reserved  uint8 (must be 0)
//	6  length    uint32, payload bytes that follow
//	10 payload
const (
	frameHeaderSize = 10
	// MaxFrameSize bounds one frame, header included. It equals the SCTP
	// maximum message size, so a frame is always one message.
	MaxFrameSize = 64 * 1024
	// MaxPayloadSize bounds a frame's payload.
	MaxPayloadSize = MaxFrameSize - frameHeaderSize
	// MaxRequestSize bounds a request or response payload (JSON); bulk data
	// travels in data frames instead.
	MaxRequestSize = 60 * 1024
)

// FrameType says what a frame carries.
type FrameType uint8

const (
	// FrameRequest opens a stream: a JSON Request.
	FrameRequest FrameType = 1
	// FrameResponse answers a request: a JSON Response.
	FrameResponse FrameType = 2
	// FrameData carries a slice of a body.
	FrameData FrameType = 3
	// FrameEnd closes a body: an 8-byte total length, so truncation shows.
	FrameEnd FrameType = 4
	// FrameBulk starts a body that travels over the session's bulk channel
	// (docs/transport.md): version, transfer id, largest chunk size.
	FrameBulk FrameType = 5
)

func (t FrameType) String() string {
	switch t {
	case FrameRequest:
		return "request"
	case FrameResponse:
		return "response"
	case FrameData:
		return "data"
	case FrameEnd:
		return "end"
	case FrameBulk:
		return "bulk"
	}
	return fmt.Sprintf("frame(%d)", uint8(t))
}

func (t FrameType) maxPayload() int {
	switch t {
	case FrameRequest, FrameResponse:
		return MaxRequestSize
	case FrameData:
		return MaxPayloadSize
	case FrameEnd:
		return 8
	case FrameBulk:
		return bulk.StartSize
	}
	return -1
}

// Frame is one decoded frame. Payload aliases the buffer it was decoded from.
type Frame struct {
	Type    FrameType
	Payload []byte
}

// AppendFrame appends the encoding of a frame to dst.
func AppendFrame(dst []byte, t FrameType, payload []byte) ([]byte, error) {
	if max := t.maxPayload(); max < 0 {
		return dst, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, t)
	} else if len(payload) > max {
		return dst, fmt.Errorf("%w: %s payload of %d bytes (limit %d)", ErrFrameTooLarge, t, len(payload), max)
	}
	var hdr [frameHeaderSize]byte
	hdr[0], hdr[1] = 'P', 'D'
	hdr[2] = ProtocolVersion
	hdr[3] = byte(t)
	binary.BigEndian.PutUint32(hdr[6:], uint32(len(payload)))
	dst = append(dst, hdr[:]...)
	return append(dst, payload...), nil
}

// DecodeFrame decodes exactly one frame from msg (one SCTP message).
func DecodeFrame(msg []byte) (Frame, error) {
	if len(msg) < frameHeaderSize {
		return Frame{}, fmt.Errorf("%w: short frame (%d bytes)", ErrProtocol, len(msg))
	}
	if msg[0] != 'P' || msg[1] != 'D' {
		return Frame{}, fmt.Errorf("%w: bad magic", ErrProtocol)
	}
	if msg[2] != ProtocolVersion {
		return Frame{}, fmt.Errorf("%w: protocol version %d not supported (want %d)", ErrProtocol, msg[2], ProtocolVersion)
	}
	t := FrameType(msg[3])
	max := t.maxPayload()
	if max < 0 {
		return Frame{}, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, msg[3])
	}
	if msg[4] != 0 || msg[5] != 0 {
		return Frame{}, fmt.Errorf("%w: reserved header bits set", ErrProtocol)
	}
	n := binary.BigEndian.Uint32(msg[6:])
	if n > uint32(max) {
		return Frame{}, fmt.Errorf("%w: %s payload of %d bytes (limit %d)", ErrFrameTooLarge, t, n, max)
	}
	if int(n) != len(msg)-frameHeaderSize {
		return Frame{}, fmt.Errorf("%w: length field %d, message carries %d", ErrProtocol, n, len(msg)-frameHeaderSize)
	}
	if t == FrameEnd && n != 8 {
		return Frame{}, fmt.Errorf("%w: end frame must carry 8 bytes", ErrProtocol)
	}
	return Frame{Type: t, Payload: msg[frameHeaderSize:]}, nil
}
