package shares

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/transport"
)

func TestCleanPathAccepts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{".", ""},
		{"a", "a"},
		{"a/", "a"},
		{"a/b/c.txt", "a/b/c.txt"},
		{"%2e%2e", "%2e%2e"},
		{"%2e%2e%2f", "%2e%2e%2f"},
		{"..%2f..%2fetc", "..%2f..%2fetc"},
		{"．．", "．．"}, // fullwidth dots are a literal name
		{"..a", "..a"},
		{".hidden", ".hidden"},
		{"a..b", "a..b"},
		{" lead", " lead"},
		{"connect.txt", "connect.txt"},
		{"com10", "com10"},
		{"lpt", "lpt"},
		{"Ärger/ünïcode 文件.pdf", "Ärger/ünïcode 文件.pdf"},
		{strings.Repeat("x", 255), strings.Repeat("x", 255)},
	} {
		got, err := CleanPath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCleanPathRefuses(t *testing.T) {
	long := strings.Repeat("a/", 2100)
	for _, in := range []string{
		"..", "../x", "a/..", "a/../b", "a/../../etc/passwd", "./a", "a/./b", "a//b", "/",
		"/etc/passwd", "//server/share", `\\server\share`, `C:\Windows`, "C:/Windows", "c:", `a\b`, `..\..\x`,
		"a\x00b", "\x00", "a\nb", "a\rb", "a\tb", "\x7f", "\u0085", "\x1b[31m",
		"a<b", "a>b", `a"b`, "a|b", "a?b", "a*b", "a:b", "file.txt:stream",
		"CON", "con", "Con.txt", "nul", "NUL.tar.gz", "aux", "prn.", "COM1", "com9.log", "LPT1", "lpt3.txt", "COM¹", "CONIN$", "conout$", "CON .txt", "dir/aux/x",
		"trailing.", "trailing ", "dir./x", "...", "a/...",
		strings.Repeat("x", 256), long,
		"\xff\xfe", "a/\xc0\xaf",
	} {
		got, err := CleanPath(in)
		if err == nil {
			t.Errorf("CleanPath(%q) = %q, want refusal", in, got)
			continue
		}
		if !errors.Is(err, ErrBadPath) || !errors.Is(err, transport.ErrAccessDenied) {
			t.Errorf("CleanPath(%q) error %v is not ErrBadPath / ErrAccessDenied", in, err)
		}
	}
}

func TestConflictName(t *testing.T) {
	for _, tc := range []struct {
		base string
		i    int
		want string
	}{
		{"report.pdf", 0, "report.pdf"},
		{"report.pdf", 1, "report (1).pdf"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{".profile", 1, ".profile (1)"},
		{"noext", 3, "noext (3)"},
	} {
		if got := conflictName(tc.base, tc.i); got != tc.want {
			t.Errorf("conflictName(%q, %d) = %q, want %q", tc.base, tc.i, got, tc.want)
		}
	}
}

// FuzzCleanPath: whatever CleanPath accepts stays inside the share: it is
// local on this OS and as a slash path, has no ".." or "." component, no
// NUL or backslash, and is already canonical.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"", ".", "a/b", "../x", "a/../b", "/abs", `C:\x`, "CON.txt", "a\x00b", "%2e%2e/x", "a/", "a//b", "．．/x", "x/ ", "COM¹"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CleanPath(in)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("CleanPath(%q): error %v is not ErrBadPath", in, err)
			}
			return
		}
		if got == "" {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(got)) || !filepath.IsLocal(got) {
			t.Fatalf("CleanPath(%q) = %q is not local", in, got)
		}
		if path.Clean(got) != got || strings.HasPrefix(got, "/") {
			t.Fatalf("CleanPath(%q) = %q is not canonical", in, got)
		}
		for _, comp := range strings.Split(got, "/") {
			if comp == ".." || comp == "." || comp == "" {
				t.Fatalf("CleanPath(%q) = %q has component %q", in, got, comp)
			}
		}
		if strings.ContainsAny(got, "\x00\\:") {
			t.Fatalf("CleanPath(%q) = %q has a forbidden character", in, got)
		}
		if again, err := CleanPath(got); err != nil || again != got {
			t.Fatalf("CleanPath not idempotent on %q: %q, %v", got, again, err)
		}
	})
}
