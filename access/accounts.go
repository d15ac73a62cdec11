package access

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport"
)

// AccountsFile is the accounts store's name inside the home.
const AccountsFile = "accounts.json"

// GuestUser is the reserved name of anonymous access.
const GuestUser = "guest"

// MaxUsernameBytes bounds an account name.
const MaxUsernameBytes = 32

// ErrBadLogin: wrong account name or password. It is an access refusal.
var ErrBadLogin error = &classError{"wrong account name or password", transport.ErrAccessDenied}

// AccountInfo describes an account without its secret (`user list`).
type AccountInfo struct {
	Name            string    `json:"name"`
	Created         time.Time `json:"created"`
	PasswordChanged time.Time `json:"password_changed"`
}

type account struct {
	AccountInfo
	// Hash is the password's argon2id hash in PHC form.
	Hash string `json:"hash"`
}

type accountsFile struct {
	Version  int       `json:"version"`
	Accounts []account `json:"accounts"`
}

// Accounts is this peer's local accounts, kept in HOME/accounts.json (0600,
// written crash-safely). Safe for concurrent use.
type Accounts struct {
	path string
	now  func() time.Time

	mu       sync.RWMutex
	accounts map[string]account
}

// OpenAccounts loads the accounts of home (none if the file does not exist).
func OpenAccounts(home string) (*Accounts, error) {
	a := &Accounts{path: filepath.Join(home, AccountsFile), now: time.Now, accounts: map[string]account{}}
	var f accountsFile
	if err := readStateFile(a.path, "accounts", &f); err != nil {
		return nil, err
	}
	for _, acc := range f.Accounts {
		if err := ValidUsername(acc.Name); err != nil {
			return nil, fmt.Errorf("read accounts %s: %w", a.path, err)
		}
		if _, err := parsePHC(acc.Hash); err != nil {
			return nil, fmt.Errorf("read accounts %s: account %s: %w", a.path, acc.Name, err)
		}
		a.accounts[acc.Name] = acc
	}
	return a, nil
}

// ValidUsername checks an account name: 1–32 characters of a-z, 0-9, '.',
// '_' and '-', and not the reserved "guest".
func ValidUsername(name string) error {
	if name == "" || len(name) > MaxUsernameBytes {
		return fmt.Errorf("%w: account name must have 1 to %d characters", ErrInvalid, MaxUsernameBytes)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: account name %q: only a-z, 0-9, '.', '_' and '-' are allowed", ErrInvalid, Shorten(name))
		}
	}
	if name == GuestUser {
		return fmt.Errorf("%w: %q is reserved for anonymous access", ErrInvalid, GuestUser)
	}
	return nil
}

// Add creates an account.
func (a *Accounts) Add(name, password string) error {
	if err := ValidUsername(name); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.accounts[name]; ok {
		return fmt.Errorf("account %s: %w", name, ErrExists)
	}
	now := a.now().UTC()
	a.accounts[name] = account{AccountInfo: AccountInfo{Name: name, Created: now, PasswordChanged: now}, Hash: hash}
	if err := a.saveLocked(); err != nil {
		delete(a.accounts, name)
		return err
	}
	return nil
}

// SetPassword replaces an account's password.
func (a *Accounts) SetPassword(name, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old, ok := a.accounts[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoAccount, Shorten(name))
	}
	acc := old
	acc.Hash = hash
	acc.PasswordChanged = a.now().UTC()
	a.accounts[name] = acc
	if err := a.saveLocked(); err != nil {
		a.accounts[name] = old
		return err
	}
	return nil
}

// Remove deletes an account. Share entries naming it stay until the share
// is edited (Store.ForgetAccount removes them).
func (a *Accounts) Remove(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	old, ok := a.accounts[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoAccount, Shorten(name))
	}
	delete(a.accounts, name)
	if err := a.saveLocked(); err != nil {
		a.accounts[name] = old
		return err
	}
	return nil
}

// List returns the accounts sorted by name, without their hashes.
func (a *Accounts) List() []AccountInfo {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]AccountInfo, 0, len(a.accounts))
	for _, acc := range a.accounts {
		out = append(out, acc.AccountInfo)
	}
	slices.SortFunc(out, func(x, y AccountInfo) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// Exists reports whether the account exists.
func (a *Accounts) Exists(name string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.accounts[name]
	return ok
}

// Verify checks an account's password: nil if it matches, an error
// wrapping ErrBadLogin (an access refusal) if the account does not exist
// or the password is wrong. Both cases cost the same argon2 time.
func (a *Accounts) Verify(name, password string) error {
	hash, ok := a.hash(name)
	if !ok {
		hash = dummyHash()
	}
	match, err := VerifyPassword(hash, password)
	if err != nil {
		return fmt.Errorf("verify account %s: %w", name, err)
	}
	if !ok || !match {
		return ErrBadLogin
	}
	return nil
}

// hash returns the stored hash of an account.
func (a *Accounts) hash(name string) (string, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	acc, ok := a.accounts[name]
	return acc.Hash, ok
}

func (a *Accounts) saveLocked() error {
	f := accountsFile{Version: 1, Accounts: make([]account, 0, len(a.accounts))}
	for _, acc := range a.accounts {
		f.Accounts = append(f.Accounts, acc)
	}
	slices.SortFunc(f.Accounts, func(x, y account) int { return strings.Compare(x.Name, y.Name) })
	return writeStateFile(a.path, "accounts", f)
}
