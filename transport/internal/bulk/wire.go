package bulk

import (
	"encoding/binary"
	"fmt"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

// Bulk message types: the first byte of a bulk record's plaintext
// (record.go, docs/transport.md).
const (
	recBulkData  byte = 0x01 // bulkData: a chunk of a body
	recBulkAck   byte = 0x02 // bulkAck: the receiver's acknowledgement and window
	recBulkStop  byte = 0x03 // bulkAbort from the receiver: stop sending
	recBulkAbort byte = 0x04 // bulkAbort from the sender: the body will not come
)

const (
	// bulkDataHeader is tag, transfer id, packet number and offset.
	bulkDataHeader = 1 + 4 + 8 + 8
	// bulkAckFixed is the ack's size without its ranges.
	bulkAckFixed = 1 + 4 + 8 + 4 + 8 + 8 + 2 + 1
	// bulkMaxRanges bounds the packet-number ranges one ack carries.
	bulkMaxRanges = 32
	// bulkAbortSize is tag, transfer id and code.
	bulkAbortSize = 1 + 4 + 1
	// StartSize is the payload of a FrameBulk.
	StartSize = 1 + 4 + 2
	// bulkVersion is the bulk protocol version a FrameBulk announces.
	bulkVersion = 1
	// MaxDatagram bounds a bulk datagram: 16 KiB, a TLS record's
	// size, where the path allows (loopback); on Ethernet the MTU does.
	MaxDatagram = 16 << 10
	// bulkMinChunk and bulkMaxChunk bound the data bytes of one packet:
	// the minimum fits the smallest IPv6 path, the maximum the largest
	// datagram with record and bulk headers.
	bulkMinChunk = 1024
	bulkMaxChunk = MaxDatagram - bulkRecordOverhead - bulkDataHeader
	// bulkPrefix is the room a message leaves before itself for the
	// record header and explicit nonce (sealed in place).
	bulkPrefix = dtlsHeaderSize + gcmExplicitNonce
)

// bulkStart is the payload of a FrameBulk: the sender announces that the
// body travels as bulk transfer id, in packets of at most maxChunk bytes.
type bulkStart struct {
	id       uint32
	maxChunk int
}

func (b bulkStart) append(dst []byte) []byte {
	dst = append(dst, bulkVersion)
	dst = binary.BigEndian.AppendUint32(dst, b.id)
	return binary.BigEndian.AppendUint16(dst, uint16(b.maxChunk))
}

func decodeBulkStart(p []byte) (bulkStart, error) {
	if len(p) != StartSize {
		return bulkStart{}, fmt.Errorf("%w: bulk start of %d bytes", errs.Protocol, len(p))
	}
	if p[0] != bulkVersion {
		return bulkStart{}, fmt.Errorf("%w: bulk version %d not supported", errs.Protocol, p[0])
	}
	b := bulkStart{id: binary.BigEndian.Uint32(p[1:]), maxChunk: int(binary.BigEndian.Uint16(p[5:]))}
	if b.maxChunk < bulkMinChunk || b.maxChunk > bulkMaxChunk {
		return bulkStart{}, fmt.Errorf("%w: bulk chunk size %d", errs.Protocol, b.maxChunk)
	}
	return b, nil
}

// bulkData is one chunk of a body: off is its byte offset, pn the packet
// number of this transmission (a retransmission gets a new one).
type bulkData struct {
	id      uint32
	pn      uint64
	off     int64
	payload []byte // aliases the record
}

func appendBulkDataHeader(dst []byte, id uint32, pn uint64, off int64) []byte {
	dst = append(dst, recBulkData)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = binary.BigEndian.AppendUint64(dst, pn)
	return binary.BigEndian.AppendUint64(dst, uint64(off))
}

func decodeBulkData(rec []byte) (bulkData, error) {
	if len(rec) <= bulkDataHeader || rec[0] != recBulkData {
		return bulkData{}, fmt.Errorf("%w: bulk data record of %d bytes", errs.Protocol, len(rec))
	}
	d := bulkData{
		id:      binary.BigEndian.Uint32(rec[1:]),
		pn:      binary.BigEndian.Uint64(rec[5:]),
		off:     int64(binary.BigEndian.Uint64(rec[13:])),
		payload: rec[bulkDataHeader:],
	}
	if d.off < 0 || d.off > maxBulkOffset {
		return bulkData{}, fmt.Errorf("%w: bulk offset %d", errs.Protocol, d.off)
	}
	return d, nil
}

// maxBulkOffset bounds offsets (and so body sizes) to 2^56 bytes, far from
// overflow in any sum of an offset and a window.
const maxBulkOffset = 1 << 56

// pnRange is an inclusive range of packet numbers.
type pnRange struct{ lo, hi uint64 }

// bulkAck acknowledges packets of transfer id. cum is the number of body
// bytes received without a gap; the sender may send bytes below limit.
// ranges are the packet numbers received, highest first, disjoint and
// not adjacent; ranges[0].hi is the largest, received delay after it
// arrived. chunk is the data size per packet the receiver expects.
type bulkAck struct {
	id     uint32
	delay  uint32 // microseconds
	cum    int64
	limit  int64
	chunk  int
	ranges []pnRange
}

func (a *bulkAck) append(dst []byte) []byte {
	dst = append(dst, recBulkAck)
	dst = binary.BigEndian.AppendUint32(dst, a.id)
	var largest uint64
	if len(a.ranges) > 0 {
		largest = a.ranges[0].hi
	}
	dst = binary.BigEndian.AppendUint64(dst, largest)
	dst = binary.BigEndian.AppendUint32(dst, a.delay)
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.cum))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.limit))
	dst = binary.BigEndian.AppendUint16(dst, uint16(a.chunk))
	n := min(len(a.ranges), bulkMaxRanges)
	dst = append(dst, byte(n))
	// Ranges are sent as (missing packets below the previous range, minus
	// one after the first range; length - 1), both as uint32: compact, and
	// unable to describe overlapping or adjacent ranges.
	prevLo := largest + 1
	for i, r := range a.ranges[:n] {
		gap := prevLo - 1 - r.hi
		if i > 0 {
			gap--
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(gap))
		dst = binary.BigEndian.AppendUint32(dst, uint32(r.hi-r.lo))
		prevLo = r.lo
	}
	return dst
}

