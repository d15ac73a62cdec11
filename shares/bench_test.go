package shares

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/peerdesk/peerdesk/access"
)

// BenchmarkList10000 lists a 10,000-entry folder over an established
// loopback session: request, authorization (cached), one ReadDir, JSON,
// body transfer and decoding. SPEC target: ≤ 300 ms.
func BenchmarkList10000(b *testing.B) {
	e := newEnv(b)
	e.addShare(access.Share{Name: "big", Guest: access.RightRO}, "")
	for i := range 10000 {
		if err := os.WriteFile(filepath.Join(e.shareDir, fmt.Sprintf("document-%05d.pdf", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	if _, err := e.client.List(ctx, tg, "big", "", false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		ents, err := e.client.List(ctx, tg, "big", "", false)
		if err != nil || len(ents) != 10000 {
			b.Fatalf("%d entries, %v", len(ents), err)
		}
	}
}

// BenchmarkRead8MiB reads an 8 MiB file over an established loopback
// session (the default data plane).
func BenchmarkRead8MiB(b *testing.B) {
	e := newEnv(b)
	e.addShare(access.Share{Name: "s", Guest: access.RightRO}, "")
	const size = 8 << 20
	writeFile(b, e.shareDir, "f.bin", randomBytes(b, size))
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	if _, _, err := e.client.ReadRange(ctx, tg, "s", "f.bin", 0, 1, io.Discard); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		if _, n, err := e.client.ReadRange(ctx, tg, "s", "f.bin", 0, 0, io.Discard); err != nil || n != size {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}
