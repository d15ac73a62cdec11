package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v2/pkg/crypto/elliptic"
	"github.com/pion/dtls/v2/pkg/crypto/hash"
	"github.com/pion/dtls/v2/pkg/crypto/signature"
	"github.com/pion/dtls/v2/pkg/crypto/signaturehash"
	"github.com/pion/dtls/v2/pkg/protocol"
	"github.com/pion/dtls/v2/pkg/protocol/extension"
	"github.com/pion/dtls/v2/pkg/protocol/handshake"
	"github.com/pion/dtls/v2/pkg/protocol/recordlayer"
)

func init() {
	register("hellos", "spoofed DTLS ClientHellos that never answer the cookie: each from a new source address (M2)", hellos)
}

// hellos sends -rate ClientHellos a second for -for to -victim, each from
// a source port of its own (as a spoofer forging source addresses would:
// it never sees, so never answers, the victim's HelloVerifyRequest). It
// counts the datagrams the victim sent back and their bytes, to show that
// an answer is no bigger than the hello (no reflection gain).
func hellos(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("hellos", flag.ContinueOnError)
	victim := fs.String("victim", "", "HOST:PORT")
	rate := fs.Int("rate", 500, "hellos a second")
	dur := fs.Duration("for", 10*time.Second, "how long")
	sockets := fs.Int("sockets", 2048, "source ports to cycle through")
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
	var replies, replyBytes atomic.Int64
	conns := make([]*net.UDPConn, 0, *sockets)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range *sockets {
		c, err := net.ListenUDP("udp", nil)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		go func() {
			buf := make([]byte, 2048)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				replies.Add(1)
				replyBytes.Add(int64(n))
			}
		}()
	}
	fmt.Println(`{"ready":true}`)
	fctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	// In bursts every 10 ms: a ticker per hello would fall behind.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	sent, began := 0, time.Now()
	for fctx.Err() == nil {
		select {
		case <-fctx.Done():
		case now := <-tick.C:
			for want := int(now.Sub(began).Seconds() * float64(*rate)); sent < want; {
				// A fresh random for every hello, as fresh clients have.
				_, _ = rand.Read(hello.random)
				if _, err := conns[sent%len(conns)].WriteToUDP(hello.bytes, to); err != nil {
					break
				}
				sent++
			}
		}
	}
	time.Sleep(time.Second) // late answers
	out["hellos_sent"], out["hello_bytes"] = sent, len(hello.bytes)
	out["replies"], out["reply_bytes"] = replies.Load(), replyBytes.Load()
	return nil
}

// helloDatagram is one ClientHello record; random aliases its random bytes.
type helloDatagram struct {
	bytes  []byte
	random []byte
}

// clientHello builds the first ClientHello a Peerdesk peer sends: no
// cookie, the suite and extensions the real peers use.
func clientHello() (helloDatagram, error) {
	var r handshake.Random
	if err := r.Populate(); err != nil {
		return helloDatagram{}, err
	}
	rec := &recordlayer.RecordLayer{
		Header: recordlayer.Header{Version: protocol.Version1_0},
		Content: &handshake.Handshake{Message: &handshake.MessageClientHello{
			Version:            protocol.Version1_2,
			Random:             r,
			CipherSuiteIDs:     []uint16{0xc02b}, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
			CompressionMethods: []*protocol.CompressionMethod{{}},
			Extensions: []extension.Extension{
				&extension.SupportedEllipticCurves{EllipticCurves: []elliptic.Curve{elliptic.X25519, elliptic.P256}},
				&extension.SupportedPointFormats{PointFormats: []elliptic.CurvePointFormat{elliptic.CurvePointFormatUncompressed}},
				&extension.SupportedSignatureAlgorithms{SignatureHashAlgorithms: []signaturehash.Algorithm{{Hash: hash.SHA256, Signature: signature.ECDSA}}},
				&extension.UseExtendedMasterSecret{Supported: true},
				&extension.ALPN{ProtocolNameList: []string{"peerdesk-bulk/1", "peerdesk/1"}},
			},
		}},
	}
	b, err := rec.Marshal()
	if err != nil {
		return helloDatagram{}, err
	}
	// The random sits after the record header (13), the handshake header
	// (12) and the version (2).
	const at = recordlayer.HeaderSize + handshake.HeaderLength + 2
	return helloDatagram{bytes: b, random: b[at : at+handshake.RandomLength]}, nil
}
