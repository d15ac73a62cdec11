package identity

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	peerA = "11111111-1111-4111-8111-111111111111"
	peerB = "22222222-2222-4222-8222-222222222222"
	keyA  = "aaaa"
	keyB  = "bbbb"
	keyC  = "cccc"
)

func openTrust(t *testing.T, path string) *TrustStore {
	t.Helper()
	s, err := OpenTrustStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTrust(t *testing.T) (*TrustStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trust.json")
	return openTrust(t, path), path
}

// trustStep is one call on a TrustStore and what it must answer.
type trustStep struct {
	op       string // "check", "trust", "verify", "untrust"
	id, fp   string
	state    TrustState // state returned (check) or stored (trust)
	err      error      // sentinel the call must return, nil for none
	pinned   string     // fingerprint stored afterwards ("" to skip)
	offered  string     // Offered stored afterwards
	stateNow TrustState // Get(id).State afterwards ("" to skip)
}

func TestTrustStoreSequences(t *testing.T) {
	tests := []struct {
		name  string
		steps []trustStep
	}{
		{"first use pins", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned, pinned: keyA, stateNow: TrustPinned},
		}},
		{"same key again is accepted", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyA, state: TrustPinned, pinned: keyA, stateNow: TrustPinned},
		}},
		// A key other than the pinned one is refused and kept as a
		// candidate, and nothing else moves: the pinned peer keeps working.
		{"another key is refused, the pin stays", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, state: TrustPinned, err: ErrIdentityChanged, pinned: keyA, offered: keyB, stateNow: TrustPinned},
			{op: "check", id: peerA, fp: keyA, state: TrustPinned, pinned: keyA, offered: keyB, stateNow: TrustPinned},
		}},
		{"a third key replaces the candidate", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "check", id: peerA, fp: keyC, err: ErrIdentityChanged, pinned: keyA, offered: keyC, stateNow: TrustPinned},
		}},
		{"re-trust with empty key never takes the candidate", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "trust", id: peerA, fp: "", state: TrustPinned, pinned: keyA, offered: keyB, stateNow: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
		}},
		{"naming the candidate adopts it", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "verify", id: peerA, fp: keyB, state: TrustVerified, pinned: keyB, stateNow: TrustVerified},
			{op: "check", id: peerA, fp: keyB, state: TrustVerified},
			{op: "check", id: peerA, fp: keyA, state: TrustVerified, err: ErrIdentityChanged, pinned: keyB, offered: keyA},
		}},
		{"re-trust with the old key keeps it", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "trust", id: peerA, fp: keyA, state: TrustPinned, pinned: keyA, stateNow: TrustPinned},
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
		}},
		{"trust with empty key and no change keeps the pin", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "verify", id: peerA, fp: "", state: TrustVerified, pinned: keyA, stateNow: TrustVerified},
		}},
		{"trust with empty key for an unknown peer", []trustStep{
			{op: "trust", id: peerA, fp: "", err: ErrNotPinned, stateNow: TrustNew},
		}},
		{"verified survives checks with the same key", []trustStep{
			{op: "verify", id: peerA, fp: keyA, state: TrustVerified, pinned: keyA},
			{op: "check", id: peerA, fp: keyA, state: TrustVerified, stateNow: TrustVerified},
		}},
		{"verified peer with a changed key is refused", []trustStep{
			{op: "verify", id: peerA, fp: keyA, state: TrustVerified},
			{op: "check", id: peerA, fp: keyB, state: TrustVerified, err: ErrIdentityChanged, pinned: keyA, offered: keyB, stateNow: TrustVerified},
		}},
		{"trusting ahead of first contact", []trustStep{
			{op: "trust", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
		}},
		{"untrust forgets and the next contact pins again", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "untrust", id: peerA, stateNow: TrustNew},
			{op: "check", id: peerA, fp: keyB, state: TrustPinned, pinned: keyB, stateNow: TrustPinned},
		}},
		{"untrust of an unknown peer", []trustStep{
			{op: "untrust", id: peerA, err: ErrNotPinned, stateNow: TrustNew},
		}},
		{"peers are independent", []trustStep{
			{op: "check", id: peerA, fp: keyA, state: TrustPinned},
			{op: "check", id: peerB, fp: keyB, state: TrustPinned},
			{op: "check", id: peerA, fp: keyB, err: ErrIdentityChanged},
			{op: "check", id: peerB, fp: keyB, state: TrustPinned, pinned: keyB, stateNow: TrustPinned},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTrust(t)
			for i, st := range tt.steps {
				var state TrustState
				var err error
				switch st.op {
				case "check":
					state, err = s.Check(st.id, st.fp)
				case "trust", "verify":
					var e TrustEntry
					e, err = s.Trust(st.id, st.fp, st.op == "verify")
					state = e.State
				case "untrust":
					err = s.Untrust(st.id)
				default:
					t.Fatalf("step %d: unknown op %q", i, st.op)
				}
				if st.err == nil && err != nil {
					t.Fatalf("step %d %s(%s): unexpected error %v", i, st.op, st.fp, err)
				}
				if st.err != nil && !errors.Is(err, st.err) {
					t.Fatalf("step %d %s(%s): err = %v, want %v", i, st.op, st.fp, err, st.err)
				}
				if st.state != "" && state != st.state {
					t.Fatalf("step %d %s(%s): state %q, want %q", i, st.op, st.fp, state, st.state)
				}
				got := s.Get(st.id)
				if st.pinned != "" && got.Fingerprint != st.pinned {
					t.Fatalf("step %d: pinned %q, want %q", i, got.Fingerprint, st.pinned)
				}
				if st.offered != "" && got.Offered != st.offered {
					t.Fatalf("step %d: offered %q, want %q", i, got.Offered, st.offered)
				}
				if st.stateNow != "" && got.State != st.stateNow {
					t.Fatalf("step %d: stored state %q, want %q", i, got.State, st.stateNow)
				}
				if got.State == TrustChanged {
					t.Fatalf("step %d: state changed is never stored", i)
				}
			}
		})
	}
}

