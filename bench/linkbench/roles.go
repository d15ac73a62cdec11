//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

const (
	downloadOp = "bench.download"
	cpuOp      = "bench.cpu"
	pingOp     = "bench.ping"
	listOp     = "bench.list"
	copyBuffer = 64 << 10
	// listEntries is the size of the listing timed during a transfer
	// (docs/performance.md: a 10,000-entry listing within 300 ms).
	listEntries = 10000
)

// listEntry has the fields of a shares listing entry (shares.Entry), so
// the listing has a real one's size and encoding cost.
type listEntry struct {
	Name  string    `json:"name"`
	Size  int64     `json:"size"`
	Mtime time.Time `json:"mtime"`
	Dir   bool      `json:"dir"`
}

func makeListing() []listEntry {
	es := make([]listEntry, listEntries)
	t := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range es {
		es[i] = listEntry{Name: fmt.Sprintf("Quarterly report %05d (final, reviewed).pdf", i), Size: int64(i) * 7919, Mtime: t.Add(time.Duration(i) * time.Minute), Dir: i%50 == 0}
	}
	return es
}

// ready is what the server role prints once it listens.
type ready struct {
	UDP   string `json:"udp"`
	TCP   string `json:"tcp"`
	ID    string `json:"id"`
	TLSFP string `json:"tls_fp"`
}

// processCPU is the user+system CPU this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// patternReader repeats a fixed random megabyte: not compressible, cheap.
type patternReader struct {
	pattern []byte
	off     int
}

func newPattern() []byte {
	p := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{}).Read(p)
	return p
}

func (p *patternReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], p.pattern[p.off:])
		n += c
		p.off = (p.off + c) % len(p.pattern)
	}
	return n, nil
}

func logger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("LINKBENCH_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func newEndpoint(ctx context.Context, dir, name, listen string, plane transport.DataPlane, h transport.Handler) (*transport.Endpoint, *identity.Identity, error) {
	id, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		return nil, nil, err
	}
	trust, err := identity.OpenTrustStore(filepath.Join(dir, name+"-trust.json"))
	if err != nil {
		return nil, nil, err
	}
	ep, err := transport.Listen(ctx, net.JoinHostPort(listen, "0"), transport.Config{
		Identity: id, Trust: trust, Handler: h, Logger: logger(), DataPlane: plane,
	})
	return ep, id, err
}

func dataPlane(name string) (transport.DataPlane, error) {
	switch name {
	case "bulk":
		return transport.BulkDataPlane{}, nil
	case "stream":
		return transport.StreamDataPlane{}, nil
	}
	return nil, fmt.Errorf("unknown -plane %q (bulk or stream)", name)
}

// serveRole answers downloads over the transport and over TLS until its
// stdin closes.
func serveRole(o options) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	plane, err := dataPlane(o.plane)
	if err != nil {
		return err
	}
	pattern := newPattern()
	mux := transport.NewMux()
	dir, err := scratchDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	filePath := ""
	if o.get {
		svc, p, err := serveShare(dir, int64(o.mib)<<20, pattern, mux, logger())
		if err != nil {
			return err
		}
		defer svc.Close()
		filePath = p
	}
	mux.Handle(downloadOp, func(ctx context.Context, req transport.Request, s *transport.Stream) {
		var in struct{ N int64 }
		if err := transport.DecodeBody(req, &in); err != nil {
			_ = s.Fail(err)
			return
		}
		if err := s.Respond(nil); err != nil {
			return
		}
		if _, err := s.SendBody(ctx, io.LimitReader(&patternReader{pattern: pattern}, in.N)); err != nil {
			slog.Warn("send body", "err", err)
			return
		}
		_, _ = s.ReadFrame() // the client closes first
	})
	mux.Handle(cpuOp, func(ctx context.Context, req transport.Request, s *transport.Stream) {
		packets, resent := transport.BulkSendTotals()
		_ = s.Respond(map[string]int64{"cpu_ns": int64(processCPU()), "packets": int64(packets), "resent": int64(resent)})
	})
	mux.Handle(pingOp, func(ctx context.Context, req transport.Request, s *transport.Stream) {
		_ = s.Respond(nil)
	})
	listing := makeListing()
	mux.Handle(listOp, func(ctx context.Context, req transport.Request, s *transport.Stream) {
		// As shares' fs.list answers a large folder: the size in the
		// response, the JSON as a body (encoded per request).
		b, err := json.Marshal(listing)
		if err != nil {
			_ = s.Fail(err)
			return
		}
		if err := s.Respond(map[string]int64{"size": int64(len(b))}); err != nil {
			return
		}
		if _, err := s.SendBody(ctx, bytes.NewReader(b)); err != nil {
			return
		}
		_, _ = s.ReadFrame()
	})
	ep, id, err := newEndpoint(ctx, dir, "server", o.listen, plane, mux)
	if err != nil {
		return err
	}
	defer ep.Close()
	tlsID, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", net.JoinHostPort(o.listen, "0"), &tls.Config{
		Certificates: []tls.Certificate{tlsID.Certificate},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAnyClientCert,
	})
	if err != nil {
		return err
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveTLS(c, pattern, filePath)
			}()
		}
	}()
	b, _ := json.Marshal(ready{UDP: ep.Addr().String(), TCP: ln.Addr().String(), ID: id.ID.String(), TLSFP: tlsID.Fingerprint()})
	fmt.Println(string(b))
	_, _ = io.Copy(io.Discard, os.Stdin)
	ln.Close()
	return nil
}

