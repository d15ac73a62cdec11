package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/internal/testlog"
	"github.com/peerdesk/peerdesk/transport"
)

type accessFixture struct {
	access *Access
	audit  *AuditLog
	accts  *Accounts
	store  *Store
	clock  *fakeClock
}

func newAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	base := t.TempDir()
	home := filepath.Join(base, "home")
	dir := filepath.Join(base, "folder")
	os.MkdirAll(dir, 0o755)
	accts, _ := OpenAccounts(home)
	store, _ := OpenStore(home)
	clk := newFakeClock()
	audit, err := OpenAuditLog(home, AuditConfig{Logger: testlog.Logger(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audit.Close() })
	for _, u := range []string{"alice", "bob", "carol", "dave", "eve"} {
		if err := accts.Add(u, u+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	add := func(sh Share, pw string) {
		t.Helper()
		if sh.Kind == "" {
			sh.Kind, sh.Path = KindFolder, dir
		}
		if _, err := store.Add(sh, pw); err != nil {
			t.Fatal(err)
		}
	}
	add(Share{Name: "team", Access: map[string]Right{"alice": RightRO, "bob": RightRW, "carol": RightWO}}, "")
	add(Share{Name: "public", Guest: RightRO, Access: map[string]Right{"eve": RightNone, "bob": RightRW}}, "")
	add(Share{Name: "drop", Guest: RightWO}, "")
	add(Share{Name: "secret", Access: map[string]Right{"alice": RightRW}, Guest: RightRO}, "open-sesame")
	add(Share{Name: "laser", Kind: KindPrinter, Queue: "Laser", Access: map[string]Right{"dave": RightPrint}}, "")
	a := NewAccess(AccessConfig{Accounts: accts, Shares: store, Audit: audit, Now: clk.Now, Logger: testlog.Logger()})
	return &accessFixture{access: a, audit: audit, accts: accts, store: store, clock: clk}
}

func TestAuthorizeMatrix(t *testing.T) {
	f := newAccessFixture(t)
	peer := transport.PeerInfo{ID: "peer-1"}
	type want int
	const (
		ok want = iota
		denied
		missing
	)
	for _, tc := range []struct {
		user, pw, spw, share string
		need                 Right
		want                 want
	}{
		{"alice", "alice-pw", "", "team", RightRO, ok},
		{"alice", "alice-pw", "", "team", RightWO, denied},
		{"alice", "wrong", "", "team", RightRO, denied},
		{"bob", "bob-pw", "", "team", RightRW, ok},
		{"bob", "bob-pw", "", "team", RightWO, ok},
		{"carol", "carol-pw", "", "team", RightWO, ok},
		{"carol", "carol-pw", "", "team", RightRO, denied}, // drop box: no reading
		{"dave", "dave-pw", "", "team", RightRO, denied},   // no entry, no guest
		{"", "", "", "team", RightRO, denied},
		{"guest", "", "", "public", RightRO, ok},
		{"", "", "", "public", RightWO, denied},
		{"dave", "dave-pw", "", "public", RightRO, ok},   // no entry: guest right
		{"eve", "eve-pw", "", "public", RightRO, denied}, // explicit none beats guest
		{"dave", "wrong", "", "public", RightRO, denied}, // a wrong password is not guest
		{"", "", "", "drop", RightWO, ok},
		{"", "", "", "drop", RightRO, denied},
		{"alice", "alice-pw", "open-sesame", "secret", RightRW, ok},
		{"alice", "alice-pw", "", "secret", RightRO, denied},
		{"alice", "alice-pw", "wrong", "secret", RightRO, denied},
		{"", "", "open-sesame", "secret", RightRO, ok},
		{"", "", "", "secret", RightRO, denied},
		{"", "", "open-sesame", "secret", RightWO, denied},
		{"dave", "dave-pw", "", "laser", RightPrint, ok},
		{"alice", "alice-pw", "", "laser", RightPrint, denied},
		{"dave", "dave-pw", "", "laser", RightRO, denied},
		{"alice", "alice-pw", "", "nosuch", RightRO, missing},
		{"", "", "", "TEAM", RightRO, denied},           // case-insensitive lookup
		{"mallory", "x", "", "nosuch", RightRO, denied}, // login first: learns nothing
	} {
		name := tc.user + "/" + tc.share + "/" + string(tc.need)
		g, err := f.access.Authorize(context.Background(), peer, Credentials{User: tc.user, Password: tc.pw, SharePassword: tc.spw}, tc.share, tc.need)
		switch tc.want {
		case ok:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if !g.Right.Covers(tc.need) || g.Share.Name != tc.share {
				t.Errorf("%s: grant %+v", name, g)
			}
		case denied:
			if !errors.Is(err, transport.ErrAccessDenied) {
				t.Errorf("%s: err %v, want access denied", name, err)
			}
		case missing:
			if !errors.Is(err, transport.ErrNotFound) {
				t.Errorf("%s: err %v, want not found", name, err)
			}
		}
	}
	recs, _ := f.audit.Read(0)
	refused := 0
	for _, r := range recs {
		if !r.Allowed {
			refused++
		}
		if strings.Contains(r.Detail, "-pw") || strings.Contains(r.Detail, "sesame") {
			t.Fatalf("audit record leaks a password: %+v", r)
		}
	}
	if refused < 15 {
		t.Fatalf("%d refusals audited, want every one", refused)
	}
}

func TestVisibleShares(t *testing.T) {
	f := newAccessFixture(t)
	peer := transport.PeerInfo{ID: "p"}
	names := func(creds Credentials) string {
		vs, _, err := f.access.Visible(context.Background(), peer, creds, false)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, v := range vs {
			s := v.Name + ":" + string(v.Right)
			if v.Password {
				s += "*"
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		creds Credentials
		want  string
	}{
		{Credentials{}, "drop:wo,public:ro,secret:ro*"},
		{Credentials{User: "alice", Password: "alice-pw"}, "drop:wo,public:ro,secret:rw*,team:ro"},
		{Credentials{User: "eve", Password: "eve-pw"}, "drop:wo,secret:ro*"},
		{Credentials{User: "dave", Password: "dave-pw"}, "drop:wo,laser:print,public:ro,secret:ro*"},
	} {
		if got := names(tc.creds); got != tc.want {
			t.Errorf("%q sees %s, want %s", tc.creds.User, got, tc.want)
		}
	}
	if got := names(Credentials{User: "alice", Password: "nope"}); !strings.HasPrefix(got, "error") {
		t.Errorf("wrong password lists %s", got)
	}
}

func TestAuthorizeRateLimitAndCache(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	attacker := transport.PeerInfo{ID: "attacker"}
	other := transport.PeerInfo{ID: "colleague"}
	wrong := Credentials{User: "alice", Password: "guess"}
	var limited int
	start := time.Now()
	for i := 0; i < 20; i++ {
		_, err := f.access.Authorize(ctx, attacker, wrong, "team", RightRO)
		if !errors.Is(err, transport.ErrAccessDenied) {
			t.Fatalf("try %d: %v", i, err)
		}
		if errors.Is(err, ErrRateLimited) {
			limited++
		}
	}
	if limited != 15 {
		t.Fatalf("%d of 20 wrong tries were rate-limited, want 15", limited)
	}
	// Limited tries are not verified: 20 tries cost about 5 verifications.
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("20 tries took %v", d)
	}
	// The right password from the same peer is limited too, until the wait is over ...
	right := Credentials{User: "alice", Password: "alice-pw"}
	if _, err := f.access.Authorize(ctx, attacker, right, "team", RightRO); err == nil || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("right password during lockout: %v", err)
	}
	// ... but from another peer it works at once.
	if _, err := f.access.Authorize(ctx, other, right, "team", RightRO); err != nil {
		t.Fatalf("other peer with the right password: %v", err)
	}
	f.clock.Advance(10 * time.Minute)
	if _, err := f.access.Authorize(ctx, attacker, right, "team", RightRO); err != nil {
		t.Fatalf("after the wait: %v", err)
	}

	// Cache: repeated requests do not verify (no new login record) until
	// the TTL passes; a changed password misses the cache at once.
	logins := func() int {
		recs, _ := f.audit.Read(0)
		n := 0
		for _, r := range recs {
			if r.Action == ActionLogin && r.Allowed && r.PeerID == other.ID {
				n++
			}
		}
		return n
	}
	if _, err := f.access.Authorize(ctx, other, right, "team", RightRO); err != nil {
		t.Fatal(err)
	}
	before := logins()
	for range 5 {
		if _, err := f.access.Authorize(ctx, other, right, "team", RightRO); err != nil {
			t.Fatal(err)
		}
	}
	if got := logins(); got != before {
		t.Fatalf("cached logins verified again: %d login records, want %d", got, before)
	}
	f.clock.Advance(6 * time.Minute)
	if _, err := f.access.Authorize(ctx, other, right, "team", RightRO); err != nil {
		t.Fatal(err)
	}
	if got := logins(); got != before+1 {
		t.Fatalf("after TTL: %d login records, want %d", got, before+1)
	}
	if err := f.accts.SetPassword("alice", "new-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.access.Authorize(ctx, other, right, "team", RightRO); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("old password after change: %v", err)
	}
	// Revoking a right takes effect at once even with a cached login.
	f.store.Update("team", func(sh *Share) error { sh.Access["alice"] = RightNone; return nil })
	if _, err := f.access.Authorize(ctx, other, Credentials{User: "alice", Password: "new-pw"}, "team", RightRO); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("revoked right: %v", err)
	}
}

func TestSharePasswordRateLimited(t *testing.T) {
	f := newAccessFixture(t)
	peer := transport.PeerInfo{ID: "p"}
	limited := 0
	for range 10 {
		_, err := f.access.Authorize(context.Background(), peer, Credentials{SharePassword: "guess"}, "secret", RightRO)
		if errors.Is(err, ErrRateLimited) {
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("%d of 10 share password guesses limited, want 5", limited)
	}
}

func TestLoginsInFlightCappedPerPeer(t *testing.T) {
	f := newAccessFixture(t)
	noisy := transport.PeerInfo{ID: "noisy"}
	// The noisy peer already has every verification slot busy.
	for range 4 {
		release, ok := f.access.gate.Enter(noisy.ID)
		if !ok {
			t.Fatal("gate full too early")
		}
		defer release()
	}
	creds := Credentials{User: "alice", Password: "alice-pw"}
	_, err := f.access.Authorize(context.Background(), noisy, creds, "team", RightRO)
	if !errors.Is(err, ErrBusy) || !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("fifth login in flight: %v", err)
	}
	if _, err := f.access.Authorize(context.Background(), transport.PeerInfo{ID: "quiet"}, creds, "team", RightRO); err != nil {
		t.Fatalf("another peer is starved: %v", err)
	}
	// Guests need no verification and are not held up.
	if _, err := f.access.Authorize(context.Background(), noisy, Credentials{}, "public", RightRO); err != nil {
		t.Fatalf("guest: %v", err)
	}
}

// TestManyIdentitiesShareOneAccountLimit (M1): fresh peer identities (and
// one source address) do not each get their own free tries: after 20
// failures from anywhere, the account is limited for every source, and
// the source address is limited across identities.
func TestManyIdentitiesShareOneAccountLimit(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	wrong := Credentials{User: "alice", Password: "guess"}
	checked := 0
	for i := range 60 {
		peer := transport.PeerInfo{ID: fmt.Sprintf("fresh-%d", i), Addr: &net.UDPAddr{IP: net.IPv4(10, 0, byte(i/250), byte(i%250+1)), Port: 47220}}
		_, err := f.access.Authorize(ctx, peer, wrong, "team", RightRO)
		if !errors.Is(err, ErrRateLimited) {
			checked++
		}
		f.clock.Advance(100 * time.Millisecond) // keep the argon2 budget out of it
	}
	// 20 free, then one after 1 s and one after 2 s more: 22 in these 6 s
	// (one per identity and address would have been all 60).
	if checked != 22 {
		t.Fatalf("%d of 60 guesses from 60 identities and addresses in 6 s were checked, want 22", checked)
	}

	g := newAccessFixture(t)
	addr := &net.UDPAddr{IP: net.IPv4(10, 9, 9, 9), Port: 47220}
	checked = 0
	for i := range 30 {
		peer := transport.PeerInfo{ID: fmt.Sprintf("fresh-%d", i), Addr: addr}
		if _, err := g.access.Authorize(ctx, peer, Credentials{User: "bob", Password: "guess"}, "team", RightRO); !errors.Is(err, ErrRateLimited) {
			checked++
		}
		g.clock.Advance(100 * time.Millisecond)
	}
	// 5 free, then one after 1 s: 6 in these 3 s.
	if checked != 6 {
		t.Fatalf("%d of 30 guesses from one address under 30 identities in 3 s were checked, want 6", checked)
	}
}

// TestArgon2Budget (M1): however many peers try at once, at most
// VerifyRate argon2 checks run per second; the rest are refused as busy
// and count as nobody's failure.
func TestArgon2Budget(t *testing.T) {
	f := newAccessFixture(t)
	ctx := context.Background()
	busy, checked := 0, 0
	for i := range 40 {
		peer := transport.PeerInfo{ID: fmt.Sprintf("p%d", i)}
		_, err := f.access.Authorize(ctx, peer, Credentials{User: "bob", Password: fmt.Sprintf("guess-%d", i)}, "team", RightRO)
		switch {
		case errors.Is(err, ErrBusy):
			busy++
		case errors.Is(err, transport.ErrAccessDenied):
			checked++
		}
	}
	if checked != 8 || busy != 32 {
		t.Fatalf("in one instant: %d checked, %d busy; want 8 and 32", checked, busy)
	}
	f.clock.Advance(time.Second)
	if _, err := f.access.Authorize(ctx, transport.PeerInfo{ID: "later"}, Credentials{User: "bob", Password: "bob-pw"}, "team", RightRO); err != nil {
		t.Fatalf("a second later the right password: %v", err)
	}
}