func TestTrustStorePersists(t *testing.T) {
	s, path := newTrust(t)
	if _, err := s.Check(peerA, keyA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(peerA, keyB); !errors.Is(err, ErrIdentityChanged) {
		t.Fatalf("err = %v, want ErrIdentityChanged", err)
	}
	if _, err := s.Trust(peerB, keyC, true); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("trust file mode %v, want 0600", st.Mode().Perm())
	}

	// An offered key never reaches the disk: what strangers offer costs no
	// writes and is gone after a restart; the pin is kept.
	if data, err := os.ReadFile(path); err != nil || strings.Contains(string(data), keyB) {
		t.Fatalf("trust file holds the offered key: %s, %v", data, err)
	}
	re := openTrust(t, path)
	if got := re.Get(peerA); got.State != TrustPinned || got.Fingerprint != keyA || got.Offered != "" {
		t.Fatalf("reopened %s = %+v", peerA, got)
	}
	if got := re.Get(peerB); got.State != TrustVerified || got.Fingerprint != keyC {
		t.Fatalf("reopened %s = %+v", peerB, got)
	}
	if _, err := re.Check(peerA, keyA); err != nil {
		t.Fatalf("after reopen, the pinned key: %v", err)
	}
	list := re.List()
	if len(list) != 2 || list[0].ID != peerA || list[1].ID != peerB {
		t.Fatalf("List = %+v", list)
	}

	if err := re.Untrust(peerA); err != nil {
		t.Fatal(err)
	}
	if got := openTrust(t, path).Get(peerA); got.State != TrustNew {
		t.Fatalf("untrusted peer after reopen = %+v", got)
	}
}

func TestOpenTrustStoreFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" with missing: no file at all
		missing bool
		wantErr bool
		entries int
	}{
		{name: "missing file is an empty store", missing: true},
		{name: "empty list", content: "[]"},
		{name: "null", content: "null"},
		{name: "one entry", content: `[{"id":"` + peerA + `","fingerprint":"aaaa","state":"pinned","since":"2024-01-01T00:00:00Z"}]`, entries: 1},
		{name: "truncated json", content: `[{"id":"` + peerA + `","finger`, wantErr: true},
		{name: "not json", content: "\x00\x01garbage", wantErr: true},
		{name: "object instead of list", content: `{"id":"x"}`, wantErr: true},
		{name: "empty file", content: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trust.json")
			if !tt.missing {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := OpenTrustStore(path)
			if tt.wantErr {
				if err == nil {
					t.Fatal("corrupt trust store opened without error")
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(s.List()); n != tt.entries {
				t.Fatalf("%d entries, want %d", n, tt.entries)
			}
		})
	}
}

func TestTrustStoreOnChange(t *testing.T) {
	s, _ := newTrust(t)
	var mu sync.Mutex
	var seen []TrustState
	s.OnChange(func(e TrustEntry) {
		mu.Lock()
		seen = append(seen, e.State)
		mu.Unlock()
	})
	_, _ = s.Check(peerA, keyA) // pins: change
	_, _ = s.Check(peerA, keyA) // same: no change
	_, _ = s.Check(peerA, keyB) // another key: refused, no change
	_, _ = s.Check(peerA, keyA) // same: no change
	_, _ = s.Trust(peerA, "", true)
	_ = s.Untrust(peerA)
	want := []TrustState{TrustPinned, TrustVerified, TrustNew}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(want) {
		t.Fatalf("notifications %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("notifications %v, want %v", seen, want)
		}
	}
}

// TestTrustStoreLegacyChanged: a store written by the version that marked
// peers changed loads with the pin kept and the offered key a candidate.
func TestTrustStoreLegacyChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trust.json")
	legacy := `[{"id":"` + peerA + `","fingerprint":"aaaa","state":"changed","offered":"bbbb","since":"2024-01-01T00:00:00Z"}]`
	if err := os.WriteFile(path, []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTrust(t, path)
	if got := s.Get(peerA); got.State != TrustPinned || got.Fingerprint != keyA || got.Offered != keyB {
		t.Fatalf("legacy changed entry loads as %+v", got)
	}
	if _, err := s.Check(peerA, keyA); err != nil {
		t.Fatalf("the pinned key after loading: %v", err)
	}
}

// TestTrustStoreBoundsCandidates: strangers offering keys for many ids
// cost bounded memory.
func TestTrustStoreBoundsCandidates(t *testing.T) {
	s, _ := newTrust(t)
	for i := range 3 * maxOffered {
		id := fmt.Sprintf("%08d-1111-4111-8111-111111111111", i)
		if _, err := s.Trust(id, keyA, false); err != nil {
			t.Fatal(err)
		}
		_, _ = s.Check(id, keyB)
	}
	if n := len(s.offered); n != maxOffered || len(s.offeredOrder) != maxOffered {
		t.Fatalf("%d candidates kept (%d in order), want %d", n, len(s.offeredOrder), maxOffered)
	}
}

func TestTrustStoreWriteFailureKeepsMemory(t *testing.T) {
	// A vanished directory makes every save fail, even for root.
	dir := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := openTrust(t, filepath.Join(dir, "trust.json"))
	if _, err := s.Check(peerA, keyA); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// A first-contact pin is saved within saveDelay with any others (a
	// stranger's handshake costs no file write of its own): it holds in
	// memory, and the failed save shows when the store is flushed.
	if _, err := s.Check(peerB, keyB); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err == nil {
		t.Fatal("flush reported success though the pin could not be saved")
	}
	if _, err := s.Check(peerA, keyB); err == nil {
		t.Fatal("changed key accepted while the store cannot be saved")
	}
	if _, err := s.Trust(peerA, keyC, true); err == nil {
		t.Fatal("trust reported success though it could not be saved")
	}
	if err := s.Untrust(peerA); err == nil {
		t.Fatal("untrust reported success though it could not be saved")
	}
	if got := s.Get(peerA); got.State != TrustPinned || got.Fingerprint != keyA {
		t.Fatalf("unsaved changes applied in memory: %+v", got)
	}
}

// TestTrustStoreBoundsStrangers: fresh identities cannot grow trust.json
// for good: over maxPinned unverified pins, the one heard from longest ago
// is forgotten, verified pins never are, and a peer in use (Touch) stays;
// pins made on first contact reach the disk together within saveDelay.
func TestTrustStoreBoundsStrangers(t *testing.T) {
	defer func(n int, d, g time.Duration) { maxPinned, saveDelay, saveGap = n, d, g }(maxPinned, saveDelay, saveGap)
	maxPinned, saveDelay, saveGap = 50, 50*time.Millisecond, 0
	s, path := newTrust(t)
	if _, err := s.Trust(peerA, keyA, true); err != nil { // verified
		t.Fatal(err)
	}
	if _, err := s.Check(peerB, keyB); err != nil { // a colleague, pinned
		t.Fatal(err)
	}
	for i := range 500 {
		s.Touch(peerB) // in use all along
		if _, err := s.Check(fmt.Sprintf("%08d-2222-4222-8222-222222222222", i), keyC); err != nil {
			t.Fatal(err)
		}
	}
	unverified := 0
	for _, e := range s.List() {
		if e.State != TrustVerified {
			unverified++
		}
	}
	if unverified > maxPinned {
		t.Errorf("%d unverified pins kept, bound %d", unverified, maxPinned)
	}
	if s.Get(peerA).State != TrustVerified || s.Get(peerB).State != TrustPinned {
		t.Errorf("a verified or an in-use pin was forgotten: %+v %+v", s.Get(peerA), s.Get(peerB))
	}
	time.Sleep(3 * saveDelay)
	reopened := openTrust(t, path)
	if n := len(reopened.List()); n != unverified+1 {
		t.Errorf("trust.json holds %d entries, memory %d", n, unverified+1)
	}
}

// TestFirstContactPinsWrittenOncePerGap: a burst of first contacts writes
// trust.json saveDelay after the first pin and then at most once per
// saveGap, each pin on disk by the next write; Flush writes at once.
func TestFirstContactPinsWrittenOncePerGap(t *testing.T) {
	defer func(d, g time.Duration) { saveDelay, saveGap = d, g }(saveDelay, saveGap)
	saveDelay, saveGap = 20*time.Millisecond, 400*time.Millisecond
	s, path := newTrust(t)
	onDisk := func() int {
		t.Helper()
		return len(openTrust(t, path).List())
	}
	start := time.Now()
	if _, err := s.Check(peerA, keyA); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := onDisk(); n != 1 {
		t.Fatalf("%d pins on disk %v after the first, want 1", n, saveDelay)
	}
	if _, err := s.Check(peerB, keyB); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := onDisk(); n != 1 && time.Since(start) < saveGap {
		t.Fatalf("%d pins on disk within the gap after a write, want 1", n)
	}
	time.Sleep(saveGap)
	if n := onDisk(); n != 2 {
		t.Fatalf("%d pins on disk a gap later, want 2", n)
	}
	if _, err := s.Check("33333333-3333-4333-8333-333333333333", keyC); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := onDisk(); n != 3 {
		t.Fatalf("%d pins on disk after Flush, want 3", n)
	}
}
