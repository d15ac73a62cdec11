package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/test/netns"
)

// BenchmarkDiscoveryScale starts PEERDESK_SCALE_PEERS peers (default 50)
// on one bed at once and reports how long until every peer has had an
// authenticated hello from every other (`peers --json` shows all online;
// each round asks every peer over its control socket, every 250 ms), and each daemon's RSS then. R2 4/7's targets: 50 peers within 3 s, 100
// within 10 s, ≤ 25 MB per daemon at 100.
//
//	sudo go test -run '^$' -bench DiscoveryScale -benchtime 1x ./test/integration/
func BenchmarkDiscoveryScale(b *testing.B) {
	n := 50
	if s := os.Getenv("PEERDESK_SCALE_PEERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2 || v > netns.MaxHosts {
			b.Fatalf("PEERDESK_SCALE_PEERS=%q", s)
		}
		n = v
	}
	for range b.N {
		bed := netns.New(b, n)
		bin := netns.PeerdeskBinary(b)
		ps := newPeers(b, bed, bin)
		// PEERDESK_SCALE_PROFILE=FILE: the first peer writes a CPU
		// profile of its whole run to FILE.
		profile := os.Getenv("PEERDESK_SCALE_PROFILE")
		if profile != "" {
			ps[0].host.Env = append(ps[0].host.Env, "PEERDESK_CPUPROFILE="+filepath.Join(ps[0].host.Home, "cpu.pprof"))
		}
		if os.Getenv("PEERDESK_SCALE_DEBUG") != "" {
			for _, p := range ps {
				p.host.Env = append(p.host.Env, "PEERDESK_LOG=debug")
			}
		}
		start := time.Now()
		for _, p := range ps {
			p.start()
		}
		done := make([]time.Duration, n)
		deadline := time.Now().Add(scaleWait())
		for time.Now().Before(deadline) {
			left := 0
			for i, p := range ps {
				if done[i] != 0 {
					continue
				}
				if onlineCount(p) >= n-1 {
					done[i] = time.Since(start)
				} else {
					left++
				}
			}
			if left == 0 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if os.Getenv("PEERDESK_SCALE_DEBUG") != "" {
			var counts []int
			for _, p := range ps {
				counts = append(counts, onlineCount(p))
			}
			b.Logf("online counts: %v", counts)
			worst := 0
			for i, c := range counts {
				if c < counts[worst] {
					worst = i
				}
			}
			dir := filepath.Join(os.TempDir(), "peerdesk-scale-logs")
			_ = os.RemoveAll(dir)
			_ = os.Mkdir(dir, 0o700)
			for i, p := range ps {
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.log", i, p.host.IP, p.id.ID)), []byte(p.proc.Log()), 0o600)
			}
			b.Logf("logs in %s; peer %d sees fewest", dir, worst)
		}
		var finished []time.Duration
		for _, d := range done {
			if d != 0 {
				finished = append(finished, d)
			}
		}
		sort.Slice(finished, func(i, j int) bool { return finished[i] < finished[j] })
		var rss, maxRSS float64
		for _, p := range ps {
			r := rssMBOf(p.proc.Pid())
			rss += r
			maxRSS = max(maxRSS, r)
		}
		b.ReportMetric(float64(len(finished)), "peers-converged")
		if len(finished) > 0 {
			b.ReportMetric(finished[len(finished)/2].Seconds(), "s-median")
			b.ReportMetric(finished[len(finished)-1].Seconds(), "s-last")
		}
		b.ReportMetric(rss/float64(n), "MB-rss-mean")
		b.ReportMetric(maxRSS, "MB-rss-max")
		b.Logf("MEASURED %d peers started together: %d saw all others, median %v, last %v; RSS mean %.1f MB, max %.1f MB",
			n, len(finished), pick(finished, len(finished)/2), pick(finished, len(finished)-1), rss/float64(n), maxRSS)
		if idle := scaleIdle(); idle > 0 && len(finished) == n {
			mdnsIdle(b, ps[:min(3, n)], idle)
		}
		if profile != "" {
			_ = ps[0].proc.Signal(syscall.SIGTERM)
			ps[0].proc.Wait(10 * time.Second)
			data, err := os.ReadFile(filepath.Join(ps[0].host.Home, "cpu.pprof"))
			if err != nil || os.WriteFile(profile, data, 0o600) != nil {
				b.Errorf("cpu profile of peer 0: %v", err)
			}
		}
	}
}

// onlineCount asks a running peer over its control socket, from this
// process: starting a CLI per peer and round would cost the machine more
// CPU than the peers themselves at 50 and skew what is measured.
func onlineCount(p *peer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := node.LocalClient{Home: p.host.Home}.Peers(ctx)
	if err != nil {
		if os.Getenv("PEERDESK_SCALE_DEBUG") != "" {
			p.t.Logf("%s: peers: %v", p.host.Name, err)
		}
		return 0
	}
	online := 0
	for _, r := range rows {
		if r.Online {
			online++
		}
	}
	return online
}

func pick(d []time.Duration, i int) time.Duration {
	if i < 0 || i >= len(d) {
		return 0
	}
	return d[i].Round(10 * time.Millisecond)
}

// scaleWait is how long the benchmark waits for convergence
// (PEERDESK_SCALE_WAIT, default 120 s).
func scaleWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PEERDESK_SCALE_WAIT")); err == nil {
		return d
	}
	return 120 * time.Second
}

// scaleIdle is how long the benchmark watches the converged peers' idle
// mDNS traffic (PEERDESK_SCALE_IDLE, e.g. 60s; default none).
func scaleIdle() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("PEERDESK_SCALE_IDLE"))
	return d
}

// mdnsIdle reports the mDNS packets a few converged peers receive and the
// queries they send per minute while nothing happens, two minutes after
// the start, from their browsers' counters (the network check's report).
func mdnsIdle(b *testing.B, ps []*peer, idle time.Duration) {
	b.Helper()
	stats := func(p *peer) discovery.BrowserStats {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := node.LocalClient{Home: p.host.Home}.Doctor(ctx)
		if err != nil || r.MDNS == nil {
			b.Fatalf("%s: doctor: %v", p.host.Name, err)
		}
		return *r.MDNS
	}
	// The queries back off from 1 s to a minute after start: let that pass.
	time.Sleep(2 * time.Minute)
	before := make([]discovery.BrowserStats, len(ps))
	for i, p := range ps {
		before[i] = stats(p)
	}
	time.Sleep(idle)
	var in, queries float64
	for i, p := range ps {
		after := stats(p)
		in += float64(after.PacketsReceived - before[i].PacketsReceived)
		queries += float64(after.QueriesSent - before[i].QueriesSent)
	}
	perMin := float64(len(ps)) * idle.Minutes()
	b.ReportMetric(in/perMin, "mdns-in/peer/min")
	b.ReportMetric(queries/perMin, "mdns-queries/peer/min")
	b.Logf("MEASURED idle mDNS over %v on %d of the converged peers: %.1f packets in and %.1f queries out per peer per minute",
		idle, len(ps), in/perMin, queries/perMin)
}
