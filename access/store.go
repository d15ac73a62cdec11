package access

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// SharesFile is the share store's name inside the home.
const SharesFile = "shares.json"

// Kind is what a share offers.
type Kind string

// Share kinds.
const (
	KindFolder  Kind = "folder"
	KindPrinter Kind = "printer"
)

// Right is what an account (or a guest) may do on a share, and also what
// an operation needs (see Right.Covers).
type Right string

// Rights. RightNone on an account entry denies that account even where
// guests are let in.
const (
	RightNone  Right = "none"
	RightRO    Right = "ro"    // list and read
	RightRW    Right = "rw"    // list, read and write
	RightWO    Right = "wo"    // drop box: write only, no list, no read
	RightPrint Right = "print" // submit print jobs
)

// ParseRight parses a right as written on the command line ("" is none).
func ParseRight(s string) (Right, error) {
	switch r := Right(strings.ToLower(strings.TrimSpace(s))); r {
	case "", RightNone:
		return RightNone, nil
	case RightRO, RightRW, RightWO, RightPrint:
		return r, nil
	}
	return "", fmt.Errorf("%w: right %q (want none, ro, rw, wo or print)", ErrInvalid, Shorten(s))
}

// Covers reports whether holding r allows an operation needing need:
// reading (RightRO) is allowed by ro and rw, writing (RightWO) by wo and rw,
// read-and-write (RightRW) by rw, printing by print.
func (r Right) Covers(need Right) bool {
	switch need {
	case RightRO:
		return r == RightRO || r == RightRW
	case RightWO:
		return r == RightWO || r == RightRW
	case RightRW:
		return r == RightRW
	case RightPrint:
		return r == RightPrint
	}
	return false
}

// orNone maps the zero value to RightNone.
func (r Right) orNone() Right {
	if r == "" {
		return RightNone
	}
	return r
}

// Share is one shared folder or printer.
type Share struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Path is a folder share's absolute folder.
	Path string `json:"path,omitempty"`
	// Queue is a printer share's local queue name.
	Queue string `json:"queue,omitempty"`
	// Access maps account names to their right on this share.
	Access map[string]Right `json:"access,omitempty"`
	// Guest is the right of peers that give no account (none if empty).
	Guest Right `json:"guest,omitempty"`
	// PasswordHash is the optional resource password (argon2id, PHC form),
	// required in addition to the account or guest.
	PasswordHash string    `json:"password_hash,omitempty"`
	Created      time.Time `json:"created"`
}

// RightOf is the right an account (or GuestUser / "" for a guest) holds:
// its own entry if it has one, else the guest right.
func (s Share) RightOf(account string) Right {
	if account != "" && account != GuestUser {
		if r, ok := s.Access[account]; ok {
			return r.orNone()
		}
	}
	return s.Guest.orNone()
}

// HasPassword reports whether the share needs a resource password.
func (s Share) HasPassword() bool { return s.PasswordHash != "" }

// ShareInfo is a share as `share list --json` shows it (no secrets).
type ShareInfo struct {
	Name     string           `json:"name"`
	Kind     Kind             `json:"kind"`
	Path     string           `json:"path,omitempty"`
	Queue    string           `json:"queue,omitempty"`
	Access   map[string]Right `json:"access"`
	Guest    Right            `json:"guest"`
	Password bool             `json:"password"`
	Created  time.Time        `json:"created"`
}

// Info is the share without secrets.
func (s Share) Info() ShareInfo {
	acc := maps.Clone(s.Access)
	if acc == nil {
		acc = map[string]Right{}
	}
	return ShareInfo{Name: s.Name, Kind: s.Kind, Path: s.Path, Queue: s.Queue, Access: acc, Guest: s.Guest.orNone(), Password: s.HasPassword(), Created: s.Created}
}

func (s Share) clone() Share {
	s.Access = maps.Clone(s.Access)
	return s
}

// ValidShareName checks a share name: 1–64 characters of A-Z, a-z, 0-9,
// '.', '_', '-' and space, not starting or ending with a space or dot.
func ValidShareName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: share name must have 1 to 64 characters", ErrInvalid)
	}
	for _, r := range name {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '.' || r == '_' || r == '-' || r == ' ') {
			return fmt.Errorf("%w: share name %q: only letters, digits, '.', '_', '-' and space are allowed", ErrInvalid, Shorten(name))
		}
	}
	if strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("%w: share name %q must not start or end with a space or dot", ErrInvalid, name)
	}
	return nil
}

type sharesFile struct {
	Version int     `json:"version"`
	Shares  []Share `json:"shares"`
}

