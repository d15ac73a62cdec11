package bulk

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/peerdesk/peerdesk/transport/internal/errs"
	"github.com/pion/dtls/v2"
)

// Bulk records. The bulk channel's messages travel in DTLS 1.2
// application-data records of their own epoch (bulkEpoch), protected with
// AES-128-GCM under keys exported from the session's DTLS handshake
// (RFC 5705, as DTLS-SRTP keys SRTP). They share the session's UDP flow;
// the datagram layer hands them to the bulk channel before pion sees them
// (pion would drop a record of an unknown epoch anyway). Only a peer that
// completed the mutually authenticated, pinned handshake has the keys.
//
// Why not pion's own records: pion/dtls v2.2.12 allocates and copies each
// record several times and hands it between two goroutines; measured, that
// is 10-14 µs per record, which at 1,400-byte records is more CPU than a
// two-core machine has for a 1 Gbit/s link (docs/transport.md). These
// records are sealed and opened in place, without allocation.

const (
	// bulkEpoch marks bulk records; pion's epochs are 0 and 1.
	bulkEpoch = 0xB0B0
	// bulkExporterLabel derives the bulk keys (RFC 5705 exporter).
	bulkExporterLabel = "EXPORTER-peerdesk-bulk-1"
	dtlsHeaderSize    = 13
	gcmExplicitNonce  = 8
	gcmTag            = 16
	// bulkRecordOverhead is a record's header, explicit nonce and tag.
	bulkRecordOverhead = dtlsHeaderSize + gcmExplicitNonce + gcmTag
	// replayBits is the size of the replay bitmap; replayWindow is how far
	// behind the newest record an older one may arrive (reordering) and
	// still be taken once. The window is one bitmap word short of the
	// bitmap: the word the newest record moves into is cleared, and the
	// records it held before must already count as too old.
	replayBits   = 1024
	replayWindow = replayBits - 64
)

// Keys seals the records this side sends and opens the peer's.
type Keys struct {
	seal, open         cipher.AEAD
	sealSalt, openSalt [4]byte
	seq                atomic.Uint64

	mu     sync.Mutex
	newest uint64 // highest sequence number opened, plus one
	seen   [replayBits / 64]uint64
}

