package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"sync"
	"time"
)

func init() {
	register("junk", "a ClientHello from each of many source ports, then tiny junk datagrams of ever other sizes from all of them as fast as it can", junk)
}

// junk opens -sockets source ports; each sends a ClientHello (so that the
// victim gives that address a conn of its own) and then, for -for, tiny
// datagrams of varying size (1 to 64 bytes; consecutive datagrams of one
// size could be coalesced into one read) as fast as the sockets take
// them. Each is a datagram the victim must read and its DTLS layer drop:
// what the victim holds for datagrams waiting to be read should not grow
// with the flood. Every 500 ms each port says hello again, so that it has
// a conn again once the victim dropped its unproven handshake.
func junk(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("junk", flag.ContinueOnError)
	victim := fs.String("victim", "", "HOST:PORT")
	dur := fs.Duration("for", 10*time.Second, "how long")
	sockets := fs.Int("sockets", 64, "source ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	to, err := net.ResolveUDPAddr("udp", *victim)
	if err != nil || *victim == "" {
		return errors.New("want -victim HOST:PORT")
	}
	hello, err := clientHello()
	if err != nil {
		return err
	}
	conns := make([]*net.UDPConn, 0, *sockets)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range *sockets {
		c, err := net.DialUDP("udp", nil, to)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if _, err := c.Write(hello.bytes); err != nil {
			return err
		}
	}
	fmt.Println(`{"ready":true}`)
	fctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var mu sync.Mutex
	sent, bytes := 0, 0
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b [64]byte
			n, total := 0, 0
			rehello := time.Now().Add(500 * time.Millisecond)
			for i := 0; fctx.Err() == nil; i++ {
				if now := time.Now(); now.After(rehello) {
					_, _ = c.Write(hello.bytes)
					rehello = now.Add(500 * time.Millisecond)
				}
				size := 1 + i%len(b)
				// A record type no DTLS layer takes, so that nothing is answered.
				b[0] = 0xff
				if _, err := c.Write(b[:size]); err != nil {
					time.Sleep(time.Millisecond) // ICMP port unreachable and the like
					continue
				}
				n++
				total += size
			}
			mu.Lock()
			sent += n
			bytes += total
			mu.Unlock()
		}()
	}
	wg.Wait()
	out["datagrams_sent"], out["bytes_sent"], out["sockets"] = sent, bytes, len(conns)
	return nil
}
