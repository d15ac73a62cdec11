package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

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

// FuzzShortName: a shortened name is at most max runes, valid UTF-8 if
// the name was, unchanged when it fits, and keeps the name's start and
// end.
func FuzzShortName(f *testing.F) {
	f.Add("Quarterly report of the northern region, final.pdf", 28)
	f.Add("ünïcödé-Dateiname-mit-Umlauten-und-mehr.pdf", 8)
	f.Add("short", 28)
	f.Fuzz(func(t *testing.T, name string, max int) {
		max = 8 + int(uint(max)%120)
		got := shortName(name, max)
		r, g := []rune(name), []rune(got)
		switch {
		case len(r) <= max && got != name:
			t.Fatalf("shortName(%q, %d) = %q, want it unchanged", name, max, got)
		case len(g) > max:
			t.Fatalf("shortName(%q, %d) = %q: %d runes", name, max, got, len(g))
		case utf8.ValidString(name) && !utf8.ValidString(got):
			t.Fatalf("shortName(%q, %d) = %q: invalid UTF-8", name, max, got)
		case len(r) > max && (g[0] != r[0] || g[len(g)-1] != r[len(r)-1]):
			t.Fatalf("shortName(%q, %d) = %q: lost the start or the end", name, max, got)
		}
	})
}
