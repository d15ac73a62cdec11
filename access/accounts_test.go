package access

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/peerdesk/peerdesk/transport"
)

func TestAccountsLifecycle(t *testing.T) {
	home := t.TempDir()
	a, err := OpenAccounts(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add("alice", "pw1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("alice", "other"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	if err := a.Verify("alice", "pw1"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, tc := range []struct{ user, pw string }{{"alice", "pw2"}, {"alice", ""}, {"bob", "pw1"}, {"Alice", "pw1"}} {
		err := a.Verify(tc.user, tc.pw)
		if !errors.Is(err, ErrBadLogin) || !errors.Is(err, transport.ErrAccessDenied) {
			t.Errorf("Verify(%q, %q) = %v, want ErrBadLogin", tc.user, tc.pw, err)
		}
	}
	if err := a.SetPassword("alice", "pw2"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetPassword("nobody", "x"); !errors.Is(err, ErrNoAccount) || !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("SetPassword of missing account: %v", err)
	}
	if err := a.Verify("alice", "pw1"); err == nil {
		t.Fatal("old password still works")
	}

	// Persistence, mode, and no clear password on disk.
	b, err := OpenAccounts(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify("alice", "pw2"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	if l := b.List(); len(l) != 1 || l[0].Name != "alice" || l[0].Created.IsZero() {
		t.Fatalf("List = %+v", l)
	}
	fi, err := os.Stat(filepath.Join(home, AccountsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("accounts.json mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(home, AccountsFile))
	if strings.Contains(string(raw), "pw2") || !strings.Contains(string(raw), "$argon2id$") {
		t.Fatalf("accounts.json does not look hashed: %s", raw)
	}
	if err := b.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove("alice"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("second remove: %v", err)
	}
	c, _ := OpenAccounts(home)
	if c.Exists("alice") {
		t.Fatal("removed account came back")
	}
}

func TestUsernameRules(t *testing.T) {
	for _, ok := range []string{"a", "bob", "j.doe", "x_y-z", "0123", strings.Repeat("a", 32)} {
		if err := ValidUsername(ok); err != nil {
			t.Errorf("ValidUsername(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "guest", "Bob", "a b", "a/b", "é", strings.Repeat("a", 33), "a:b", "a\x00"} {
		if err := ValidUsername(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidUsername(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	a, _ := OpenAccounts(t.TempDir())
	if err := a.Add("guest", "x"); err == nil {
		t.Error("account named guest accepted")
	}
	if err := a.Add("carol", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty password: %v", err)
	}
}

func TestAccountsConcurrent(t *testing.T) {
	home := t.TempDir()
	a, _ := OpenAccounts(home)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := string(rune('a'+i)) + "user"
			if err := a.Add(name, "pw"); err != nil {
				t.Error(err)
			}
			if err := a.Verify(name, "pw"); err != nil {
				t.Error(err)
			}
			_ = a.List()
		}()
	}
	wg.Wait()
	b, err := OpenAccounts(home)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.List()); n != 8 {
		t.Fatalf("%d accounts saved, want 8", n)
	}
}

func TestAccountsRejectDamagedFile(t *testing.T) {
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, AccountsFile), []byte(`{"version":1,"accounts":[{"name":"x","hash":"plain"}]}`), 0o600)
	if _, err := OpenAccounts(home); err == nil {
		t.Fatal("damaged hash accepted")
	}
}
