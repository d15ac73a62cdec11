package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// fakePeers is a peer table of one peer.
type fakePeers struct{ p Peer }

func (f *fakePeers) Resolve(ref string) (Peer, error) {
	if ref != f.p.ID {
		return Peer{}, errors.New("unknown peer")
	}
	return f.p, nil
}

func (f *fakePeers) List() []Peer { return []Peer{f.p} }

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left") }

// TestSourceResumesABrokenRange: a range whose session breaks is asked for
// again from where it stopped while the peer is online and bytes move;
// refusals, this side's disk, a peer gone offline and a peer that sends
// nothing for the stall time end it.
func TestSourceResumesABrokenRange(t *testing.T) {
	file := make([]byte, 1000)
	for i := range file {
		file[i] = byte(i * 7)
	}
	broken := fmt.Errorf("receive body: %w", transport.ErrClosed)
	denied := &transport.RemoteError{Op: "fs.read", Code: "denied", Message: "access denied"}
	cases := []struct {
		name string
		// fail says how attempt k (from 0) ends: after how many bytes,
		// with which error (nil: it delivers the rest).
		fail      func(k int) (int64, error)
		offline   bool
		w         io.Writer
		wantErr   error // nil: the whole range arrives
		wantCalls func(int64) bool
	}{
		{"two breaks, then the rest", func(k int) (int64, error) {
			if k < 2 {
				return 300, broken
			}
			return 0, nil
		}, false, nil, nil, func(c int64) bool { return c == 3 }},
		{"a session that cannot be made at first", func(k int) (int64, error) {
			if k < 3 {
				return 0, fmt.Errorf("dial: %w", transport.ErrUnreachable)
			}
			return 0, nil
		}, false, nil, nil, func(c int64) bool { return c == 4 }},
		{"a refusal is not retried", func(int) (int64, error) { return 0, denied }, false, nil, transport.ErrAccessDenied, func(c int64) bool { return c == 1 }},
		{"a protocol error is not retried", func(int) (int64, error) { return 10, fmt.Errorf("fs.read: %w", transport.ErrProtocol) }, false, nil, transport.ErrProtocol, func(c int64) bool { return c == 1 }},
		{"this side's disk is not retried", func(int) (int64, error) { return 10, broken }, false, failingWriter{}, transport.ErrClosed, func(c int64) bool { return c == 1 }},
		{"a peer gone offline is not retried", func(int) (int64, error) { return 100, broken }, true, nil, transport.ErrClosed, func(c int64) bool { return c == 1 }},
		{"nothing moves for the stall time", func(int) (int64, error) { return 0, fmt.Errorf("dial: %w", transport.ErrUnreachable) }, false, nil, transport.ErrUnreachable, func(c int64) bool { return c > 2 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int64
			var got bytes.Buffer
			w := c.w
			if w == nil {
				w = &got
			}
			const off = 100
			s := &remoteSource{
				t:          access.Target{ID: "peer-1", Addrs: []string{"10.0.0.2:47220"}},
				name:       "desk",
				peers:      &fakePeers{Peer{ID: "peer-1", Name: "desk", Addrs: []string{"10.0.0.3:47220"}, Online: !c.offline}},
				stall:      300 * time.Millisecond,
				retryPause: 5 * time.Millisecond,
				read: func(ctx context.Context, tg access.Target, o, n int64, w io.Writer) (int64, error) {
					k := int(calls.Add(1)) - 1
					if k > 0 && tg.Addrs[0] != "10.0.0.3:47220" {
						t.Errorf("retry %d dialled %v, not where the table has the peer now", k, tg.Addrs)
					}
					upto, err := c.fail(k)
					if err == nil {
						upto = n
					}
					upto = min(upto, n)
					// A write that failed, then the session too: only the
					// writer knows the disk was first.
					wrote, werr := w.Write(file[o : o+upto])
					if werr != nil && err == nil {
						return int64(wrote), werr
					}
					return int64(wrote), err
				},
			}
			start := time.Now()
			n, err := s.ReadRange(t.Context(), off, 800, w)
			if !c.wantCalls(calls.Load()) {
				t.Errorf("%d requests", calls.Load())
			}
			if c.wantErr == nil {
				if err != nil || n != 800 || !bytes.Equal(got.Bytes(), file[off:off+800]) {
					t.Fatalf("got %d bytes (%d written, same as the file: %v), %v", n, got.Len(), bytes.Equal(got.Bytes(), file[off:off+got.Len()]), err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("gave up after %v", el)
			}
		})
	}
}

// TestSourceStopsOnCancel: a canceled download does not wait out retries.
func TestSourceStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := &remoteSource{
		t:     access.Target{ID: "peer-1"},
		peers: &fakePeers{Peer{ID: "peer-1", Online: true}},
		read: func(ctx context.Context, _ access.Target, _, _ int64, _ io.Writer) (int64, error) {
			cancel()
			return 0, fmt.Errorf("receive body: %w", transport.ErrClosed)
		},
	}
	start := time.Now()
	if _, err := s.ReadRange(ctx, 0, 10, io.Discard); err == nil {
		t.Fatal("no error")
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("returned after %v", el)
	}
}

// TestResumerRetriesBusyButNotAFinishedUpload: a receiver still busy with
// the attempt before (its session not seen broken yet) is asked again; an
// upload whose last byte went is not sent again (it may have landed: a
// second copy), nor is a canceled one.
func TestResumerRetriesBusyButNotAFinishedUpload(t *testing.T) {
	busy := &transport.RemoteError{Op: "fs.put.data", Code: "error", Classes: []string{"busy"}, Message: "being received already"}
	broken := fmt.Errorf("send body: %w", syscall.ENETUNREACH)
	r := resumer{t: &access.Target{ID: "peer-1"}, name: "desk", stall: time.Second, pause: 5 * time.Millisecond}
	var m meter
	m.start()
	calls := 0
	err := r.run(t.Context(), &m, m.sent(100), func() error {
		calls++
		switch calls {
		case 1:
			m.reached(40)
			return broken
		case 2, 3:
			return busy
		}
		m.reached(100)
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("%d attempts, %v; want 4 and success", calls, err)
	}
	calls = 0
	var all meter
	all.start()
	err = r.run(t.Context(), &all, all.sent(100), func() error {
		calls++
		all.reached(100)
		return broken
	})
	if !errors.Is(err, syscall.ENETUNREACH) || calls != 1 {
		t.Fatalf("an upload that sent everything: %d attempts, %v; want 1", calls, err)
	}
}
