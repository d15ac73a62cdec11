package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// TrustState is what this peer knows of another peer's key.
type TrustState string

const (
	// TrustNew: never connected; nothing pinned yet.
	TrustNew TrustState = "new"
	// TrustPinned: the key seen at first contact (or accepted by a person) is pinned.
	TrustPinned TrustState = "pinned"
	// TrustVerified: a person compared verification codes and confirmed the key.
	TrustVerified TrustState = "verified"
	// TrustChanged is no longer stored: an earlier version marked a peer
	// changed when any host offered another key for its id, which let a
	// stranger lock the real peer out (docs/security.md, H1). Entries
	// loaded with it are pinned again, their offered key a candidate.
	TrustChanged TrustState = "changed"
)

// TrustEntry is one pinned peer.
type TrustEntry struct {
	ID          string     `json:"id"`
	Fingerprint string     `json:"fingerprint"`
	State       TrustState `json:"state"`
	// Offered is the last other key a handshake claiming this id presented
	// (since this process started): a candidate a person may adopt by
	// confirming its code, never adopted by itself. Not stored on disk.
	Offered string    `json:"offered,omitempty"`
	Since   time.Time `json:"since"`
}

// TrustStore pins peer fingerprints per peer id (trust on first use) and
// keeps them crash-safe in one file.
type TrustStore struct {
	path    string
	mu      sync.Mutex
	entries map[string]TrustEntry
	// offered are candidate keys by peer id, in memory only and bounded:
	// strangers may offer keys for public ids as often as they like, and
	// none of that may touch the disk or the pinned key.
	offered map[string]string
	// offeredOrder is the ids of offered, oldest first, for eviction.
	offeredOrder []string
	// seen is when each id last handshook or was heard from (Touch), in
	// memory only: it picks the pin to forget when strangers pile up.
	seen map[string]time.Time
	// saveTimer, when set, writes the pins made on first contact: they are
	// saved within saveDelay, together, not one file write each, and no
	// sooner than saveGap after the last write (savedAt).
	saveTimer *time.Timer
	savedAt   time.Time
	// OnChange, if set, is called (outside the lock) after a state changes.
	onChange func(TrustEntry)
}

// Pins made on first contact are bounded: identities are free to make, and
// each stranger's handshake would otherwise add an entry to trust.json for
// good (R2 M1). Over maxPinned unverified pins, the one heard from longest
// ago is forgotten (its next contact pins again); verified pins are never
// forgotten. Variables so that tests can shorten them.
//
// First-contact pins are written saveDelay after the first of them, and
// while they keep coming (a hundred peers starting together) at most once
// per saveGap: each write is the whole store with an fsync, and writing it
// every second was 4% of a first contact's CPU at 100 peers. A pin lost
// to a crash before its write is made again on the next contact, as any
// first contact; trust decisions (Trust, Untrust) are written at once.
var (
	maxPinned = 4096
	saveDelay = time.Second
	saveGap   = 5 * time.Second
)

// maxOffered bounds the candidate keys remembered.
const maxOffered = 256

// OpenTrustStore loads the store at path; a missing file is an empty store.
func OpenTrustStore(path string) (*TrustStore, error) {
	s := &TrustStore{path: path, entries: map[string]TrustEntry{}, offered: map[string]string{}, seen: map[string]time.Time{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read trust store: %w", err)
	}
	var list []TrustEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("read trust store %s: %w", path, err)
	}
	for _, e := range list {
		if e.State == TrustChanged {
			e.State = TrustPinned
		}
		if e.Offered != "" && e.Offered != e.Fingerprint {
			s.offerLocked(e.ID, e.Offered)
		}
		e.Offered = ""
		s.entries[e.ID] = e
		s.seen[e.ID] = e.Since
	}
	return s, nil
}

// OnChange registers fn to hear of every state change.
func (s *TrustStore) OnChange(fn func(TrustEntry)) {
	s.mu.Lock()
	s.onChange = fn
	s.mu.Unlock()
}

// Check decides whether a peer presenting fingerprint fp for id may connect.
// An unknown id is pinned on the spot (trust on first use). A key other than
// the pinned one is refused with ErrIdentityChanged and remembered as a
// candidate (Offered) for a person to look at; the pinned entry is left as it
// is, so the real peer keeps working both ways whoever else claims its id.
func (s *TrustStore) Check(id, fp string) (TrustState, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	switch {
	case ok && e.Fingerprint == fp:
		s.seen[id] = time.Now()
		s.mu.Unlock()
		return e.State, nil
	case ok:
		s.offerLocked(id, fp)
		s.mu.Unlock()
		return e.State, fmt.Errorf("%w: %s presents key code %s, not the pinned code %s; adopt it only if its owner reads that code off their own screen",
			ErrIdentityChanged, id, VerificationCode(fp), VerificationCode(e.Fingerprint))
	}
	e = TrustEntry{ID: id, Fingerprint: fp, State: TrustPinned, Since: time.Now().UTC()}
	forgot := s.makeRoomLocked()
	s.entries[id] = e
	s.seen[id] = time.Now()
	s.saveSoonLocked()
	s.mu.Unlock()
	if forgot != "" {
		s.notify(TrustEntry{ID: forgot, State: TrustNew})
	}
	s.notify(e)
	return e.State, nil
}

