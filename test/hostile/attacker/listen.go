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
	bogusPeers := fs.Int("bogus-peers", 0, "answer peer.list with this many made-up peers at bad addresses")
	misreport := fs.String("misreport", "", "ID@ADDR: also report peer ID at ADDR with a fingerprint that is not its own")
	noMDNS := fs.Bool("no-mdns", false, "announce nothing: only a victim that adds this address by hand finds it")
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
	if *bogusPeers > 0 || *misreport != "" {
		if rec.answers == nil {
			rec.answers = map[string]any{}
		}
		rec.answers["peer.list"] = map[string]any{"peers": lyingPeerList(*bogusPeers, *misreport)}
	}
	ep, ident, err := endpoint(ctx, uuid.New(), net.JoinHostPort("0.0.0.0", strconv.Itoa(*port)), rec)
	if err != nil {
		return err
	}
	defer ep.Close()
	ann := discovery.Announcement{ID: ident.ID.String(), Name: *name, Fingerprint: ident.Fingerprint(), Port: *port, Version: transport.ProtocolVersion}
	if !*noMDNS {
		srv, err := zeroconf.RegisterProxy(ann.ID, discovery.Service, discovery.Domain, *port, "stranger", []string{ownIPv4()}, ann.TXT(), nil)
		if err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		srv.TTL(30)
		defer srv.Shutdown()
	}
	fmt.Println(`{"ready":true}`)
	select {
	case <-time.After(*dur):
	case <-ctx.Done():
	}
	out["id"] = ann.ID
	rec.report(out)
	return nil
}

// lyingPeerList makes a peer.list answer: n made-up peers at addresses no
// peer may be sent to (loopback, multicast, unspecified, link-local, names,
// ports out of range) or that lead nowhere, and, with misreport
// "ID@ADDR", a real peer at its real address with a fingerprint that is
// not its own.
func lyingPeerList(n int, misreport string) []map[string]any {
	bad := []string{"127.0.0.1:47220", "224.0.0.251:5353", "0.0.0.0:47220", "[fe80::1]:47220",
		"pc.example.com:47220", "10.1.2.3:0", "10.1.2.3:99999", "not an address"}
	now := time.Now().Unix()
	var out []map[string]any
	if id, addr, ok := strings.Cut(misreport, "@"); ok {
		out = append(out, map[string]any{"id": id, "fingerprint": strings.Repeat("ab", 32), "addresses": []string{addr}, "last_reached": now})
	}
	for i := range n {
		out = append(out, map[string]any{
			"id":           uuid.New().String(),
			"fingerprint":  strings.Repeat("cd", 32),
			"addresses":    []string{bad[i%len(bad)], bad[(i+1)%len(bad)], bad[(i+2)%len(bad)], bad[(i+3)%len(bad)], bad[(i+4)%len(bad)]},
			"last_reached": now,
		})
	}
	return out
}
