package shares

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/internal/testlog"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// testEndpoint starts a transport endpoint on loopback serving mux.
func testEndpoint(tb testing.TB, mux *transport.Mux) (*transport.Endpoint, string) {
	return testEndpointWith(tb, mux, nil)
}

// testEndpointWith is testEndpoint with plane moving bodies (nil: the
// default).
func testEndpointWith(tb testing.TB, mux *transport.Mux, plane transport.DataPlane) (*transport.Endpoint, string) {
	tb.Helper()
	id, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		tb.Fatal(err)
	}
	trust, err := identity.OpenTrustStore(filepath.Join(tb.TempDir(), "trust.json"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := transport.Config{Identity: id, Trust: trust, Logger: testlog.Logger(), HandshakeTimeout: 3 * time.Second, DataPlane: plane}
	if mux != nil {
		cfg.Handler = mux
	}
	ep, err := transport.Listen(context.Background(), "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ep.Close() })
	return ep, id.ID.String()
}

// env is a serving peer with a Service and one folder share, and a client
// peer with a Client, both on loopback.
type env struct {
	tb       testing.TB
	home     string
	shareDir string
	inbox    string
	svc      *Service
	server   *transport.Endpoint
	serverID string
	clientEP *transport.Endpoint
	client   Client

	mu     sync.Mutex
	accept func(Offer) bool
	offers []Offer
}

type envOptions struct {
	limiter   *access.Limiter
	transfers *transfer.Manager
	// planes move the server's and the client's bodies (nil: default);
	// limits are the server's and the client's transfer limits.
	serverPlane, clientPlane   transport.DataPlane
	serverLimits, clientLimits *ratelimit.Limits
}

func newEnv(tb testing.TB, opts ...envOptions) *env {
	tb.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	base := tb.TempDir()
	e := &env{tb: tb, home: filepath.Join(base, "home"), shareDir: filepath.Join(base, "share"), inbox: filepath.Join(base, "inbox")}
	if err := os.MkdirAll(e.shareDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	svc, err := NewService(ServiceConfig{
		Home: e.home, Name: "server", Inbox: e.inbox, Logger: testlog.Logger(), Limiter: o.limiter, Transfers: o.transfers, Limits: o.serverLimits,
		PeerName: func(id string) string { return "client-" + id[:4] },
		Accept: func(ctx context.Context, off Offer) bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.offers = append(e.offers, off)
			return e.accept != nil && e.accept(off)
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { svc.Close() })
	e.svc = svc
	mux := transport.NewMux()
	svc.Register(mux)
	e.server, e.serverID = testEndpointWith(tb, mux, o.serverPlane)
	e.clientEP, _ = testEndpointWith(tb, nil, o.clientPlane)
	e.client = Client{Caller: e.clientEP, Limits: o.clientLimits}
	return e
}

func (e *env) target(creds access.Credentials) access.Target {
	return access.Target{ID: e.serverID, Addrs: []string{e.server.Addr().String()}, Auth: creds}
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.tb.Cleanup(cancel)
	return ctx
}

func (e *env) addUser(name, password string) {
	e.tb.Helper()
	if err := e.svc.Accounts().Add(name, password); err != nil {
		e.tb.Fatal(err)
	}
}

func (e *env) addShare(sh access.Share, password string) {
	e.tb.Helper()
	if sh.Kind == "" {
		sh.Kind = access.KindFolder
	}
	if sh.Kind == access.KindFolder && sh.Path == "" {
		sh.Path = e.shareDir
	}
	if _, err := e.svc.Shares().Add(sh, password); err != nil {
		e.tb.Fatal(err)
	}
}

// writeFile writes data to a file below dir, creating folders.
func writeFile(tb testing.TB, dir, rel string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