// makeRoomLocked forgets the unverified pin heard from longest ago when
// there are maxPinned of them, and returns its id.
func (s *TrustStore) makeRoomLocked() string {
	n, oldest := 0, ""
	for id, e := range s.entries {
		if e.State == TrustVerified {
			continue
		}
		n++
		if oldest == "" || s.seen[id].Before(s.seen[oldest]) {
			oldest = id
		}
	}
	if n < maxPinned || oldest == "" {
		return ""
	}
	delete(s.entries, oldest)
	delete(s.seen, oldest)
	s.dropOfferLocked(oldest)
	return oldest
}

// saveSoonLocked writes the store within saveDelay, or saveGap after the
// last write if that is later.
func (s *TrustStore) saveSoonLocked() {
	if s.saveTimer != nil {
		return
	}
	delay := max(saveDelay, time.Until(s.savedAt.Add(saveGap)))
	s.saveTimer = time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.saveTimer = nil
		_ = s.saveLocked()
	})
}

// Touch records that id was heard from (an authenticated request), so
// that a peer in use is not the pin forgotten for strangers.
func (s *TrustStore) Touch(id string) {
	s.mu.Lock()
	if _, ok := s.entries[id]; ok {
		s.seen[id] = time.Now()
	}
	s.mu.Unlock()
}

// Flush writes pins still waiting to be saved.
func (s *TrustStore) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveTimer == nil {
		return nil
	}
	s.saveTimer.Stop()
	s.saveTimer = nil
	return s.saveLocked()
}

// offerLocked remembers fp as id's candidate key.
func (s *TrustStore) offerLocked(id, fp string) {
	if _, ok := s.offered[id]; !ok {
		s.offeredOrder = append(s.offeredOrder, id)
		if len(s.offeredOrder) > maxOffered {
			delete(s.offered, s.offeredOrder[0])
			s.offeredOrder = s.offeredOrder[1:]
		}
	}
	s.offered[id] = fp
}

// dropOfferLocked forgets id's candidate key.
func (s *TrustStore) dropOfferLocked(id string) {
	if _, ok := s.offered[id]; !ok {
		return
	}
	delete(s.offered, id)
	for i, o := range s.offeredOrder {
		if o == id {
			s.offeredOrder = append(s.offeredOrder[:i], s.offeredOrder[i+1:]...)
			break
		}
	}
}

// Trust pins fp for id. With verified, the pin is marked verified (codes
// compared). An empty fp keeps the pinned key: a key another host offered
// is adopted only when a person names it (its fingerprint or code, read off
// the peer's own screen), never as "whatever was offered last".
func (s *TrustStore) Trust(id, fp string, verified bool) (TrustEntry, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	if fp == "" {
		if !ok {
			s.mu.Unlock()
			return TrustEntry{}, fmt.Errorf("trust %s: %w yet", id, ErrNotPinned)
		}
		fp = e.Fingerprint
	}
	state := TrustPinned
	if verified {
		state = TrustVerified
	}
	e = TrustEntry{ID: id, Fingerprint: fp, State: state, Since: time.Now().UTC()}
	forgot := ""
	if !ok && !verified {
		forgot = s.makeRoomLocked()
	}
	s.seen[id] = time.Now()
	err := s.putLocked(e)
	if err == nil && s.offered[id] == fp {
		s.dropOfferLocked(id)
	}
	e.Offered = s.offered[id]
	s.mu.Unlock()
	if forgot != "" {
		s.notify(TrustEntry{ID: forgot, State: TrustNew})
	}
	if err == nil {
		s.notify(e)
	}
	return e, err
}

// Untrust forgets id's pin; the next contact pins again.
func (s *TrustStore) Untrust(id string) error {
	s.mu.Lock()
	if _, ok := s.entries[id]; !ok {
		s.mu.Unlock()
		return fmt.Errorf("untrust %s: %w", id, ErrNotPinned)
	}
	old := s.entries[id]
	delete(s.entries, id)
	err := s.saveLocked()
	if err != nil {
		s.entries[id] = old
	} else {
		s.dropOfferLocked(id)
		delete(s.seen, id)
	}
	s.mu.Unlock()
	if err == nil {
		s.notify(TrustEntry{ID: id, State: TrustNew})
	}
	return err
}

// Get returns id's entry, with the candidate key another handshake offered
// for it, if any; an unknown id has state new.
func (s *TrustStore) Get(id string) TrustEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok {
		e.Offered = s.offered[id]
		return e
	}
	return TrustEntry{ID: id, State: TrustNew}
}

// List returns every entry, sorted by id.
func (s *TrustStore) List() []TrustEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TrustEntry, 0, len(s.entries))
	for _, e := range s.entries {
		e.Offered = s.offered[e.ID]
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *TrustStore) putLocked(e TrustEntry) error {
	old, had := s.entries[e.ID]
	s.entries[e.ID] = e
	if err := s.saveLocked(); err != nil {
		if had {
			s.entries[e.ID] = old
		} else {
			delete(s.entries, e.ID)
		}
		return err
	}
	return nil
}

func (s *TrustStore) saveLocked() error {
	list := make([]TrustEntry, 0, len(s.entries))
	for _, e := range s.entries {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	s.savedAt = time.Now()
	return atomicfile.WriteFile(s.path, data, 0o600)
}

func (s *TrustStore) notify(e TrustEntry) {
	s.mu.Lock()
	fn := s.onChange
	s.mu.Unlock()
	if fn != nil {
		fn(e)
	}
}
