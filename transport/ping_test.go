package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/identity"
)

// pingEndpoint is an endpoint that counts the pings it hears.
func pingEndpoint(t *testing.T, plane DataPlane, heard *atomic.Int32) (*Endpoint, string) {
	t.Helper()
	id, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	trust, err := identity.OpenTrustStore(filepath.Join(t.TempDir(), "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := Listen(context.Background(), "127.0.0.1:0", Config{Identity: id, Trust: trust, Handler: NewMux(), DataPlane: plane,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnPing: func(PeerInfo) { heard.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep, id.ID.String()
}

// A ping proves the peer of a session is there and tells the peer it was
// pinged; it needs a session, and a session with the bulk channel; a
// peer that is gone leaves it unanswered until the caller gives up.
func TestPing(t *testing.T) {
	var heardByServer, heardByClient atomic.Int32
	server, serverID := pingEndpoint(t, nil, &heardByServer)
	client, _ := pingEndpoint(t, nil, &heardByClient)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := client.Ping(ctx, serverID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("ping without a session: %v, want ErrNoSession", err)
	}
	if _, err := client.Session(ctx, serverID, []string{server.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 10 {
		if err := client.Ping(ctx, serverID); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	t.Logf("10 pings in %v", time.Since(start))
	if got := heardByServer.Load(); got != 10 {
		t.Errorf("server heard %d pings, want 10", got)
	}
	if got := heardByClient.Load(); got != 0 {
		t.Errorf("client heard %d pings, want 0 (pongs are not pings)", got)
	}

	// The peer goes away without a word: the ping is not answered.
	server.Close()
	short, cancelShort := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancelShort()
	if err := client.Ping(short, serverID); err == nil {
		t.Fatal("a closed peer answered a ping")
	}

	// Without the bulk channel there is nothing to carry a ping.
	var n atomic.Int32
	plain, plainID := pingEndpoint(t, StreamDataPlane{}, &n)
	if _, err := client.Session(ctx, plainID, []string{plain.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(ctx, plainID); !errors.Is(err, ErrNoPing) {
		t.Fatalf("ping without the bulk channel: %v, want ErrNoPing", err)
	}
}

// An address where nothing answers is given up after FirstAnswer even
// when the caller allows the whole handshake time: a made-up mDNS record
// draws a bounded number of hellos at its victim.
func TestDialGivesUpOnSilence(t *testing.T) {
	var n atomic.Int32
	client, _ := pingEndpoint(t, nil, &n)
	client.cfg.FirstAnswer = 300 * time.Millisecond
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var hellos atomic.Int32
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
			hellos.Add(1)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = client.Session(ctx, uuid.NewString(), []string{silent.LocalAddr().String()})
	took := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial to a silent address: %v, want a deadline error", err)
	}
	if took > 2*time.Second {
		t.Errorf("gave up after %v, want about FirstAnswer (300 ms)", took)
	}
	t.Logf("silent address given up after %v, %d hellos sent: %v", took.Round(time.Millisecond), hellos.Load(), err)
}
