package integration

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// limitRate is the limit the cases set: 8 MB/s, well below what the bed
// carries (hundreds of MB/s), so the limit alone sets the pace.
const limitRate = 8_000_000

// TestTransferLimits (R2 6/7): the upload and download limits of
// `peerdesk settings set` cap file transfers on running peers, all
// transfers of a direction together, and a removed limit frees them.
// Each case moves 48 MB at 8 MB/s (6 s); the time is the CLI's, from
// start to the verified file in place, so it includes the connection and
// the hash check, which count against the measured rate.
func TestTransferLimits(t *testing.T) {
	ps, docs := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	const size = 48_000_000
	sums := map[string]string{}
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		sums[name] = writeRandom(t, filepath.Join(docs, name), size)
	}
	half := writeRandom(t, client.data("up.bin"), size/2)
	alice := creds("alice", alicePW, sharePW)
	target := owner.host.Name

	get := func(name string) {
		t.Helper()
		dest := filepath.Join(client.host.Home, "got", fmt.Sprint(time.Now().UnixNano()))
		client.must(alice, "get", target+":docs/"+name, dest)
		if got := fileSum(t, filepath.Join(dest, name)); got != sums[name] {
			t.Fatalf("%s arrived different", name)
		}
	}
	// measure runs fn, which moves bytes, and checks the rate against the
	// limit: never above it (5% for the burst and the clock), and not far
	// below it (the transfer itself runs at hundreds of MB/s here).
	measure := func(what string, bytes int64, fn func()) {
		t.Helper()
		start := time.Now()
		fn()
		took := time.Since(start)
		rate := float64(bytes) / took.Seconds()
		ratio := rate / limitRate
		verdict := "MET"
		if ratio < 0.95 || ratio > 1.05 {
			verdict = "NOT MET"
		}
		t.Logf("MEASURED %s under an 8 MB/s limit: %d bytes in %v = %.2f MB/s, %.3f of the limit (target within 5%%: %s)",
			what, bytes, took.Round(time.Millisecond), rate/1e6, ratio, verdict)
		if ratio > 1.05 || ratio < 0.6 {
			t.Errorf("%s: %.3f of the limit", what, ratio)
		}
	}

	// Unlimited first, for the record: far faster than the limit.
	start := time.Now()
	get("a.bin")
	t.Logf("MEASURED get of 48 MB without a limit: %v", time.Since(start).Round(time.Millisecond))

	// The receiver's download limit, set while both run.
	client.must(nil, "settings", "set", "download-limit", "8MB/s")
	measure("get, receiver's download limit", size, func() { get("b.bin") })
	// Two downloads at once share it.
	measure("two gets at once, receiver's download limit", 2*size, func() {
		var wg sync.WaitGroup
		for _, name := range []string{"a.bin", "c.bin"} {
			wg.Add(1)
			go func() { defer wg.Done(); get(name) }()
		}
		wg.Wait()
	})
	client.must(nil, "settings", "set", "download-limit", "0")

	// The sender's upload limit: the owner serving the file.
	owner.must(nil, "settings", "set", "upload-limit", "8MB/s")
	measure("get, owner's upload limit", size, func() { get("c.bin") })
	owner.must(nil, "settings", "set", "upload-limit", "none")

	// The client's upload limit: a put into the drop box.
	client.must(nil, "settings", "set", "upload-limit", "8MB/s")
	measure("put, sender's upload limit", size/2, func() {
		client.must(alice, "put", client.data("up.bin"), target+":drop/")
	})
	if got := fileSum(t, filepath.Join(owner.data("drop"), "up.bin")); got != half {
		t.Fatalf("uploaded file arrived different")
	}

	// Removed, the limit no longer holds transfers back.
	client.must(nil, "settings", "set", "upload-limit", "0")
	start = time.Now()
	get("b.bin")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("get of 48 MB with the limits removed took %v (6 s at the limit)", took)
	}
	out := client.must(nil, "settings")
	t.Logf("client's settings after the test:\n%s", out)
}