func NewKeys(state dtls.State, client bool) (*Keys, error) {
	km, err := state.ExportKeyingMaterial(bulkExporterLabel, nil, 2*16+2*4)
	if err != nil {
		return nil, fmt.Errorf("bulk keys: %w", err)
	}
	ck, sk, cs, ss := km[0:16], km[16:32], km[32:36], km[36:40]
	if !client {
		ck, sk, cs, ss = sk, ck, ss, cs
	}
	k := &Keys{}
	if k.seal, err = newGCM(ck); err != nil {
		return nil, err
	}
	if k.open, err = newGCM(sk); err != nil {
		return nil, err
	}
	copy(k.sealSalt[:], cs)
	copy(k.openSalt[:], ss)
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// recordScratch holds a record's nonce and additional data while it is
// sealed or opened. On the stack they would escape through the AEAD
// interface: two allocations per packet, 20 MB of garbage per GiB moved.
type recordScratch struct {
	nonce [12]byte
	aad   [13]byte
}

var scratchPool = sync.Pool{New: func() any { return new(recordScratch) }}

func getScratch() *recordScratch { return scratchPool.Get().(*recordScratch) }

// fill builds the GCM nonce (salt, explicit part) and the DTLS additional
// data (epoch and sequence, type, version, plaintext length).
func (s *recordScratch) fill(salt [4]byte, explicit, seq []byte, n int) (nonce, aad []byte) {
	copy(s.nonce[:4], salt[:])
	copy(s.nonce[4:], explicit)
	copy(s.aad[:8], seq)
	s.aad[8], s.aad[9], s.aad[10] = 23, 0xfe, 0xfd
	binary.BigEndian.PutUint16(s.aad[11:], uint16(n))
	return s.nonce[:], s.aad[:]
}

// IsRecord reports whether a datagram is a bulk record (one record
// per datagram).
func IsRecord(d []byte) bool {
	return len(d) >= bulkRecordOverhead && d[0] == 23 && d[1] == 0xfe && d[2] == 0xfd &&
		binary.BigEndian.Uint16(d[3:]) == bulkEpoch
}

// sealRecord turns buf, which holds bulkRecordOverhead-gcmTag bytes of room
// followed by the plaintext, into a record (in place) and returns it.
func (k *Keys) sealRecord(buf []byte) ([]byte, error) {
	n := len(buf) - dtlsHeaderSize - gcmExplicitNonce
	seq := k.seq.Add(1) - 1
	if seq >= 1<<48 {
		return nil, fmt.Errorf("bulk records: sequence numbers exhausted")
	}
	hdr := buf[:dtlsHeaderSize]
	hdr[0], hdr[1], hdr[2] = 23, 0xfe, 0xfd
	binary.BigEndian.PutUint64(hdr[3:], uint64(bulkEpoch)<<48|seq) // epoch and 48-bit sequence
	binary.BigEndian.PutUint16(hdr[11:], uint16(gcmExplicitNonce+n+gcmTag))
	explicit := buf[dtlsHeaderSize : dtlsHeaderSize+gcmExplicitNonce]
	copy(explicit, hdr[3:11])
	sc := getScratch()
	defer scratchPool.Put(sc)
	nonce, aad := sc.fill(k.sealSalt, explicit, hdr[3:11], n)
	plain := buf[dtlsHeaderSize+gcmExplicitNonce:]
	out := k.seal.Seal(plain[:0], nonce, plain, aad)
	return buf[:dtlsHeaderSize+gcmExplicitNonce+len(out)], nil
}

// openRecord authenticates and decrypts a bulk record in place and returns
// its plaintext; a forged, damaged or replayed record is an error.
func (k *Keys) openRecord(d []byte) ([]byte, error) {
	if !IsRecord(d) || int(binary.BigEndian.Uint16(d[11:])) != len(d)-dtlsHeaderSize {
		return nil, fmt.Errorf("%w: malformed bulk record", errs.Protocol)
	}
	seq := binary.BigEndian.Uint64(d[3:]) & (1<<48 - 1)
	if !k.fresh(seq) {
		return nil, fmt.Errorf("%w: replayed bulk record", errs.Protocol)
	}
	explicit := d[dtlsHeaderSize : dtlsHeaderSize+gcmExplicitNonce]
	sc := getScratch()
	defer scratchPool.Put(sc)
	nonce, aad := sc.fill(k.openSalt, explicit, d[3:11], len(d)-bulkRecordOverhead)
	ct := d[dtlsHeaderSize+gcmExplicitNonce:]
	plain, err := k.open.Open(ct[:0], nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: bulk record fails authentication", errs.Protocol)
	}
	k.accept(seq)
	return plain, nil
}

// fresh reports whether seq has not been opened before (and is not too
// old to tell).
func (k *Keys) fresh(seq uint64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if seq >= k.newest {
		return true
	}
	if k.newest-seq > replayWindow {
		return false
	}
	return k.seen[(seq/64)%uint64(len(k.seen))]&(1<<(seq%64)) == 0
}

// accept records seq as opened (after it authenticated).
func (k *Keys) accept(seq uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for seq >= k.newest {
		// Slide the window: clear the words that fall out of it.
		if k.newest%64 == 0 || k.newest == 0 {
			k.seen[(k.newest/64)%uint64(len(k.seen))] = 0
		}
		if seq-k.newest > replayBits {
			k.seen = [replayBits / 64]uint64{}
			k.newest = seq
		}
		k.newest++
	}
	k.seen[(seq/64)%uint64(len(k.seen))] |= 1 << (seq % 64)
}
