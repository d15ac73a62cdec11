package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// BenchmarkConcurrentTransfers (R2 6/7): 20 `peerdesk get`s of different
// files at once between two daemons on the netns bed, each daemon's RSS
// sampled every 50 ms. The target is at most 200 MB on each side; the
// ratio is against the same daemon's RSS idle, measured just before in
// the same run. PEERDESK_TRANSFERS (default 20) and PEERDESK_TRANSFERS_MIB
// (default 64) change the count and the size of each file.
//
//	sudo go test ./test/integration -run '^$' -bench ConcurrentTransfers -benchtime 1x
func BenchmarkConcurrentTransfers(b *testing.B) {
	count, mib := envInt(b, "PEERDESK_TRANSFERS", 20), envInt(b, "PEERDESK_TRANSFERS_MIB", 64)
	for range b.N {
		bed := netns.New(b, 2)
		bin := netns.PeerdeskBinary(b)
		ps := newPeers(b, bed, bin)
		desk, owner := ps[0], ps[1]
		dir := b.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range count {
			// Sparse: the owner reads zeros at once, so the receiving
			// side's disk and the channel are what is measured.
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("file-%02d.bin", i)))
			if err == nil {
				err = f.Truncate(int64(mib) << 20)
				f.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if _, errOut, code := owner.host.Run(b, bin, "share", "folder", "big", dir, "--guest", "ro"); code != 0 {
			b.Fatalf("share: exit %d: %s", code, errOut)
		}
		desk.start()
		owner.start()
		netns.WaitFor(b, 30*time.Second, 100*time.Millisecond, func() (bool, string) { return seesOnline(desk, owner) })

		// The baseline: both daemons idle, after a few seconds of it.
		time.Sleep(3 * time.Second)
		idleDesk, idleOwner := rssMBOf(desk.proc.Pid()), rssMBOf(owner.proc.Pid())

		dest := filepath.Join(desk.host.Home, "got")
		if err := os.Mkdir(dest, 0o700); err != nil {
			b.Fatal(err)
		}
		if out, errOut, code := desk.host.Run(b, bin, "ls", owner.host.Name+":big"); code != 0 {
			b.Fatalf("list the share: exit %d: %s%s", code, out, errOut)
		}
		start := time.Now()
		gets := make([]*netns.Proc, count)
		for i := range count {
			gets[i] = desk.host.Start(b, bin, "get", fmt.Sprintf("%s:big/file-%02d.bin", owner.host.Name, i), dest)
		}
		var peakDesk, peakOwner float64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				peakDesk = max(peakDesk, rssMBOf(desk.proc.Pid()))
				peakOwner = max(peakOwner, rssMBOf(owner.proc.Pid()))
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		for i, g := range gets {
			if code, err := g.Wait(5 * time.Minute); err != nil || code != 0 {
				close(stop)
				wg.Wait()
				b.Fatalf("get %d: exit %d, %v:\n%s", i, code, err, g.Log())
			}
		}
		took := time.Since(start)
		close(stop)
		wg.Wait()
		for i := range count {
			fi, err := os.Stat(filepath.Join(dest, fmt.Sprintf("file-%02d.bin", i)))
			if err != nil || fi.Size() != int64(mib)<<20 {
				b.Fatalf("file %d: %v, %v", i, fi, err)
			}
		}
		_ = os.RemoveAll(dest)
		total := float64(count*mib) * (1 << 20) / 1e6
		b.ReportMetric(peakDesk, "MB-rss-receiver")
		b.ReportMetric(peakOwner, "MB-rss-sender")
		b.ReportMetric(total/took.Seconds(), "MB/s")
		b.Logf("MEASURED %d concurrent gets of %d MiB: %.1f MB/s in all; peak RSS receiver %.1f MB (idle %.1f, ×%.1f), sender %.1f MB (idle %.1f, ×%.1f); target ≤ 200 MB each side: %s",
			count, mib, total/took.Seconds(), peakDesk, idleDesk, peakDesk/idleDesk, peakOwner, idleOwner, peakOwner/idleOwner,
			metOrNot(peakDesk <= 200 && peakOwner <= 200))
	}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		b.Fatalf("%s=%q", name, s)
	}
	return v
}

func metOrNot(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}