// Store is this peer's shares, kept in HOME/shares.json (0600, written
// crash-safely). Names are unique case-insensitively. Safe for concurrent
// use; Get and List return copies.
type Store struct {
	path string
	home string
	now  func() time.Time

	mu     sync.RWMutex
	shares map[string]Share // by lower-case name
}

// OpenStore loads the shares of home (none if the file does not exist).
func OpenStore(home string) (*Store, error) {
	s := &Store{path: filepath.Join(home, SharesFile), home: home, now: time.Now, shares: map[string]Share{}}
	var f sharesFile
	if err := readStateFile(s.path, "shares", &f); err != nil {
		return nil, err
	}
	for _, sh := range f.Shares {
		// A folder that has gone away since does not make the store
		// unreadable; requests for it fail until it is back.
		if err := s.validate(sh, false); err != nil {
			return nil, fmt.Errorf("read shares %s: %w", s.path, err)
		}
		s.shares[strings.ToLower(sh.Name)] = sh
	}
	return s, nil
}

// validate checks a share; checkFolder also requires the folder to exist.
func (s *Store) validate(sh Share, checkFolder bool) error {
	if err := ValidShareName(sh.Name); err != nil {
		return err
	}
	var allowed []Right
	switch sh.Kind {
	case KindFolder:
		allowed = []Right{RightNone, RightRO, RightRW, RightWO}
		if sh.Queue != "" {
			return fmt.Errorf("%w: share %s: a folder share has no queue", ErrInvalid, sh.Name)
		}
		if err := s.validateFolder(sh, checkFolder); err != nil {
			return err
		}
	case KindPrinter:
		allowed = []Right{RightNone, RightPrint}
		if sh.Path != "" {
			return fmt.Errorf("%w: share %s: a printer share has no folder", ErrInvalid, sh.Name)
		}
		if sh.Queue == "" || len(sh.Queue) > 127 || strings.ContainsFunc(sh.Queue, unicode.IsControl) {
			return fmt.Errorf("%w: share %s: printer queue name", ErrInvalid, sh.Name)
		}
	default:
		return fmt.Errorf("%w: share %s: kind %q (want folder or printer)", ErrInvalid, sh.Name, sh.Kind)
	}
	okRight := func(r Right) bool { return slices.Contains(allowed, r.orNone()) }
	if !okRight(sh.Guest) {
		return fmt.Errorf("%w: share %s: guest right %q not possible on a %s share", ErrInvalid, sh.Name, sh.Guest, sh.Kind)
	}
	for user, r := range sh.Access {
		if err := ValidUsername(user); err != nil {
			return fmt.Errorf("share %s: %w", sh.Name, err)
		}
		if !okRight(r) {
			return fmt.Errorf("%w: share %s: right %q for %s not possible on a %s share", ErrInvalid, sh.Name, r, user, sh.Kind)
		}
	}
	if sh.PasswordHash != "" {
		if _, err := parsePHC(sh.PasswordHash); err != nil {
			return fmt.Errorf("share %s: %w", sh.Name, err)
		}
	}
	return nil
}

func (s *Store) validateFolder(sh Share, mustExist bool) error {
	if !filepath.IsAbs(sh.Path) || filepath.Clean(sh.Path) != sh.Path {
		return fmt.Errorf("%w: share %s: folder %q must be an absolute, clean path", ErrInvalid, sh.Name, sh.Path)
	}
	if !mustExist {
		return nil
	}
	fi, err := os.Stat(sh.Path)
	if err != nil {
		return fmt.Errorf("%w: share %s: folder: %w", ErrInvalid, sh.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: share %s: %s is not a folder", ErrInvalid, sh.Name, sh.Path)
	}
	// Sharing the home (or a folder holding it) would offer the identity
	// key and the password hashes to whoever may read the share.
	if s.home != "" && overlaps(sh.Path, s.home) {
		return fmt.Errorf("%w: share %s: %s holds or is inside this peer's home %s, which keeps its keys; share another folder", ErrInvalid, sh.Name, sh.Path, s.home)
	}
	return nil
}

// overlaps reports whether one of the folders is (inside) the other,
// comparing resolved paths when they resolve.
func overlaps(a, b string) bool {
	resolve := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return p
	}
	a, b = resolve(a), resolve(b)
	within := func(inner, outer string) bool {
		rel, err := filepath.Rel(outer, inner)
		return err == nil && (rel == "." || filepath.IsLocal(rel))
	}
	return within(a, b) || within(b, a)
}

