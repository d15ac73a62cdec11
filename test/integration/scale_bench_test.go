package integration

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// BenchmarkDiscoveryScale starts PEERDESK_SCALE_PEERS peers (default 50)
// on one bed at once and reports how long until every peer has had an
// authenticated hello from every other (`peers --json` shows all online;
// each round asks every peer, so the figures are as fine as a round, about
// a second at 50), and each daemon's RSS then. R2 4/7's targets: 50 peers within 3 s, 100
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
				online := 0
				for _, r := range p.peers() {
					if r.Online {
						online++
					}
				}
				if online >= n-1 {
					done[i] = time.Since(start)
				} else {
					left++
				}
			}
			if left == 0 {
				break
			}
		}
		if os.Getenv("PEERDESK_SCALE_DEBUG") != "" {
			var counts []int
			for _, p := range ps {
				online := 0
				for _, r := range p.peers() {
					if r.Online {
						online++
					}
				}
				counts = append(counts, online)
			}
			b.Logf("online counts: %v", counts)
			lines := strings.Split(ps[0].proc.Log(), "\n")
			b.Logf("peer 0 log: %d lines; last: %s", len(lines), strings.Join(lines[max(0, len(lines)-15):], "\n"))
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
	}
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
