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
	// TrustChanged: the peer presented another key than the pinned one; refused
	// until a person re-trusts it.
	TrustChanged TrustState = "changed"
)

// TrustEntry is one pinned peer.
type TrustEntry struct {
	ID          string     `json:"id"`
	Fingerprint string     `json:"fingerprint"`
	State       TrustState `json:"state"`
	// Offered is the other fingerprint a changed peer presented.
	Offered string    `json:"offered,omitempty"`
	Since   time.Time `json:"since"`
}

// TrustStore pins peer fingerprints per peer id (trust on first use) and
// keeps them crash-safe in one file.
type TrustStore struct {
	path    string
	mu      sync.Mutex
	entries map[string]TrustEntry
	// OnChange, if set, is called (outside the lock) after a state changes.
	onChange func(TrustEntry)
}

// OpenTrustStore loads the store at path; a missing file is an empty store.
func OpenTrustStore(path string) (*TrustStore, error) {
	s := &TrustStore{path: path, entries: map[string]TrustEntry{}}
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
// An unknown id is pinned on the spot (trust on first use). A mismatch marks
// the entry changed, remembers the offered key and returns ErrIdentityChanged.
// A changed entry stays refused, even for its old key, until re-trusted:
// a person has to look at it.
func (s *TrustStore) Check(id, fp string) (TrustState, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	switch {
	case !ok:
		e = TrustEntry{ID: id, Fingerprint: fp, State: TrustPinned, Since: time.Now().UTC()}
	case e.State == TrustChanged:
		if e.Offered != fp && e.Fingerprint != fp {
			e.Offered = fp
		} else {
			s.mu.Unlock()
			return TrustChanged, fmt.Errorf("%w: %s", ErrIdentityChanged, id)
		}
	case e.Fingerprint == fp:
		s.mu.Unlock()
		return e.State, nil
	default:
		e.State = TrustChanged
		e.Offered = fp
	}
	err := s.putLocked(e)
	s.mu.Unlock()
	s.notify(e)
	if err != nil {
		return e.State, err
	}
	if e.State == TrustChanged {
		return TrustChanged, fmt.Errorf("%w: %s", ErrIdentityChanged, id)
	}
	return e.State, nil
}

// Trust pins fp for id. With verified, the pin is marked verified (codes
// compared). An empty fp takes the key the peer offered last (re-trust after a
// change) or keeps the pinned one.
func (s *TrustStore) Trust(id, fp string, verified bool) (TrustEntry, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	if fp == "" {
		switch {
		case ok && e.Offered != "":
			fp = e.Offered
		case ok:
			fp = e.Fingerprint
		default:
			s.mu.Unlock()
			return TrustEntry{}, fmt.Errorf("trust %s: no key known for this peer yet: %w", id, ErrNotFound)
		}
	}
	state := TrustPinned
	if verified {
		state = TrustVerified
	}
	e = TrustEntry{ID: id, Fingerprint: fp, State: state, Since: time.Now().UTC()}
	err := s.putLocked(e)
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
	}
	s.mu.Unlock()
	if err == nil {
		s.notify(TrustEntry{ID: id, State: TrustNew})
	}
	return err
}

// Get returns id's entry; an unknown id has state new.
func (s *TrustStore) Get(id string) TrustEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok {
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
