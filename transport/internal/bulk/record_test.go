package bulk

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
)

// testKeyPair returns the two ends' bulk keys as NewKeys would derive
// them from one handshake: each side's sealing key is the other's opening
// key.
func testKeyPair(t testing.TB) (a, b *Keys) {
	t.Helper()
	km := make([]byte, 40)
	if _, err := rand.Read(km); err != nil {
		t.Fatal(err)
	}
	mk := func(sk, ok, ss, os []byte) *Keys {
		k := &Keys{}
		var err error
		if k.seal, err = newGCM(sk); err != nil {
			t.Fatal(err)
		}
		if k.open, err = newGCM(ok); err != nil {
			t.Fatal(err)
		}
		copy(k.sealSalt[:], ss)
		copy(k.openSalt[:], os)
		return k
	}
	return mk(km[0:16], km[16:32], km[32:36], km[36:40]), mk(km[16:32], km[0:16], km[36:40], km[32:36])
}

func sealTest(t testing.TB, k *Keys, plain []byte) []byte {
	t.Helper()
	rec, err := k.sealRecord(append(newMessage(len(plain)), plain...))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(rec)
}

func TestBulkRecordRoundTrip(t *testing.T) {
	a, b := testKeyPair(t)
	for _, msg := range [][]byte{{recBulkAck}, bytes.Repeat([]byte{recBulkData, 7}, 700)} {
		rec := sealTest(t, a, msg)
		if !IsRecord(rec) || len(rec) != len(msg)+bulkRecordOverhead {
			t.Fatalf("record of %d bytes for %d-byte message is not a bulk record", len(rec), len(msg))
		}
		got, err := b.openRecord(rec)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("open: %v (equal %v)", err, bytes.Equal(got, msg))
		}
	}
	// Its own records do not open with the same side's keys: each
	// direction has its own key.
	if _, err := a.openRecord(sealTest(t, a, []byte{recBulkAck})); err == nil {
		t.Fatal("a side opened its own record")
	}
}

// Sealing and opening run once per packet, a million times per GiB: they
// must not allocate (each allocation there was garbage the GC chased).
func TestBulkRecordNoAllocs(t *testing.T) {
	a, b := testKeyPair(t)
	msg := bytes.Repeat([]byte{recBulkData}, 1200)
	buf := append(newMessage(len(msg)), msg...)
	rec := make([]byte, 0, cap(buf))
	allocs := testing.AllocsPerRun(100, func() {
		sealed, err := a.sealRecord(append(buf[:0], buf[:bulkPrefix+len(msg)]...))
		if err != nil {
			t.Fatal(err)
		}
		rec = append(rec[:0], sealed...)
		if _, err := b.openRecord(rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("seal and open of one record: %.1f allocations, want 0", allocs)
	}
}

func TestBulkRecordRejects(t *testing.T) {
	a, b := testKeyPair(t)
	good := sealTest(t, a, []byte("some bulk message bytes"))
	flip := func(i int) []byte { r := bytes.Clone(good); r[i] ^= 1; return r }
	_, other := testKeyPair(t)
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"header only", good[:dtlsHeaderSize]},
		{"truncated", good[:len(good)-1]},
		{"length field wrong", flip(12)},
		{"content type", flip(0)},
		{"version", flip(2)},
		{"epoch", flip(4)},
		{"sequence", flip(10)},
		{"explicit nonce", flip(dtlsHeaderSize + 1)},
		{"ciphertext", flip(dtlsHeaderSize + gcmExplicitNonce + 2)},
		{"tag", flip(len(good) - 1)},
		{"other session's keys", sealTest(t, other, []byte("some bulk message bytes"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := b.openRecord(bytes.Clone(tc.rec)); !errors.Is(err, errs.Protocol) {
				t.Fatalf("opened a bad record: %v", err)
			}
		})
	}
	// The good one still opens (no rejected record advanced the window),
	// once.
	if _, err := b.openRecord(bytes.Clone(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.openRecord(bytes.Clone(good)); !errors.Is(err, errs.Protocol) {
		t.Fatalf("replayed record opened: %v", err)
	}
}

// TestBulkRecordReplayWindow opens records out of order and replays every
// one of them: each opens exactly once, and records older than the window
// are refused.
func TestBulkRecordReplayWindow(t *testing.T) {
	a, b := testKeyPair(t)
	const n = 5000
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = sealTest(t, a, []byte{recBulkAck, byte(i)})
	}
	opened := make([]int, n)
	open := func(i int) {
		if _, err := b.openRecord(bytes.Clone(recs[i])); err == nil {
			opened[i]++
		}
	}
	// Deliver in blocks of 100 in reverse order within each block (heavy
	// reordering inside the window), then replay everything seen so far
	// from the last 2,000 records.
	for blk := 0; blk < n; blk += 100 {
		for i := blk + 99; i >= blk; i-- {
			open(i)
		}
		for i := max(0, blk-2000); i < blk+100; i++ {
			open(i)
		}
	}
	for i, c := range opened {
		if c != 1 {
			t.Fatalf("record %d opened %d times", i, c)
		}
	}
	// A record far behind the newest is refused even if never seen.
	fresh := sealTest(t, a, []byte{recBulkAck})
	for range replayBits + 10 {
		sealTest(t, a, []byte{recBulkAck})
	}
	if _, err := b.openRecord(sealTest(t, a, []byte{recBulkAck})); err != nil {
		t.Fatal(err)
	}
	if _, err := b.openRecord(fresh); !errors.Is(err, errs.Protocol) {
		t.Fatalf("record older than the window opened: %v", err)
	}
}