// TLS request kinds: a byte, then an 8-byte length.
const (
	tlsPattern byte = 0 // that many pattern bytes
	tlsFile    byte = 1 // the shared file (the length is its size)
)

// serveTLS answers one connection: the request's bytes, then it waits for
// the client to close.
func serveTLS(c net.Conn, pattern []byte, filePath string) {
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	var src io.Reader = io.LimitReader(&patternReader{pattern: pattern}, int64(binary.BigEndian.Uint64(hdr[1:])))
	if hdr[0] == tlsFile {
		f, err := os.Open(filePath)
		if err != nil {
			return
		}
		defer f.Close()
		src = f
	}
	buf := make([]byte, copyBuffer)
	if _, err := io.CopyBuffer(c, src, buf); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, c)
}

// sample is one measured run.
type sample struct {
	Seconds   float64 `json:"seconds"`
	CPU       float64 `json:"cpu_seconds"`
	MBps      float64 `json:"mb_per_s"`
	CPUPerGiB float64 `json:"cpu_s_per_gib"`
	// Packets and Resent are the bulk data packets the server sent and
	// how many of them sent a chunk again (ours only).
	Packets int64 `json:"packets,omitempty"`
	Resent  int64 `json:"resent,omitempty"`
}

// serverSends is the server's bulk send counters.
type serverSends struct {
	Packets int64 `json:"packets"`
	Resent  int64 `json:"resent"`
}

// clientResult is what the client role reports.
type clientResult struct {
	Ours     []sample  `json:"ours"`
	TLS      []sample  `json:"tls"`
	Bare     []sample  `json:"bare_tls,omitempty"` // get cases: TLS to memory, no file, no hash
	PingIdle []float64 `json:"ping_idle_ms,omitempty"`
	PingBusy []float64 `json:"ping_busy_ms,omitempty"`
	ListIdle []float64 `json:"list_idle_ms,omitempty"`
	ListBusy []float64 `json:"list_busy_ms,omitempty"`
	Suite    string    `json:"tls_suite"`
	// Fair are runs of our get and the TLS get started together.
	Fair []fairSample `json:"fair,omitempty"`
	// Background are runs of our get in background mode.
	Background []backgroundSample `json:"background,omitempty"`
}

// backgroundSample is one run of background mode, each time in seconds:
// the TLS get alone and beside our background get started with it, and
// our get alone in each mode.
type backgroundSample struct {
	TLSAlone  float64 `json:"tls_alone"`
	TLSBeside float64 `json:"tls_beside"`
	BgBeside  float64 `json:"background_beside"`
	BgAlone   float64 `json:"background_alone"`
	OursAlone float64 `json:"default_alone"`
}

// fairSample is how long our get and the TLS get took, started together.
type fairSample struct {
	Ours float64 `json:"ours_seconds"`
	TLS  float64 `json:"tls_seconds"`
}

