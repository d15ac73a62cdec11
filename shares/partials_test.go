package shares

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
)

// TestCleanPartialsRemovesOnlyStaleOnes: partial files of an upload no one
// resumed for PartialMaxAge go, in shares and the inbox, at any depth;
// fresh partials, files that only look alike, and what a symlink points
// to stay.
func TestCleanPartialsRemovesOnlyStaleOnes(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-PartialMaxAge - time.Hour)
	write := func(path string, stale bool) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		if stale {
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	e.addShare(access.Share{Name: "docs", Guest: access.RightRW}, "")
	stale := []string{
		write(filepath.Join(e.shareDir, ".peerdesk-0123456789abcdef.part"), true),
		write(filepath.Join(e.shareDir, "deep", "er", ".peerdesk-fedcba9876543210.part"), true),
		write(filepath.Join(e.inbox, ".peerdesk-00000000000000aa.part"), true),
	}
	kept := []string{
		write(filepath.Join(e.shareDir, ".peerdesk-1111111111111111.part"), false),
		write(filepath.Join(e.shareDir, "report.part"), true),
		write(filepath.Join(e.shareDir, ".peerdesk-notes.txt"), true),
	}
	outside := write(filepath.Join(t.TempDir(), ".peerdesk-2222222222222222.part"), true)
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(e.shareDir, "link")); err != nil {
		t.Fatal(err)
	}
	n, bytes := e.svc.CleanPartials(context.Background(), time.Now(), PartialMaxAge)
	if n != len(stale) || bytes != int64(len(stale))*1000 {
		t.Errorf("removed %d files, %d bytes; want %d, %d", n, bytes, len(stale), len(stale)*1000)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", p, err)
		}
	}
	for _, p := range append(kept, outside) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
