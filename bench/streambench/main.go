//go:build unix

// Command streambench measures, in one run and on loopback, how fast one
// transport stream (DTLS 1.2 + SCTP between two Endpoints, as peers use it)
// moves a bulk body and what it costs in CPU, next to TLS 1.3 over TCP moving
// the same bytes. docs/performance.md's targets are ratios to TLS measured in
// the same run; this prints those ratios.
//
// Both ends of each transfer run in this process, so the CPU figure is
// sender + receiver together, read from getrusage(RUSAGE_SELF).
package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
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
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

const (
	downloadOp = "bench.download"
	// copyBuffer is the read/write size on the TLS side, the same as the
	// largest data frame payload on ours.
	copyBuffer = 64 << 10
	// warmupBytes is moved once on each path before measuring, so first-use
	// costs (page faults, code paths, congestion windows) are not counted.
	warmupBytes = 16 << 20
)

func main() {
	mib := flag.Int("mib", 256, "MiB moved per run")
	runs := flag.Int("runs", 3, "runs per path; figures are medians")
	asJSON := flag.Bool("json", false, "print the figures as JSON instead of a table")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs (both ends) to this file")
	flag.Parse()
	if *mib <= 0 || *runs <= 0 {
		fmt.Fprintln(os.Stderr, "streambench: -mib and -runs must be positive")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := run(ctx, int64(*mib)<<20, *runs, *cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.print(os.Stdout)
}

// report is everything one invocation measured.
type report struct {
	MiB        int64  `json:"mib"`
	Runs       int    `json:"runs"`
	Addr       string `json:"addr"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// CPUScope says what the CPU figures cover.
	CPUScope string     `json:"cpu_scope"`
	Ours     pathResult `json:"ours"`
	TLS      pathResult `json:"tls"`
	// ThroughputRatio is ours/TLS MB/s; CPURatio is ours/TLS CPU-s/GiB.
	ThroughputRatio float64 `json:"ratio_throughput"`
	CPURatio        float64 `json:"ratio_cpu"`
}

// pathResult is the median and the individual runs of one path.
type pathResult struct {
	Name         string      `json:"name"`
	MBps         float64     `json:"mb_per_s"`
	CPUSecPerGiB float64     `json:"cpu_s_per_gib"`
	Samples      []runResult `json:"samples"`
}

type runResult struct {
	Seconds      float64 `json:"seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	MBps         float64 `json:"mb_per_s"`
	CPUSecPerGiB float64 `json:"cpu_s_per_gib"`
}

// transfer moves n bytes from one end to the other and returns once the
// receiver has all of them.
type transfer func(ctx context.Context, n int64) error

func run(ctx context.Context, n int64, runs int, cpuProfile string) (*report, error) {
	dir, err := os.MkdirTemp("", "streambench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// A fixed random pattern: not trivially compressible, cheap to produce,
	// identical for both paths.
	pattern := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{})
	_, _ = rng.Read(pattern)

	ours, closeOurs, err := startOurs(ctx, dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("transport endpoints: %w", err)
	}
	defer closeOurs()
	viaTLS, suite, closeTLS, err := startTLS(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	defer closeTLS()
	if suite != tls.TLS_AES_128_GCM_SHA256 {
		fmt.Fprintf(os.Stderr, "streambench: warning: TLS negotiated %s, not TLS_AES_128_GCM_SHA256 (no AES hardware?)\n", tls.CipherSuiteName(suite))
	}

	rep := &report{
		MiB:        n >> 20,
		Runs:       runs,
		Addr:       "127.0.0.1",
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUScope:   "process user+system CPU (getrusage RUSAGE_SELF); sender and receiver both run in this process",
		Ours:       pathResult{Name: "peerdesk stream (DTLS 1.2 + SCTP, AES-128-GCM)"},
		TLS:        pathResult{Name: "TLS 1.3/TCP (" + tls.CipherSuiteName(suite) + ")"},
	}
	paths := []struct {
		res *pathResult
		fn  transfer
	}{{&rep.Ours, ours}, {&rep.TLS, viaTLS}}
	for _, p := range paths {
		if err := p.fn(ctx, min(n, warmupBytes)); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", p.res.Name, err)
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	// Runs alternate between the paths so drift in the machine's load
	// affects both alike.
	for range runs {
		for _, p := range paths {
			r, err := measure(ctx, p.fn, n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.res.Name, err)
			}
			p.res.Samples = append(p.res.Samples, r)
		}
	}
	for _, p := range paths {
		p.res.MBps = median(p.res.Samples, func(r runResult) float64 { return r.MBps })
		p.res.CPUSecPerGiB = median(p.res.Samples, func(r runResult) float64 { return r.CPUSecPerGiB })
	}
	rep.ThroughputRatio = rep.Ours.MBps / rep.TLS.MBps
	rep.CPURatio = rep.Ours.CPUSecPerGiB / rep.TLS.CPUSecPerGiB
	return rep, nil
}

func measure(ctx context.Context, fn transfer, n int64) (runResult, error) {
	// Collect the previous run's garbage now, not on this run's account.
	runtime.GC()
	cpu0, err := processCPU()
	if err != nil {
		return runResult{}, err
	}
	start := time.Now()
	if err := fn(ctx, n); err != nil {
		return runResult{}, err
	}
	elapsed := time.Since(start)
	cpu1, err := processCPU()
	if err != nil {
		return runResult{}, err
	}
	cpu := (cpu1 - cpu0).Seconds()
	gib := float64(n) / (1 << 30)
	return runResult{
		Seconds:      elapsed.Seconds(),
		CPUSeconds:   cpu,
		MBps:         float64(n) / 1e6 / elapsed.Seconds(),
		CPUSecPerGiB: cpu / gib,
	}, nil
}

// processCPU is the user+system CPU time this process has used so far.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func median(rs []runResult, f func(runResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "streambench: %d MiB per run over loopback %s, %d runs per path (median), GOMAXPROCS=%d\n",
		r.MiB, r.Addr, r.Runs, r.GOMAXPROCS)
	fmt.Fprintf(w, "CPU: %s.\nMB/s = 10^6 bytes per second; CPU-s/GiB = CPU seconds per 2^30 bytes moved.\n\n", r.CPUScope)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tMB/s\tCPU-s/GiB\truns MB/s\truns CPU-s/GiB")
	for _, p := range []pathResult{r.Ours, r.TLS} {
		var mbps, cpu []string
		for _, s := range p.Samples {
			mbps = append(mbps, fmt.Sprintf("%.1f", s.MBps))
			cpu = append(cpu, fmt.Sprintf("%.2f", s.CPUSecPerGiB))
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%s\t%s\n", p.Name, p.MBps, p.CPUSecPerGiB, strings.Join(mbps, " "), strings.Join(cpu, " "))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nratio throughput ours/tls=%.3f cpu ours/tls=%.1f\n", r.ThroughputRatio, r.CPURatio)
}

// patternReader repeats a pattern forever.
type patternReader struct {
	pattern []byte
	off     int
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

// startOurs starts two endpoints on loopback with their own identities and
// trust stores, connects them, and returns a transfer over one stream of
// their session.
func startOurs(ctx context.Context, dir string, pattern []byte) (transfer, func(), error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux := transport.NewMux()
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
			logger.Warn("send body", "err", err)
			return
		}
		// The client closes its side once it has everything; closing ours
		// first could drop data still queued.
		_, _ = s.ReadFrame()
	})
	var eps []*transport.Endpoint
	closeAll := func() {
		for _, ep := range eps {
			ep.Close()
		}
	}
	var server *identity.Identity
	for _, name := range []string{"server", "client"} {
		id, _, _, err := identity.NewIdentity(uuid.New())
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		trust, err := identity.OpenTrustStore(filepath.Join(dir, name+"-trust.json"))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		cfg := transport.Config{Identity: id, Trust: trust, Logger: logger}
		if name == "server" {
			cfg.Handler = mux
			server = id
		}
		ep, err := transport.Listen(ctx, "127.0.0.1:0", cfg)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		eps = append(eps, ep)
	}
	client := eps[1]
	peer := server.ID.String()
	addrs := []string{eps[0].Addr().String()}
	if _, err := client.Session(ctx, peer, addrs); err != nil {
		closeAll()
		return nil, nil, err
	}
	fn := func(ctx context.Context, n int64) error {
		st, err := client.Open(ctx, peer, addrs, downloadOp, map[string]int64{"n": n})
		if err != nil {
			return err
		}
		defer st.Close()
		stop := st.Watch(ctx)
		err = st.ReadResponse(downloadOp, nil)
		stop()
		if err != nil {
			return err
		}
		got, err := st.ReceiveBody(ctx, io.Discard, -1)
		if err != nil {
			return fmt.Errorf("receive body: %w", err)
		}
		if got != n {
			return fmt.Errorf("received %d bytes, want %d", got, n)
		}
		return nil
	}
	return fn, closeAll, nil
}

