package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/grandcat/zeroconf"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/transport"
)

func init() {
	register("listen", "a peer that answers hellos, records any credentials sent to it (H2) and may lie in its answers (M3)", listenAsPeer)
}

// listenAsPeer announces a peer of its own (a fresh id) over mDNS, answers
// hellos so that others count it online, refuses everything else and
// reports what it was sent, after -for.
func listenAsPeer(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	name := fs.String("name", "stranger", "display name")
	port := fs.Int("port", 47220, "UDP port")
	dur := fs.Duration("for", 20*time.Second, "how long to listen")
	lieSize := fs.Int64("lie-size", 0, "if not 0, answer fs.stat with this size for any file (M3)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rec := &recorder{hello: map[string]any{"name": *name, "port": *port, "version": transport.ProtocolVersion}}
	if *lieSize != 0 {
		rec.answers = map[string]any{"fs.stat": map[string]any{
			"name": "x.bin", "size": *lieSize, "mtime": time.Now().UTC(), "dir": false,
			"sha256": "ab" + strings.Repeat("cd", 31),
		}}
	}
	ep, ident, err := endpoint(ctx, uuid.New(), net.JoinHostPort("0.0.0.0", strconv.Itoa(*port)), rec)
	if err != nil {
		return err
	}
	defer ep.Close()
	ann := discovery.Announcement{ID: ident.ID.String(), Name: *name, Fingerprint: ident.Fingerprint(), Port: *port, Version: transport.ProtocolVersion}
	srv, err := zeroconf.RegisterProxy(ann.ID, discovery.Service, discovery.Domain, *port, "stranger", []string{ownIPv4()}, ann.TXT(), nil)
	if err != nil {
		return fmt.Errorf("mdns: %w", err)
	}
	srv.TTL(30)
	defer srv.Shutdown()
	fmt.Println(`{"ready":true}`)
	select {
	case <-time.After(*dur):
	case <-ctx.Done():
	}
	out["id"] = ann.ID
	rec.report(out)
	return nil
}
