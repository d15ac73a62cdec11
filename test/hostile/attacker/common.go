package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

// recorder answers every request an attacker's endpoint receives with a
// refusal, and notes what came in: the ops, and any credentials.
type recorder struct {
	mu          sync.Mutex
	ops         []string
	credentials int
	sessions    int
	// hello, if set, answers peer.hello.
	hello any
	// answers are canned (lying) answers by op.
	answers map[string]any
}

func (r *recorder) ServeStream(_ context.Context, req transport.Request, s *transport.Stream) {
	r.mu.Lock()
	r.ops = append(r.ops, req.Op)
	if strings.Contains(string(req.Body), `"password"`) || strings.Contains(string(req.Body), `"share_password"`) {
		r.credentials++
	}
	hello := r.hello
	r.mu.Unlock()
	if req.Op == "peer.hello" && hello != nil {
		// Look like a peer, so that others count it online.
		_ = s.Respond(hello)
		return
	}
	if a, ok := r.answers[req.Op]; ok {
		_ = s.Respond(a)
		return
	}
	_ = s.Fail(transport.ErrNotFound)
}

func (r *recorder) report(out report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out["inbound_sessions"] = r.sessions
	out["inbound_ops"] = append([]string{}, r.ops...)
	out["credentials_received"] = r.credentials
}

// endpoint is a transport endpoint of the attacker's own, with identity id
// (a fresh key: whatever id it claims) listening on addr.
func endpoint(ctx context.Context, id uuid.UUID, addr string, rec *recorder) (*transport.Endpoint, *identity.Identity, error) {
	ident, _, _, err := identity.NewIdentity(id)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "attacker-")
	if err != nil {
		return nil, nil, err
	}
	trust, err := identity.OpenTrustStore(filepath.Join(dir, "trust.json"))
	if err != nil {
		return nil, nil, err
	}
	cfg := transport.Config{Identity: ident, Trust: trust, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if rec != nil {
		cfg.Handler = rec
		cfg.OnSession = func(transport.PeerInfo) {
			rec.mu.Lock()
			rec.sessions++
			rec.mu.Unlock()
		}
	}
	ep, err := transport.Listen(ctx, addr, cfg)
	if err != nil {
		return nil, nil, err
	}
	return ep, ident, nil
}

// ownIPv4 is the first IPv4 address of an up, non-loopback interface: the
// attacker host's address on the bed.
func ownIPv4() string {
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return ""
}
