package shares

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/transport"
)

// cancelingWriter cancels its context on the first bytes it is given.
type cancelingWriter struct {
	cancel   context.CancelFunc
	canceled time.Time
}

func (w *cancelingWriter) Write(p []byte) (int, error) {
	if w.canceled.IsZero() {
		w.canceled = time.Now()
		w.cancel()
	}
	return len(p), nil
}

// TestCanceledReadEndsAtOnce: a read canceled while the owner still sends
// returns at once, whichever way the body comes (the bulk channel, data
// frames), and the session serves the next request right after. The rest
// of a bulk range is taken off the session in the background: the owner's
// answer to the abort can take a retransmission timeout to arrive.
func TestCanceledReadEndsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plane transport.DataPlane
	}{
		{"bulk channel", nil},
		{"data frames", transport.StreamDataPlane{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serverLimits := &ratelimit.Limits{}
			serverLimits.Up.SetRate(2 << 20)
			e := newEnv(t, envOptions{serverPlane: tc.plane, serverLimits: serverLimits})
			e.addShare(access.Share{Name: "docs", Guest: access.RightRO}, "")
			writeFile(t, e.shareDir, "big.bin", bytes.Repeat([]byte("peerdesk"), 2<<20)) // 16 MiB, 8 s at the owner's limit
			writeFile(t, e.shareDir, "small.txt", []byte("hello"))
			ctx, tg := e.ctx(), e.target(access.Credentials{})

			rctx, cancel := context.WithCancel(ctx)
			w := &cancelingWriter{cancel: cancel}
			_, n, err := e.client.ReadRange(rctx, tg, "docs", "big.bin", 0, 0, w)
			took := time.Since(w.canceled)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("canceled read: %d bytes, %v; want context.Canceled", n, err)
			}
			if took > time.Second {
				t.Fatalf("the canceled read returned %v after the cancel; want at once", took.Round(time.Millisecond))
			}
			start := time.Now()
			st, err := e.client.Stat(ctx, tg, "docs", "small.txt")
			if err != nil || st.Size != 5 {
				t.Fatalf("stat on the session right after the canceled read: %+v, %v", st, err)
			}
			t.Logf("canceled read returned %v after the cancel (%d bytes); the next request answered in %v",
				took.Round(time.Millisecond), n, time.Since(start).Round(time.Millisecond))
		})
	}
}