// startTLS starts a TLS 1.3 server on loopback TCP with a self-signed ECDSA
// P-256 certificate made here, mutually authenticated like our transport,
// and returns a transfer over a fresh connection (handshake not timed) plus
// the negotiated cipher suite.
func startTLS(ctx context.Context, pattern []byte) (transfer, uint16, func(), error) {
	serverID, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		return nil, 0, nil, err
	}
	clientID, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		return nil, 0, nil, err
	}
	pin := func(fp string) func(tls.ConnectionState) error {
		return func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || identity.Fingerprint(cs.PeerCertificates[0]) != fp {
				return errors.New("peer certificate does not match the pinned fingerprint")
			}
			return nil
		}
	}
	serverCfg := &tls.Config{
		Certificates: []tls.Certificate{serverID.Certificate},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAnyClientCert,
		// Self-signed on purpose, as with peers: the pin is the check.
		VerifyConnection: pin(clientID.Fingerprint()),
	}
	clientCfg := &tls.Config{
		Certificates:       []tls.Certificate{clientID.Certificate},
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true,
		VerifyConnection:   pin(serverID.Fingerprint()),
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		return nil, 0, nil, err
	}
	var wg sync.WaitGroup
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
				serveTLS(c, pattern)
			}()
		}
	}()
	stop := func() {
		ln.Close()
		wg.Wait()
	}
	addr := ln.Addr().String()
	var dialer tls.Dialer
	dialer.Config = clientCfg
	connect := func(ctx context.Context) (*tls.Conn, error) {
		c, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return c.(*tls.Conn), nil
	}
	probe, err := connect(ctx)
	if err != nil {
		stop()
		return nil, 0, nil, err
	}
	suite := probe.ConnectionState().CipherSuite
	probe.Close()
	fn := func(ctx context.Context, n int64) error {
		c, err := connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		return receiveTLS(c, n)
	}
	return fn, suite, stop, nil
}

// receiveTLS asks for n bytes and reads them all.
func receiveTLS(c net.Conn, n int64) error {
	if _, err := c.Write(binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return err
	}
	buf := make([]byte, copyBuffer)
	var got int64
	for got < n {
		k, err := c.Read(buf[:min(int64(len(buf)), n-got)])
		got += int64(k)
		if err != nil {
			return fmt.Errorf("after %d of %d bytes: %w", got, n, err)
		}
	}
	return nil
}

// serveTLS answers one connection: an 8-byte length, then that many bytes.
func serveTLS(c net.Conn, pattern []byte) {
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	src := io.LimitReader(&patternReader{pattern: pattern}, int64(binary.BigEndian.Uint64(hdr[:])))
	buf := make([]byte, copyBuffer)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			break
		}
	}
	// Wait for the client to close, as the transport handler does.
	_, _ = io.Copy(io.Discard, c)
}