func clientRole(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var srv ready
	if err := json.Unmarshal([]byte(o.server), &srv); err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	plane, err := dataPlane(o.plane)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "linkbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ep, _, err := newEndpoint(ctx, dir, "client", o.listen, plane, nil)
	if err != nil {
		return err
	}
	defer ep.Close()
	addrs := []string{srv.UDP}
	if _, err := ep.Session(ctx, srv.ID, addrs); err != nil {
		return err
	}
	// remoteCPU is the server's CPU time, and the bulk packets it has
	// sent and resent in all.
	remoteCPU := func() (time.Duration, serverSends, error) {
		var out struct {
			CPU int64 `json:"cpu_ns"`
			serverSends
		}
		_, err := ep.Call(ctx, srv.ID, addrs, cpuOp, nil, &out)
		return time.Duration(out.CPU), out.serverSends, err
	}
	scratch, err := scratchDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	target := access.Target{ID: srv.ID, Addrs: addrs}
	var fileSize int64
	var fileSum string
	if o.get {
		st, err := shares.Client{Caller: ep}.Stat(ctx, target, getShare, getFile)
		if err != nil {
			return fmt.Errorf("stat the shared file: %w", err)
		}
		fileSize, fileSum = st.Size, st.SHA256
	}
	ours := func(n int64) error {
		if o.get {
			got, err := getOurs(ctx, ep, target, scratch, false)
			if err == nil && got != n {
				err = fmt.Errorf("got a file of %d bytes, want %d", got, n)
			}
			return err
		}
		st, err := ep.Open(ctx, srv.ID, addrs, downloadOp, map[string]int64{"n": n})
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.ReadResponse(downloadOp, nil); err != nil {
			return err
		}
		got, err := st.ReceiveBody(ctx, io.Discard, -1)
		if err == nil && got != n {
			err = fmt.Errorf("received %d of %d bytes", got, n)
		}
		return err
	}
	clientTLS, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		return err
	}
	dialer := tls.Dialer{Config: &tls.Config{
		Certificates:       []tls.Certificate{clientTLS.Certificate},
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // self-signed; pinned below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || identity.Fingerprint(cs.PeerCertificates[0]) != srv.TLSFP {
				return errors.New("TLS server does not match its pinned fingerprint")
			}
			return nil
		},
	}}
	var suite uint16
	tlsDownload := func(n int64, get bool) error {
		c, err := dialer.DialContext(ctx, "tcp", srv.TCP)
		if err != nil {
			return err
		}
		defer c.Close()
		suite = c.(*tls.Conn).ConnectionState().CipherSuite
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		if get {
			if _, err := c.Write(binary.BigEndian.AppendUint64([]byte{tlsFile}, uint64(fileSize))); err != nil {
				return err
			}
			if fileSize != n {
				return fmt.Errorf("shared file of %d bytes, want %d", fileSize, n)
			}
			return receiveVerified(c, n, scratch, fileSum)
		}
		if _, err := c.Write(binary.BigEndian.AppendUint64([]byte{tlsPattern}, uint64(n))); err != nil {
			return err
		}
		got, err := io.CopyBuffer(io.Discard, io.LimitReader(c, n), make([]byte, copyBuffer))
		if err == nil && got != n {
			err = fmt.Errorf("received %d of %d bytes", got, n)
		}
		return err
	}
	viaTLS := func(n int64) error { return tlsDownload(n, o.get) }
	// bareTLS is what the wire allows: the same bytes over TLS 1.3/TCP to
	// memory, no file, no hash (R2 6/7 measures get against it).
	bareTLS := func(n int64) error { return tlsDownload(n, false) }
	measure := func(fn func(int64) error, n int64) (sample, error) {
		runtime.GC()
		r0, s0, err := remoteCPU()
		if err != nil {
			return sample{}, err
		}
		l0 := processCPU()
		start := time.Now()
		if err := fn(n); err != nil {
			return sample{}, err
		}
		el := time.Since(start)
		l1 := processCPU()
		r1, s1, err := remoteCPU()
		if err != nil {
			return sample{}, err
		}
		cpu := (l1 - l0 + r1 - r0).Seconds()
		gib := float64(n) / (1 << 30)
		return sample{Seconds: el.Seconds(), CPU: cpu, MBps: float64(n) / 1e6 / el.Seconds(), CPUPerGiB: cpu / gib,
			Packets: s1.Packets - s0.Packets, Resent: s1.Resent - s0.Resent}, nil
	}

	n := int64(o.mib) << 20
	warm := min(n, 16<<20)
	if o.get {
		warm = n // the whole file: the file service hashes it once
	}
	if err := ours(warm); err != nil {
		return fmt.Errorf("ours: warm-up: %w", err)
	}
	if err := viaTLS(warm); err != nil {
		return fmt.Errorf("tls: warm-up: %w", err)
	}
	var res clientResult
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
	}
	for range o.runs {
		s, err := measure(ours, n)
		if err != nil {
			return fmt.Errorf("ours: %w", err)
		}
		res.Ours = append(res.Ours, s)
		s, err = measure(viaTLS, n)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		res.TLS = append(res.TLS, s)
		if o.get {
			if s, err = measure(bareTLS, n); err != nil {
				return fmt.Errorf("bare tls: %w", err)
			}
			res.Bare = append(res.Bare, s)
		}
	}
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if o.fair {
		// Ours into its own folder: both end by renaming into place.
		fairDir := filepath.Join(scratch, "fair")
		if err := os.Mkdir(fairDir, 0o700); err != nil {
			return err
		}
		for range o.runs {
			var f fairSample
			var oursErr, tlsErr error
			var wg sync.WaitGroup
			start := time.Now()
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, oursErr = getOurs(ctx, ep, target, fairDir, false)
				f.Ours = time.Since(start).Seconds()
			}()
			go func() {
				defer wg.Done()
				tlsErr = viaTLS(n)
				f.TLS = time.Since(start).Seconds()
			}()
			wg.Wait()
			if err := errors.Join(oursErr, tlsErr); err != nil {
				return fmt.Errorf("started together: %w", err)
			}
			res.Fair = append(res.Fair, f)
		}
	}
	if o.background {
		bgDir := filepath.Join(scratch, "background")
		if err := os.Mkdir(bgDir, 0o700); err != nil {
			return err
		}
		timed := func(fn func() error) (float64, error) {
			start := time.Now()
			err := fn()
			return time.Since(start).Seconds(), err
		}
		for range o.runs {
			var s backgroundSample
			var errs [5]error
			s.TLSAlone, errs[0] = timed(func() error { return viaTLS(n) })
			s.OursAlone, errs[1] = timed(func() error { _, err := getOurs(ctx, ep, target, bgDir, false); return err })
			s.BgAlone, errs[2] = timed(func() error { _, err := getOurs(ctx, ep, target, bgDir, true); return err })
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				s.BgBeside, errs[3] = timed(func() error { _, err := getOurs(ctx, ep, target, bgDir, true); return err })
			}()
			go func() {
				defer wg.Done()
				s.TLSBeside, errs[4] = timed(func() error { return viaTLS(n) })
			}()
			wg.Wait()
			if err := errors.Join(errs[:]...); err != nil {
				return fmt.Errorf("background mode: %w", err)
			}
			res.Background = append(res.Background, s)
		}
	}
	res.Suite = tls.CipherSuiteName(suite)
	if o.pings {
		ping := func() (float64, error) {
			start := time.Now()
			_, err := ep.Call(ctx, srv.ID, addrs, pingOp, nil, nil)
			return float64(time.Since(start).Microseconds()) / 1000, err
		}
		list := func() (float64, error) {
			start := time.Now()
			st, err := ep.Open(ctx, srv.ID, addrs, listOp, nil)
			if err != nil {
				return 0, err
			}
			defer st.Close()
			var head struct{ Size int64 }
			if err := st.ReadResponse(listOp, &head); err != nil {
				return 0, err
			}
			var buf bytes.Buffer
			buf.Grow(int(head.Size))
			if _, err := st.ReceiveBody(ctx, &buf, head.Size); err != nil {
				return 0, err
			}
			var es []listEntry
			if err := json.Unmarshal(buf.Bytes(), &es); err != nil {
				return 0, err
			}
			if len(es) != listEntries {
				return 0, fmt.Errorf("listing of %d entries", len(es))
			}
			return float64(time.Since(start).Microseconds()) / 1000, nil
		}
		for range 50 {
			ms, err := ping()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			res.PingIdle = append(res.PingIdle, ms)
		}
		for range 5 {
			ms, err := list()
			if err != nil {
				return fmt.Errorf("listing: %w", err)
			}
			res.ListIdle = append(res.ListIdle, ms)
		}
		// Requests while a transfer runs on the same session: a ping
		// every 10 ms, and a 10,000-entry listing every 100 ms.
		done := make(chan error, 1)
		go func() { done <- ours(n) }()
		lists := make(chan error, 1)
		stopLists := make(chan struct{})
		go func() {
			defer close(lists)
			time.Sleep(50 * time.Millisecond) // the transfer is under way
			for {
				ms, err := list()
				if err != nil {
					lists <- err
					return
				}
				res.ListBusy = append(res.ListBusy, ms)
				select {
				case <-stopLists:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
	loop:
		for {
			select {
			case err := <-done:
				if err != nil {
					return fmt.Errorf("ours during requests: %w", err)
				}
				break loop
			case <-tick.C:
				ms, err := ping()
				if err != nil {
					return fmt.Errorf("ping during transfer: %w", err)
				}
				res.PingBusy = append(res.PingBusy, ms)
			}
		}
		close(stopLists)
		if err := <-lists; err != nil {
			return fmt.Errorf("listing during transfer: %w", err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// startRole starts this program in role inside namespace ns (or here if
// ns is empty) and returns it with its stdout.
func startRole(ns string, args ...string) (*roleProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := append([]string{self}, args...)
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	cmd := execCommand(argv)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &roleProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}, nil
}

// percentile of sorted-in-place values.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	i := int(p * float64(len(v)-1))
	return v[i]
}
