package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/node"
)

// FuzzSendArgs feeds gui.send arbitrary arguments, as any local process
// may: it never panics, refuses with a usage error, or queues only
// absolute paths.
func FuzzSendArgs(f *testing.F) {
	for _, seed := range []string{
		`{"files":["/home/a/report.pdf","/home/a/photos"]}`, `{"files":[]}`, `{"files":["rel"]}`,
		`{"files":null}`, `{"files":["/a\u0000b"]}`, `[]`, `null`, ``, `{"files":[1]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		b := &controlBridge{} // starting: files wait in pending, no UI needed
		_, err := b.serveSend(context.Background(), OpSend, args)
		if err != nil {
			if !errors.Is(err, node.ErrUsage) {
				t.Fatalf("refusal %v is not a usage error", err)
			}
			if len(b.pending) != 0 {
				t.Fatal("refused arguments were queued")
			}
			return
		}
		if len(b.pending) != 1 || len(b.pending[0]) == 0 {
			t.Fatalf("accepted arguments queued %v", b.pending)
		}
		for _, p := range b.pending[0] {
			if !filepath.IsAbs(p) || strings.ContainsRune(p, 0) {
				t.Fatalf("queued a relative path %q", p)
			}
		}
	})
}