// decodeBulkAck parses an ack into a (reused) ranges slice.
func decodeBulkAck(rec []byte, a *bulkAck) error {
	if len(rec) < bulkAckFixed || rec[0] != recBulkAck {
		return fmt.Errorf("%w: bulk ack of %d bytes", errs.Protocol, len(rec))
	}
	a.id = binary.BigEndian.Uint32(rec[1:])
	largest := binary.BigEndian.Uint64(rec[5:])
	a.delay = binary.BigEndian.Uint32(rec[13:])
	a.cum = int64(binary.BigEndian.Uint64(rec[17:]))
	a.limit = int64(binary.BigEndian.Uint64(rec[25:]))
	a.chunk = int(binary.BigEndian.Uint16(rec[33:]))
	n := int(rec[35])
	if a.cum < 0 || a.cum > maxBulkOffset || a.limit < 0 || a.limit > maxBulkOffset {
		return fmt.Errorf("%w: bulk ack offsets %d/%d", errs.Protocol, a.cum, a.limit)
	}
	if a.chunk < bulkMinChunk || a.chunk > bulkMaxChunk {
		return fmt.Errorf("%w: bulk ack chunk size %d", errs.Protocol, a.chunk)
	}
	if n > bulkMaxRanges || len(rec) != bulkAckFixed+8*n {
		return fmt.Errorf("%w: bulk ack with %d ranges in %d bytes", errs.Protocol, n, len(rec))
	}
	a.ranges = a.ranges[:0]
	next := largest // highest packet number the next range may end at
	for i := range n {
		p := rec[bulkAckFixed+8*i:]
		gap := uint64(binary.BigEndian.Uint32(p))
		length := uint64(binary.BigEndian.Uint32(p[4:]))
		if i > 0 {
			gap++ // ranges after the first are separated by at least one missing packet
		} else if gap != 0 {
			return fmt.Errorf("%w: bulk ack's first range does not end at its largest packet", errs.Protocol)
		}
		if gap > next {
			return fmt.Errorf("%w: bulk ack range below packet 0", errs.Protocol)
		}
		hi := next - gap
		if length > hi {
			return fmt.Errorf("%w: bulk ack range below packet 0", errs.Protocol)
		}
		lo := hi - length
		a.ranges = append(a.ranges, pnRange{lo, hi})
		if lo == 0 {
			if i != n-1 {
				return fmt.Errorf("%w: bulk ack range below packet 0", errs.Protocol)
			}
			break
		}
		next = lo - 1
	}
	if n == 0 && largest != 0 {
		return fmt.Errorf("%w: bulk ack without ranges names packet %d", errs.Protocol, largest)
	}
	return nil
}

// bulkAbort ends a transfer early: recBulkStop from the receiver,
// recBulkAbort from the sender.
type bulkAbort struct {
	tag  byte
	id   uint32
	code byte
}

// Abort codes.
const (
	abortCanceled byte = 1 // the application gave up (context, write error)
	abortTooLarge byte = 2 // the body exceeds the receiver's limit
	abortProtocol byte = 3 // the peer broke the protocol
	abortUnknown  byte = 4 // no such transfer (any more)
)

func (b bulkAbort) append(dst []byte) []byte {
	dst = append(dst, b.tag)
	dst = binary.BigEndian.AppendUint32(dst, b.id)
	return append(dst, b.code)
}

func decodeBulkAbort(rec []byte) (bulkAbort, error) {
	if len(rec) != bulkAbortSize || (rec[0] != recBulkStop && rec[0] != recBulkAbort) {
		return bulkAbort{}, fmt.Errorf("%w: bulk abort of %d bytes", errs.Protocol, len(rec))
	}
	return bulkAbort{tag: rec[0], id: binary.BigEndian.Uint32(rec[1:]), code: rec[5]}, nil
}

func abortReason(code byte) string {
	switch code {
	case abortCanceled:
		return "canceled"
	case abortTooLarge:
		return "body too large"
	case abortProtocol:
		return "protocol error"
	case abortUnknown:
		return "unknown transfer"
	}
	return fmt.Sprintf("code %d", code)
}
