package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
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
		// PEERDESK_SCALE_PROFILE=FILE: every peer writes a CPU profile
		// of its run (the first PEERDESK_SCALE_PROFILE_SECONDS if set) to
		// FILE.N; go tool pprof merges them.
		profile := os.Getenv("PEERDESK_SCALE_PROFILE")
		if profile != "" {
			for _, p := range ps {
				p.host.Env = append(p.host.Env, "PEERDESK_CPUPROFILE="+filepath.Join(p.host.Home, "cpu.pprof"), "PEERDESK_CPUPROFILE_SECONDS="+os.Getenv("PEERDESK_SCALE_PROFILE_SECONDS"), "PEERDESK_CPUPROFILE_AFTER="+os.Getenv("PEERDESK_SCALE_PROFILE_AFTER"))
			}
		}
		// PEERDESK_SCALE_HEAPPROFILE=FILE: every peer writes a profile of
		// its heap PEERDESK_SCALE_HEAPPROFILE_AFTER seconds after its start
		// to FILE.N (go tool pprof -proto FILE.* merges them).
		heapProfile := os.Getenv("PEERDESK_SCALE_HEAPPROFILE")
		if heapProfile != "" {
			for _, p := range ps {
				// A sample every 16 KiB allocated, not every 512.
				p.host.Env = append(p.host.Env, "PEERDESK_HEAPPROFILE="+filepath.Join(p.host.Home, "heap.pprof"), "PEERDESK_HEAPPROFILE_AFTER="+os.Getenv("PEERDESK_SCALE_HEAPPROFILE_AFTER"), "GODEBUG=memprofilerate=16384")
			}
		}
		if os.Getenv("PEERDESK_SCALE_DEBUG") != "" {
			for _, p := range ps {
				p.host.Env = append(p.host.Env, "PEERDESK_LOG=debug")
			}
		}
		// PEERDESK_SCALE_PEER_ENV="K=V K2=V2": settings for every peer,
		// to compare runtime settings (GOGC=50) in the same hour.
		for _, kv := range strings.Fields(os.Getenv("PEERDESK_SCALE_PEER_ENV")) {
			for _, p := range ps {
				p.host.Env = append(p.host.Env, kv)
			}
		}
		start := time.Now()
		for _, p := range ps {
			p.start()
		}
		// Each peer is watched by its own goroutine: asked one after the
		// other, a loaded machine made a round take seconds and the times
		// came out in steps of a round.
		done := make([]time.Duration, n)
		var cpuAtMedian float64
		var mu sync.Mutex
		converged := 0
		deadline := time.Now().Add(scaleWait())
		// How far along the peers are: each one's last online count, summed
		// every few seconds into the share of the n(n-1) views that are
		// online, with the CPU all peers used so far (where the time goes:
		// a long tail, a slow climb, or waiting).
		seen := make([]int, n)
		stopProgress := make(chan struct{})
		progressDone := make(chan struct{})
		go func() {
			defer close(progressDone)
			var steps []string
			tick := time.NewTicker(progressEvery(n))
			defer tick.Stop()
			for {
				select {
				case <-stopProgress:
					b.Logf("MEASURED share of peers' views online over time: %s", strings.Join(steps, ", "))
					return
				case <-tick.C:
				}
				mu.Lock()
				sum := 0
				for i, c := range seen {
					if done[i] != 0 {
						c = n - 1
					}
					sum += c
				}
				mu.Unlock()
				steps = append(steps, fmt.Sprintf("%.0fs %.0f%% (%.1f CPU-s)", time.Since(start).Seconds(), 100*float64(sum)/float64(n*(n-1)), cpuSeconds(ps)))
			}
		}()
		var wg sync.WaitGroup
		for i, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					c := onlineCount(p)
					mu.Lock()
					seen[i] = c
					mu.Unlock()
					if c >= n-1 {
						took := time.Since(start)
						mu.Lock()
						done[i] = took
						if converged++; converged == (n+1)/2 {
							cpuAtMedian = cpuSeconds(ps)
						}
						mu.Unlock()
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(stopProgress)
		<-progressDone
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
		user, sys := cpuSplit(ps)
		cpu := user + sys
		b.Logf("MEASURED CPU of all peers: %.1f s when half had converged, %.1f s at the end (%.1f s user, %.1f s system; %.2f s per peer; the machine has %d cores)", cpuAtMedian, cpu, user, sys, cpu/float64(n), runtime.NumCPU())
		b.ReportMetric(cpu/float64(n), "cpu-s/peer")
		census := datagramCensus(ps)
		b.Logf("MEASURED datagrams by the end of convergence, all peers: UDP received %d, sent %d (IPv6 %d, %d); multicast received %d, sent %d (IPv6 %d, %d)",
			census["Udp:InDatagrams"]+census["Udp6InDatagrams"], census["Udp:OutDatagrams"]+census["Udp6OutDatagrams"],
			census["Udp6InDatagrams"], census["Udp6OutDatagrams"],
			census["IpExt:InMcastPkts"]+census["Ip6InMcastPkts"], census["IpExt:OutMcastPkts"]+census["Ip6OutMcastPkts"],
			census["Ip6InMcastPkts"], census["Ip6OutMcastPkts"])
		// Unicast over IPv4 (the bed's peers reach each other there; the
		// IPv6 multicast count also holds neighbour discovery) is what
		// the first contacts and liveness cost, per pair of peers.
		unicast := census["Udp:OutDatagrams"] - census["IpExt:OutMcastPkts"]
		b.ReportMetric(float64(unicast)/float64(n*(n-1)/2), "unicast/pair")
		{
			// What the converged peers cost while nothing happens but
			// liveness probes and mDNS.
			const settle = 10 * time.Second
			time.Sleep(settle)
			idle := cpuSeconds(ps) - cpu
			b.Logf("MEASURED CPU of all peers in the %v after: %.1f s (%.1f%% of one core per peer)", settle, idle, 100*idle/settle.Seconds()/float64(n))
			b.ReportMetric(100*idle/settle.Seconds()/float64(n), "idle-%core/peer")
		}
		inErr, bufErr := udpDrops(ps)
		b.Logf("MEASURED UDP datagrams dropped on receive, all peers: %d (%d for a full socket buffer); by local port: %v", inErr, bufErr, udpDropsByPort(ps))
		b.ReportMetric(float64(inErr), "udp-drops")
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
			mdnsIdle(b, ps, min(3, n), idle)
		}
		if profile != "" || heapProfile != "" {
			if heapProfile != "" {
				// The peers write their heap profiles at their own time,
				// which may come after convergence.
				after, _ := strconv.ParseFloat(os.Getenv("PEERDESK_SCALE_HEAPPROFILE_AFTER"), 64)
				time.Sleep(time.Until(start.Add(time.Duration(after*float64(time.Second)) + 5*time.Second)))
			}
			for _, p := range ps {
				_ = p.proc.Signal(syscall.SIGTERM)
			}
			for _, p := range ps {
				p.proc.Wait(10 * time.Second)
			}
			// Each peer's name in its home is copied to to.N.
			type profileCopy struct{ to, name string }
			var copies []profileCopy
			if profile != "" {
				copies = append(copies, profileCopy{profile, "cpu.pprof"})
			}
			if heapProfile != "" {
				copies = append(copies, profileCopy{heapProfile, "heap.pprof"}, profileCopy{heapProfile + ".goroutines", "heap.pprof.goroutines"})
			}
			for _, c := range copies {
				for i, p := range ps {
					data, err := os.ReadFile(filepath.Join(p.host.Home, c.name))
					if err != nil || os.WriteFile(fmt.Sprintf("%s.%d", c.to, i), data, 0o600) != nil {
						b.Errorf("%s of peer %d: %v", c.name, i, err)
					}
				}
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

// progressEvery is how often the benchmark sums the peers' online
// counts: every second for a few dozen peers, more seldom for more.
func progressEvery(n int) time.Duration {
	if n > 50 {
		return 5 * time.Second
	}
	return time.Second
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

// mdnsIdle reports the mDNS packets the first watched converged peers
// receive and the queries they send per minute while nothing happens, two
// minutes after the start, from their browsers' counters (the network
// check's report), and what all peers' CPU was over that time: a window
// longer than the 2-minute hello period shows the steady state.
func mdnsIdle(b *testing.B, all []*peer, watched int, idle time.Duration) {
	b.Helper()
	ps := all[:watched]
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
	cpu0 := cpuSeconds(all)
	time.Sleep(idle)
	cpu := cpuSeconds(all) - cpu0
	perPeer := 100 * cpu / idle.Seconds() / float64(len(all))
	b.ReportMetric(perPeer, "idle-long-%core/peer")
	b.Logf("MEASURED CPU of all peers over %v of idle: %.1f s (%.2f%% of one core per peer)", idle, cpu, perPeer)
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

// udpDrops sums the UDP receive errors (InErrors, and of them RcvbufErrors:
// a socket's buffer was full) of every peer's namespace: a dropped
// handshake flight or hello waits for a retransmission timer of 1 s or more.
func udpDrops(ps []*peer) (inErrors, rcvbufErrors int) {
	c := datagramCensus(ps)
	return c["Udp:InErrors"], c["Udp:RcvbufErrors"]
}

// datagramCensus sums the peers' namespaces' packet counters: UDP
// datagrams in and out (Udp: of /proc/net/snmp, Udp6 of snmp6) and
// multicast packets in and out (IpExt: of netstat, Ip6 of snmp6; mDNS,
// and for IPv6 also neighbour discovery), keyed "Udp:InDatagrams",
// "Udp6InDatagrams", "IpExt:InMcastPkts", "Ip6InMcastPkts" and so on. Each
// peer has a namespace of its own, so its /proc entry shows its own: no
// `ip netns exec` per peer, which with 100 loaded peers took minutes.
func datagramCensus(ps []*peer) map[string]int {
	sum := map[string]int{}
	for _, p := range ps {
		dir := "/proc/" + strconv.Itoa(p.proc.Pid()) + "/net/"
		for _, file := range []string{"snmp", "netstat"} {
			data, err := os.ReadFile(dir + file)
			if err != nil {
				continue
			}
			// Pairs of lines: "Prefix: names..." then "Prefix: values...".
			lines := strings.Split(string(data), "\n")
			for i := 0; i+1 < len(lines); i += 2 {
				names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
				if len(names) == 0 || len(names) != len(values) || names[0] != values[0] {
					continue
				}
				for j := 1; j < len(names); j++ {
					v, _ := strconv.Atoi(values[j])
					sum[names[0]+names[j]] += v
				}
			}
		}
		data, err := os.ReadFile(dir + "snmp6")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				v, _ := strconv.Atoi(f[1])
				sum[f[0]] += v
			}
		}
	}
	return sum
}

// cpuSeconds is the CPU time (user + system) the peers' processes used so far.
func cpuSeconds(ps []*peer) float64 {
	user, sys := cpuSplit(ps)
	return user + sys
}

// cpuSplit is the peers' CPU time so far in user and in system mode.
func cpuSplit(ps []*peer) (user, sys float64) {
	for _, p := range ps {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.proc.Pid()) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command name: utime is the
		// 12th, stime the 13th.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			user += u / 100 // USER_HZ
			sys += st / 100
		}
	}
	return user, sys
}

// udpDropsByPort sums the drops of the peers' UDP sockets (/proc/net/udp
// and udp6, last column) by local port: mDNS (5353), the peer's port, or
// the others (a dial's own socket).
func udpDropsByPort(ps []*peer) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		for _, file := range []string{"udp", "udp6"} {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(p.proc.Pid()) + "/net/" + file)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(data), "\n")[1:] {
				f := strings.Fields(line)
				if len(f) < 13 {
					continue
				}
				_, portHex, _ := strings.Cut(f[1], ":")
				port, _ := strconv.ParseInt(portHex, 16, 32)
				drops, _ := strconv.Atoi(f[len(f)-1])
				key := "other"
				switch port {
				case 5353:
					key = "mdns"
				case port:
					key = "peer"
				}
				out[key] += drops
			}
		}
	}
	return out
}
