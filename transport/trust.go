package transport

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
	// OnChange, if set, is called (outside the lock) after a state changes.
	onChange func(TrustEntry)
}

// maxOffered bounds the candidate keys remembered.
const maxOffered = 256

// OpenTrustStore loads the store at path; a missing file is an empty store.
func OpenTrustStore(path string) (*TrustStore, error) {
	s := &TrustStore{path: path, entries: map[string]TrustEntry{}, offered: map[string]string{}}
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
		s.mu.Unlock()
		return e.State, nil
	case ok:
		s.offerLocked(id, fp)
		s.mu.Unlock()
		return e.State, fmt.Errorf("%w: %s presents key code %s, not the pinned code %s; adopt it only if its owner reads that code off their own screen",
			ErrIdentityChanged, id, VerificationCode(fp), VerificationCode(e.Fingerprint))
	}
	e = TrustEntry{ID: id, Fingerprint: fp, State: TrustPinned, Since: time.Now().UTC()}
	err := s.putLocked(e)
	s.mu.Unlock()
	if err != nil {
		return e.State, err
	}
	s.notify(e)
	return e.State, nil
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
			return TrustEntry{}, fmt.Errorf("trust %s: no key known for this peer yet: %w", id, ErrNotFound)
		}
		fp = e.Fingerprint
	}
	state := TrustPinned
	if verified {
		state = TrustVerified
	}
	e = TrustEntry{ID: id, Fingerprint: fp, State: state, Since: time.Now().UTC()}
	err := s.putLocked(e)
	if err == nil && s.offered[id] == fp {
		s.dropOfferLocked(id)
	}
	e.Offered = s.offered[id]
	s.mu.Unlock()
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
		return fmt.Errorf("untrust %s: %w", id, ErrNotFound)
	}
	old := s.entries[id]
	delete(s.entries, id)
	err := s.saveLocked()
	if err != nil {
		s.entries[id] = old
	} else {
		s.dropOfferLocked(id)
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
