package bulk

import (
	"bytes"
	"errors"
	"testing"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

// FuzzDecodeBulkAck: any input decodes to a valid ack (ranges disjoint,
// descending, not adjacent, offsets in bounds) or fails with errs.Protocol;
// a decoded ack encodes back to the same bytes.
func FuzzDecodeBulkAck(f *testing.F) {
	for _, a := range []bulkAck{
		{id: 1, cum: 0, limit: 8 << 20, chunk: 1400},
		{id: 7, delay: 250, cum: 1 << 20, limit: 9 << 20, chunk: 1429, ranges: []pnRange{{10, 20}, {3, 5}, {0, 1}}},
		{id: 9, cum: 5, limit: 5, chunk: bulkMaxChunk, ranges: []pnRange{{1 << 40, 1<<40 + 3}}},
	} {
		f.Add(a.append(nil))
	}
	f.Add([]byte{recBulkAck})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var a bulkAck
		if err := decodeBulkAck(rec, &a); err != nil {
			if !errors.Is(err, errs.Protocol) {
				t.Fatalf("error %v is not errs.Protocol", err)
			}
			return
		}
		if a.cum < 0 || a.limit < 0 || a.cum > maxBulkOffset || a.limit > maxBulkOffset {
			t.Fatalf("offsets out of bounds: %+v", a)
		}
		for i, r := range a.ranges {
			if r.lo > r.hi {
				t.Fatalf("range %d inverted: %+v", i, r)
			}
			if i > 0 && a.ranges[i-1].lo <= r.hi+1 {
				t.Fatalf("ranges %d and %d overlap or touch: %+v", i-1, i, a.ranges)
			}
		}
		if again := a.append(nil); !bytes.Equal(again, rec) {
			t.Fatalf("round trip changed the ack:\n in  %x\n out %x", rec, again)
		}
	})
}

// FuzzDecodeBulkData: a decoded chunk has a payload and an offset in
// bounds, and encodes back to the same bytes.
func FuzzDecodeBulkData(f *testing.F) {
	f.Add(append(appendBulkDataHeader(nil, 3, 17, 1400*5), "chunk bytes"...))
	f.Add(appendBulkDataHeader(nil, 3, 17, 0))
	f.Add(append(appendBulkDataHeader(nil, 1, 0, -1), 1))
	f.Fuzz(func(t *testing.T, rec []byte) {
		d, err := decodeBulkData(rec)
		if err != nil {
			if !errors.Is(err, errs.Protocol) {
				t.Fatalf("error %v is not errs.Protocol", err)
			}
			return
		}
		if len(d.payload) == 0 || d.off < 0 || d.off > maxBulkOffset {
			t.Fatalf("accepted %+v", d)
		}
		if again := append(appendBulkDataHeader(nil, d.id, d.pn, d.off), d.payload...); !bytes.Equal(again, rec) {
			t.Fatalf("round trip changed the chunk")
		}
	})
}

// FuzzDecodeBulkStartAbort covers the two small fixed-size messages.
func FuzzDecodeBulkStartAbort(f *testing.F) {
	f.Add(bulkStart{id: 4, maxChunk: 1429}.append(nil))
	f.Add(bulkAbort{tag: recBulkStop, id: 4, code: abortTooLarge}.append(nil))
	f.Add(bulkAbort{tag: recBulkAbort, id: 1 << 31, code: 99}.append(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		if s, err := decodeBulkStart(p); err == nil {
			if s.maxChunk < bulkMinChunk || s.maxChunk > bulkMaxChunk || !bytes.Equal(s.append(nil), p) {
				t.Fatalf("accepted start %+v from %x", s, p)
			}
		} else if !errors.Is(err, errs.Protocol) {
			t.Fatalf("error %v is not errs.Protocol", err)
		}
		if b, err := decodeBulkAbort(p); err == nil {
			if (b.tag != recBulkStop && b.tag != recBulkAbort) || !bytes.Equal(b.append(nil), p) {
				t.Fatalf("accepted abort %+v from %x", b, p)
			}
			_ = abortReason(b.code)
		} else if !errors.Is(err, errs.Protocol) {
			t.Fatalf("error %v is not errs.Protocol", err)
		}
	})
}

// FuzzOpenBulkRecord: no input but a record sealed with the peer's key
// opens, whatever is changed in it, and none opens twice.
func FuzzOpenBulkRecord(f *testing.F) {
	a, _ := testKeyPair(f)
	good := sealTest(f, a, []byte{recBulkAck, 1, 2, 3})
	f.Add(good, uint16(0), byte(0))
	f.Add(good, uint16(5), byte(1))
	f.Add(good, uint16(len(good)-1), byte(0x80))
	f.Add([]byte{23, 0xfe, 0xfd, 0xb0, 0xb0}, uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, rec []byte, at uint16, flip byte) {
		// Fresh keys per input: every input meets an unused window.
		a, b := testKeyPair(t)
		sealed := sealTest(t, a, []byte{recBulkAck, 1, 2, 3})
		if _, err := b.openRecord(bytes.Clone(rec)); err == nil {
			t.Fatalf("opened a record not sealed with the key: %x", rec)
		}
		if flip != 0 && len(sealed) > 0 {
			bad := bytes.Clone(sealed)
			bad[int(at)%len(bad)] ^= flip
			if _, err := b.openRecord(bad); err == nil {
				t.Fatalf("opened a record with byte %d changed", int(at)%len(bad))
			}
		}
		if _, err := b.openRecord(bytes.Clone(sealed)); err != nil {
			t.Fatalf("sealed record refused: %v", err)
		}
		if _, err := b.openRecord(sealed); err == nil {
			t.Fatal("record opened twice")
		}
	})
}
