package transport

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peerdesk/peerdesk/identity"
)

// benchEndpoint starts an endpoint on loopback that answers "bench.download"
// with a body of the requested size.
func benchEndpoint(tb testing.TB) (*Endpoint, *identity.Identity) {
	tb.Helper()
	id, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		tb.Fatal(err)
	}
	trust, err := identity.OpenTrustStore(filepath.Join(tb.TempDir(), "trust.json"))
	if err != nil {
		tb.Fatal(err)
	}
	mux := NewMux()
	mux.Handle("bench.download", func(ctx context.Context, req Request, s *Stream) {
		var in struct{ N int64 }
		if err := DecodeBody(req, &in); err != nil {
			_ = s.Fail(err)
			return
		}
		if err := s.Respond(nil); err != nil {
			return
		}
		_, _ = s.SendBody(ctx, io.LimitReader(zeroReader{}, in.N))
		// The client closes its side once it has everything.
		_, _ = s.ReadFrame()
	})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ep, err := Listen(context.Background(), "127.0.0.1:0", Config{Identity: id, Trust: trust, Handler: mux, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ep.Close() })
	return ep, id
}

// benchPair starts a server and a client benchEndpoint and returns the
// client, the server's id and address, and a context for the benchmark.
func benchPair(b *testing.B) (ctx context.Context, client *Endpoint, peer string, addrs []string) {
	server, serverID := benchEndpoint(b)
	client, _ = benchEndpoint(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	return ctx, client, serverID.ID.String(), []string{server.Addr().String()}
}

// BenchmarkStreamThroughput moves 8 MiB per op over one stream of an
// established session on loopback (both ends in this process).
func BenchmarkStreamThroughput(b *testing.B) {
	const size = 8 << 20
	ctx, client, peer, addrs := benchPair(b)
	if _, err := client.Session(ctx, peer, addrs); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		st, err := client.Open(ctx, peer, addrs, "bench.download", map[string]int64{"n": size})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.ReadResponse("bench.download", nil); err != nil {
			b.Fatal(err)
		}
		n, err := st.ReceiveBody(ctx, io.Discard, -1)
		st.Close()
		if err != nil || n != size {
			b.Fatalf("received %d bytes: %v", n, err)
		}
	}
}

// BenchmarkSessionSetup measures what a first contact costs: a DTLS
// handshake, the stream layer's association and the first request and
// answer, between two endpoints on loopback (both in this process). It
// reports the CPU both sides spent per pair, which is what bounds how
// fast 50 peers started together see each other (R2 4/7).
func BenchmarkSessionSetup(b *testing.B) {
	ctx, client, peer, addrs := benchPair(b)
	before := processCPU()
	b.ResetTimer()
	for range b.N {
		requestByte(ctx, b, client, peer, addrs)
		client.Drop(peer)
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-before).Microseconds())/1000/float64(b.N), "cpu-ms/pair")
}

// requestByte asks peer (a benchEndpoint) for one byte, dialling it if
// there is no session.
func requestByte(ctx context.Context, b *testing.B, c *Endpoint, peer string, addrs []string) {
	st, err := c.Open(ctx, peer, addrs, "bench.download", map[string]int64{"n": 1})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.ReadResponse("bench.download", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := st.ReceiveBody(ctx, io.Discard, -1); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSessionMemory reports what an established, idle session holds
// (both ends, in this process): with 100 peers a daemon keeps 99 of them
// (R2 4/7: ≤ 25 MB per daemon). Sessions come from distinct endpoints on
// loopback, at most MaxSessionsPerAddr of them.
func BenchmarkSessionMemory(b *testing.B) {
	const n = 15
	for range b.N {
		b.StopTimer()
		server, serverID := benchEndpoint(b)
		clients := make([]*Endpoint, n)
		for i := range clients {
			clients[i], _ = benchEndpoint(b)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for _, c := range clients {
			requestByte(ctx, b, c, serverID.ID.String(), []string{server.Addr().String()})
		}
		b.StopTimer()
		time.Sleep(time.Second) // the streams' close settles
		runtime.GC()
		runtime.ReadMemStats(&after)
		cancel()
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n/1024, "heap-KB/pair")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n/1024, "stack-KB/pair")
		for _, c := range clients {
			c.Close()
		}
		server.Close()
		b.StartTimer()
	}
}