// Add adds a share. password, if not empty, becomes its resource password.
// A folder share's Path is made absolute and must be an existing folder.
func (s *Store) Add(sh Share, password string) (ShareInfo, error) {
	sh = sh.clone()
	if sh.Kind == KindFolder && sh.Path != "" {
		abs, err := filepath.Abs(sh.Path)
		if err != nil {
			return ShareInfo{}, fmt.Errorf("%w: share %s: folder: %w", ErrInvalid, sh.Name, err)
		}
		sh.Path = abs
	}
	sh.Guest = sh.Guest.orNone()
	sh.PasswordHash = ""
	if password != "" {
		h, err := HashPassword(password)
		if err != nil {
			return ShareInfo{}, fmt.Errorf("share %s: %w", sh.Name, err)
		}
		sh.PasswordHash = h
	}
	if err := s.validate(sh, true); err != nil {
		return ShareInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(sh.Name)
	if old, ok := s.shares[key]; ok {
		return ShareInfo{}, fmt.Errorf("share %s: %w (as %s)", sh.Name, ErrExists, old.Name)
	}
	if sh.Created.IsZero() {
		sh.Created = s.now().UTC()
	}
	s.shares[key] = sh
	if err := s.saveLocked(); err != nil {
		delete(s.shares, key)
		return ShareInfo{}, err
	}
	return sh.Info(), nil
}

// Update changes a share under the store's lock: fn edits a copy, which is
// validated and saved. The name may change (to one not taken).
func (s *Store) Update(name string, fn func(*Share) error) (ShareInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	old, ok := s.shares[key]
	if !ok {
		return ShareInfo{}, fmt.Errorf("%w: %s", ErrNoShare, Shorten(name))
	}
	sh := old.clone()
	if err := fn(&sh); err != nil {
		return ShareInfo{}, err
	}
	sh.Guest = sh.Guest.orNone()
	if err := s.validate(sh, sh.Path != old.Path); err != nil {
		return ShareInfo{}, err
	}
	newKey := strings.ToLower(sh.Name)
	if other, taken := s.shares[newKey]; taken && newKey != key {
		return ShareInfo{}, fmt.Errorf("share %s: %w (as %s)", sh.Name, ErrExists, other.Name)
	}
	delete(s.shares, key)
	s.shares[newKey] = sh
	if err := s.saveLocked(); err != nil {
		delete(s.shares, newKey)
		s.shares[key] = old
		return ShareInfo{}, err
	}
	return sh.Info(), nil
}

// SetPassword sets a share's resource password ("" removes it).
func (s *Store) SetPassword(name, password string) error {
	hash := ""
	if password != "" {
		var err error
		if hash, err = HashPassword(password); err != nil {
			return fmt.Errorf("share %s: %w", name, err)
		}
	}
	_, err := s.Update(name, func(sh *Share) error { sh.PasswordHash = hash; return nil })
	return err
}

// ForgetAccount removes an account's entries from every share (after the
// account is removed, so a later account of the same name starts with no
// rights).
func (s *Store) ForgetAccount(account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]Share{}
	for key, sh := range s.shares {
		if _, ok := sh.Access[account]; ok {
			old[key] = sh
			sh = sh.clone()
			delete(sh.Access, account)
			s.shares[key] = sh
		}
	}
	if len(old) == 0 {
		return nil
	}
	if err := s.saveLocked(); err != nil {
		maps.Copy(s.shares, old)
		return err
	}
	return nil
}

// Remove deletes a share.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	old, ok := s.shares[key]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoShare, Shorten(name))
	}
	delete(s.shares, key)
	if err := s.saveLocked(); err != nil {
		s.shares[key] = old
		return err
	}
	return nil
}

// Get returns a share by name (case-insensitive).
func (s *Store) Get(name string) (Share, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sh, ok := s.shares[strings.ToLower(name)]
	if !ok {
		return Share{}, fmt.Errorf("%w: %s", ErrNoShare, Shorten(name))
	}
	return sh.clone(), nil
}

// List returns every share sorted by name (case-insensitive).
func (s *Store) List() []Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Share, 0, len(s.shares))
	for _, sh := range s.shares {
		out = append(out, sh.clone())
	}
	slices.SortFunc(out, func(a, b Share) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out
}

// Infos is List without secrets: the form of `share list --json`.
func (s *Store) Infos() []ShareInfo {
	list := s.List()
	out := make([]ShareInfo, len(list))
	for i, sh := range list {
		out[i] = sh.Info()
	}
	return out
}

func (s *Store) saveLocked() error {
	f := sharesFile{Version: 1, Shares: make([]Share, 0, len(s.shares))}
	for _, sh := range s.shares {
		f.Shares = append(f.Shares, sh)
	}
	slices.SortFunc(f.Shares, func(a, b Share) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return writeStateFile(s.path, "shares", f)
}
