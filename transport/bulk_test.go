package transport

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// bulkPair returns a client endpoint with a live session to a server
// endpoint that answers bench.download (benchEndpoint).
func bulkPair(t testing.TB) (*Endpoint, string, []string) {
	t.Helper()
	server, serverID := benchEndpoint(t)
	client, _ := benchEndpoint(t)
	peer := serverID.ID.String()
	addrs := []string{server.Addr().String()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Session(ctx, peer, addrs); err != nil {
		t.Fatal(err)
	}
	return client, peer, addrs
}

func download(t testing.TB, client *Endpoint, peer string, addrs []string, n int64, w io.Writer) (int64, error) {
	return downloadLimited(t, client, peer, addrs, n, w, -1)
}

// downloadLimited downloads n bytes into a receiver that accepts at most limit.
func downloadLimited(t testing.TB, client *Endpoint, peer string, addrs []string, n int64, w io.Writer, limit int64) (int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := client.Open(ctx, peer, addrs, "bench.download", map[string]int64{"n": n})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.ReadResponse("bench.download", nil); err != nil {
		return 0, err
	}
	return st.ReceiveBody(ctx, w, limit)
}

func TestBulkDownload(t *testing.T) {
	client, peer, addrs := bulkPair(t)
	sess, _ := client.Session(context.Background(), peer, addrs)
	if sess.bulk == nil {
		t.Fatal("no bulk channel negotiated")
	}
	for _, n := range []int64{0, 1, 100 << 10, 128 << 10, 1 << 20, 32 << 20, 256 << 20} {
		start := time.Now()
		got, err := download(t, client, peer, addrs, n, io.Discard)
		if err != nil || got != n {
			t.Fatalf("download %d: got %d, %v", n, got, err)
		}
		t.Logf("%d bytes in %v", n, time.Since(start))
	}
}

// TestBulkWindowSizedByLimit: bodies up to a receiver's limit arrive
// whole (in a window of that size: bulk.TestRingSize) while one byte more
// is refused.
func TestBulkWindowSizedByLimit(t *testing.T) {
	client, peer, addrs := bulkPair(t)
	for _, n := range []int64{200 << 10, 1 << 20, 3<<20 + 7} {
		var sink countingWriter
		if got, err := downloadLimited(t, client, peer, addrs, n, &sink, n); err != nil || got != n || int64(sink) != n {
			t.Fatalf("download %d with limit %d: got %d (%d written), %v", n, n, got, sink, err)
		}
		if _, err := downloadLimited(t, client, peer, addrs, n, io.Discard, n-1); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("download %d with limit %d: %v, want ErrFrameTooLarge", n, n-1, err)
		}
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// TestBulkActivity: the activity hook hears the first body start and the
// last one end, on both ends of a transfer (one process here, so one
// count), and the count is back to zero after.
func TestBulkActivity(t *testing.T) {
	client, peer, addrs := bulkPair(t)
	var mu sync.Mutex
	var heard []bool
	var during int64
	OnBulkActivity(func(busy bool) {
		mu.Lock()
		heard = append(heard, busy)
		mu.Unlock()
	})
	defer OnBulkActivity(nil)
	w := flowsWriter{most: &during}
	if got, err := download(t, client, peer, addrs, 4<<20, w); err != nil || got != 4<<20 {
		t.Fatalf("download: %d, %v", got, err)
	}
	for end := time.Now().Add(2 * time.Second); BulkFlows() != 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := BulkFlows(); n != 0 {
		t.Errorf("%d bodies still counted after the transfer", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if during != 2 {
		t.Errorf("%d bodies counted while one went from one end to the other in this process, want 2 (its sender and its receiver)", during)
	}
	if len(heard) == 0 || !heard[0] || heard[len(heard)-1] {
		t.Errorf("activity heard %v, want busy first and idle last", heard)
	}
}

// flowsWriter discards what it gets and notes the most bodies moving
// while it got some.
type flowsWriter struct{ most *int64 }

func (w flowsWriter) Write(p []byte) (int, error) {
	*w.most = max(*w.most, BulkFlows())
	return len(p), nil
}

// TestBulkWindowFollowsASlowWriter: a receiver whose writer drains slower
// than the link (here ~40 MB/s over loopback) does not keep the whole
// 4 MiB window filled for it: the advertised window shrinks to what the
// writer needs, and the download still completes at the writer's pace.
func TestBulkWindowFollowsASlowWriter(t *testing.T) {
	client, peer, addrs := bulkPair(t)
	const n = 24 << 20
	w := &slowWriter{perWrite: 2500 * time.Microsecond}
	start := time.Now()
	if got, err := download(t, client, peer, addrs, n, w); err != nil || got != n {
		t.Fatalf("download: %d, %v", got, err)
	}
	took := time.Since(start)
	if BulkReceiveHeld() != 0 {
		t.Errorf("%d bytes still held after the transfer", BulkReceiveHeld())
	}
	t.Logf("%d MiB in %v (%.0f MB/s); held at most %d KiB once half was written (the ring is 4096 KiB)",
		n>>20, took.Round(time.Millisecond), float64(n)/took.Seconds()/1e6, w.mostHeld>>10)
	if limit := int64(1<<20 + 256<<10); w.mostHeld > limit {
		t.Errorf("the window held up to %d KiB for a writer slower than the link, want at most %d KiB", w.mostHeld>>10, limit>>10)
	}
}

// slowWriter takes perWrite for each write, and notes the most bytes the
// receive windows held once it wrote 12 MiB (the window adjusted, a few
// intervals in).
type slowWriter struct {
	perWrite time.Duration
	written  int64
	mostHeld int64
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.perWrite)
	w.written += int64(len(p))
	if w.written > 12<<20 {
		w.mostHeld = max(w.mostHeld, BulkReceiveHeld())
	}
	return len(p), nil
}
