package access

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport"
)

// Credentials are what a remote peer presents for a request. They travel
// only inside the DTLS session. User "" or "guest" asks for guest access.
type Credentials struct {
	User          string `json:"user,omitempty"`
	Password      string `json:"password,omitempty"`
	SharePassword string `json:"share_password,omitempty"`
}

// IsGuest reports whether the credentials ask for guest access.
func (c Credentials) IsGuest() bool {
	u := strings.TrimSpace(c.User)
	return u == "" || strings.EqualFold(u, GuestUser)
}

// Grant is a successful authorization: who may do what on which share.
type Grant struct {
	Share Share
	// Account is the account used, or GuestUser.
	Account string
	// Right is the right held on the share (it covers what was asked).
	Right    Right
	Peer     transport.PeerInfo
	PeerName string
}

// AccessConfig configures Access. Accounts, Shares and Audit are required.
type AccessConfig struct {
	Accounts *Accounts
	Shares   *Store
	Audit    *AuditLog
	// Limiter counts failed logins per (peer, account) and per (source
	// address, account) (default NewLimiter with defaults).
	Limiter *Limiter
	// AccountLimiter counts failed logins per account whatever the source,
	// so that many fresh identities cannot guess in parallel (default: 20
	// free, then 1 s doubling up to 1 min).
	AccountLimiter *Limiter
	// VerifyRate bounds the argon2 password checks per second over all
	// peers (default 8, burst as many); attempts over it are refused as
	// busy without running argon2 and without counting as failures.
	VerifyRate float64
	// MaxPendingPerPeer caps password verifications in flight per peer
	// (default 4).
	MaxPendingPerPeer int
	// CacheTTL is how long a verified password is remembered (default
	// 5 min).
	CacheTTL time.Duration
	// PeerName names a peer id for the audit log (default: none).
	PeerName func(id string) string
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Access decides every request on the owning peer: the share must exist,
// the account's password (unless guest) and the share's resource password
// (if it has one) must verify, and the account's or guest's right must
// cover what is asked. Refusals and fresh logins go to the audit log;
// failed logins are rate-limited per (peer, account).
//
// Argon2 verification is deliberately slow, so successful verifications
// are remembered for CacheTTL, keyed by an HMAC (with a per-process random
// key) over the peer id, the account, the stored hash and the password:
// never the password itself. A changed password changes the stored hash
// and so misses the cache.
type Access struct {
	cfg     AccessConfig
	gate    *PeerGate
	work    *workBudget
	hmacKey [32]byte

	mu    sync.Mutex
	cache map[[32]byte]time.Time // key → expiry
}

const maxCacheEntries = 4096

// NewAccess returns an Access.
func NewAccess(cfg AccessConfig) *Access {
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(LimiterConfig{Now: cfg.Now})
	}
	if cfg.AccountLimiter == nil {
		cfg.AccountLimiter = NewLimiter(LimiterConfig{Free: 20, Base: time.Second, Max: time.Minute, Now: cfg.Now})
	}
	if cfg.VerifyRate <= 0 {
		cfg.VerifyRate = 8
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.PeerName == nil {
		cfg.PeerName = func(string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Access{cfg: cfg, gate: NewPeerGate(cfg.MaxPendingPerPeer), cache: map[[32]byte]time.Time{},
		work: newWorkBudget(cfg.VerifyRate, cfg.Now)}
	_, _ = rand.Read(a.hmacKey[:])
	return a
}

// Audit appends a record about peer to the audit log.
func (a *Access) Audit(peer transport.PeerInfo, account string, action Action, resource string, allowed bool, detail string) {
	a.cfg.Audit.Append(AuditRecord{
		Time: a.cfg.Now(), PeerID: peer.ID, PeerName: a.cfg.PeerName(peer.ID),
		Account: account, Action: action, Resource: resource, Allowed: allowed, Detail: detail,
	})
}

// AuditGrant appends a record of an action done under g.
func (a *Access) AuditGrant(g Grant, action Action, resource string, allowed bool, detail string) {
	a.Audit(g.Peer, g.Account, action, resource, allowed, detail)
}

// actionFor is the audited action of a refusal for lack of right.
func actionFor(need Right) Action {
	switch need {
	case RightRO:
		return ActionRead
	case RightPrint:
		return ActionPrint
	}
	return ActionWrite
}

// Authorize checks that creds may do what need asks on the named share,
// for peer: the account's password (unless guest), then that the share
// exists, then the right, then the share's password. Errors wrap transport.ErrNotFound (no such share) or
// transport.ErrAccessDenied (wrong account or password, rate-limited, right
// missing, share password missing or wrong).
func (a *Access) Authorize(ctx context.Context, peer transport.PeerInfo, creds Credentials, shareName string, need Right) (Grant, error) {
	// The account comes first: who cannot log in learns nothing about
	// which shares exist.
	account, err := a.Login(ctx, peer, creds)
	if err != nil {
		return Grant{}, err
	}
	sh, err := a.cfg.Shares.Get(shareName)
	if err != nil {
		a.Audit(peer, account, actionFor(need), Shorten(shareName), false, "no such share")
		return Grant{}, err
	}
	g := Grant{Share: sh, Account: account, Right: sh.RightOf(account), Peer: peer, PeerName: a.cfg.PeerName(peer.ID)}
	if !g.Right.Covers(need) {
		detail := fmt.Sprintf("%s has %s, needs %s", account, g.Right, need)
		a.Audit(peer, account, actionFor(need), sh.Name, false, detail)
		return Grant{}, fmt.Errorf("%w: %s may not %s share %s", transport.ErrAccessDenied, account, verbFor(need), sh.Name)
	}
	if err := a.checkSharePassword(ctx, peer, account, sh, creds.SharePassword); err != nil {
		return Grant{}, err
	}
	return g, nil
}

func verbFor(need Right) string {
	switch need {
	case RightRO:
		return "read"
	case RightWO:
		return "write to"
	case RightRW:
		return "read and write"
	case RightPrint:
		return "print on"
	}
	return "use"
}

// Login verifies the account of creds (guests need nothing) and returns the
// account name (GuestUser for a guest).
func (a *Access) Login(ctx context.Context, peer transport.PeerInfo, creds Credentials) (string, error) {
	if creds.IsGuest() {
		return GuestUser, nil
	}
	user := strings.TrimSpace(creds.User)
	if len(user) > MaxUsernameBytes {
		user = user[:MaxUsernameBytes]
	}
	stored, known := a.cfg.Accounts.hash(user)
	key := a.cacheKey("account", peer.ID, user, stored, creds.Password)
	if known && a.cached(key) {
		return user, nil
	}
	err := a.verify(ctx, peer, user, LimitKey{Peer: peer.ID, Subject: "user:" + user}, "", func() error {
		return a.cfg.Accounts.Verify(user, creds.Password)
	})
	if err != nil {
		return "", err
	}
	a.remember(key)
	return user, nil
}

// checkSharePassword verifies a share's resource password, if it has one.
func (a *Access) checkSharePassword(ctx context.Context, peer transport.PeerInfo, account string, sh Share, password string) error {
	if !sh.HasPassword() {
		return nil
	}
	key := a.cacheKey("share", peer.ID, strings.ToLower(sh.Name), sh.PasswordHash, password)
	if a.cached(key) {
		return nil
	}
	err := a.verify(ctx, peer, account, LimitKey{Peer: peer.ID, Subject: "share:" + strings.ToLower(sh.Name)}, sh.Name, func() error {
		if password == "" {
			return fmt.Errorf("%w: share %s needs its password", transport.ErrAccessDenied, sh.Name)
		}
		ok, err := VerifyPassword(sh.PasswordHash, password)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: wrong password for share %s", transport.ErrAccessDenied, sh.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.remember(key)
	return nil
}

// verify runs one rate-limited, gated password check and audits it as a
// login (of an account, or for the resource share when share != "").
func (a *Access) verify(ctx context.Context, peer transport.PeerInfo, account string, lk LimitKey, share string, check func() error) error {
	// Failures count per (peer, subject), per (source address, subject) and
	// per subject from anywhere: fresh identities are free to make, so the
	// peer alone bounds nothing (docs/security.md, M1).
	limits := []struct {
		l *Limiter
		k LimitKey
	}{{a.cfg.Limiter, lk}, {a.cfg.AccountLimiter, LimitKey{Peer: "*", Subject: lk.Subject}}}
	if peer.Addr != nil {
		limits = append(limits, struct {
			l *Limiter
			k LimitKey
		}{a.cfg.Limiter, LimitKey{Peer: "ip:" + peer.Addr.IP.String(), Subject: lk.Subject}})
	}
	var wait time.Duration
	for _, x := range limits {
		wait = max(wait, x.l.Wait(x.k))
	}
	if wait > 0 {
		err := errRateLimited(wait)
		a.Audit(peer, account, ActionLogin, share, false, err.Error())
		a.cfg.Logger.Info("login refused: rate limited", "peer", peer.ID, "account", account, "share", share, "wait", wait)
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !a.work.take() {
		err := fmt.Errorf("%w: %w: too many password checks at once on this PC; retry shortly", transport.ErrAccessDenied, ErrBusy)
		a.Audit(peer, account, ActionLogin, share, false, "password checks over budget")
		return err
	}
	release, ok := a.gate.Enter(peer.ID)
	if !ok {
		err := fmt.Errorf("%w: %w: too many logins in progress from this peer", transport.ErrAccessDenied, ErrBusy)
		a.Audit(peer, account, ActionLogin, share, false, "too many logins in progress")
		return err
	}
	defer release()
	if err := check(); err != nil {
		if !errors.Is(err, transport.ErrAccessDenied) {
			// A damaged stored hash: the owner's problem, not a failed guess.
			a.cfg.Logger.Error("password check failed", "peer", peer.ID, "account", account, "share", share, "err", err)
			a.Audit(peer, account, ActionLogin, share, false, "internal error")
			return fmt.Errorf("%w: cannot check the password", transport.ErrAccessDenied)
		}
		var wait time.Duration
		for _, x := range limits {
			wait = max(wait, x.l.Fail(x.k))
		}
		detail := err.Error()
		if wait > 0 {
			detail += fmt.Sprintf("; next try in %s", wait.Round(time.Second))
		}
		a.Audit(peer, account, ActionLogin, share, false, detail)
		a.cfg.Logger.Info("login refused", "peer", peer.ID, "account", account, "share", share)
		return err
	}
	// The per-subject count is not reset: one right password does not buy
	// a guesser elsewhere another 20 free tries.
	a.cfg.Limiter.Success(lk)
	if peer.Addr != nil {
		a.cfg.Limiter.Success(LimitKey{Peer: "ip:" + peer.Addr.IP.String(), Subject: lk.Subject})
	}
	a.Audit(peer, account, ActionLogin, share, true, "")
	return nil
}

// cacheKey is the HMAC that stands for a verified password.
func (a *Access) cacheKey(kind, peer, subject, stored, password string) [32]byte {
	m := hmac.New(sha256.New, a.hmacKey[:])
	for _, s := range []string{kind, peer, subject, stored, password} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	var k [32]byte
	m.Sum(k[:0])
	return k
}

func (a *Access) cached(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.cache[key]
	if !ok {
		return false
	}
	if a.cfg.Now().After(exp) {
		delete(a.cache, key)
		return false
	}
	return true
}

func (a *Access) remember(key [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	if len(a.cache) >= maxCacheEntries {
		for k, exp := range a.cache {
			if now.After(exp) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCacheEntries {
			clear(a.cache)
		}
	}
	a.cache[key] = now.Add(a.cfg.CacheTTL)
}

// VisibleShare is a share as shares.list shows it to a peer.
type VisibleShare struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Right    Right  `json:"right"`
	Password bool   `json:"password"`
}

// Visible returns the shares creds hold any right on, and with locked
// the others too, with RightNone (as Windows lists every share of a PC):
// a person then sees that there is more to log in for. An account's
// password is verified (so nobody learns an account's shares by naming
// it); share passwords are not needed to see a share, which is marked as
// needing one.
func (a *Access) Visible(ctx context.Context, peer transport.PeerInfo, creds Credentials, locked bool) ([]VisibleShare, string, error) {
	account, err := a.Login(ctx, peer, creds)
	if err != nil {
		return nil, "", err
	}
	out := []VisibleShare{}
	for _, sh := range a.cfg.Shares.List() {
		if r := sh.RightOf(account); r != RightNone || locked {
			out = append(out, VisibleShare{Name: sh.Name, Kind: sh.Kind, Right: r.orNone(), Password: sh.HasPassword()})
		}
	}
	return out, account, nil
}

// Readable returns the folder shares an already logged-in account may read
// with the given share password, without auditing the shares it may not
// (search covers every share; one refusal per share would drown the log).
// A wrong share password is still rate-limited and audited.
func (a *Access) Readable(ctx context.Context, peer transport.PeerInfo, account, sharePassword string) []Grant {
	var out []Grant
	for _, sh := range a.cfg.Shares.List() {
		if sh.Kind != KindFolder || !sh.RightOf(account).Covers(RightRO) {
			continue
		}
		if sh.HasPassword() {
			if sharePassword == "" {
				continue
			}
			if err := a.checkSharePassword(ctx, peer, account, sh, sharePassword); err != nil {
				continue
			}
		}
		out = append(out, Grant{Share: sh, Account: account, Right: sh.RightOf(account), Peer: peer, PeerName: a.cfg.PeerName(peer.ID)})
	}
	return out
}
