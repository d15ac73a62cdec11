//go:build !windows

package printing

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A queue CUPS holds as remote (left from a home since reset: the app
// no longer knows it, the scheduler still has it) refuses a change of its
// sharing; adding it again updates it without that option instead of
// failing. lpadmin here is a stand-in that answers as CUPS 2.4.2 did on a
// stock Debian cupsd, and records what it was asked.
func TestAddOSQueueOverARemoteQueue(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := `#!/bin/sh
echo "$*" >> ` + calls + `
case "$*" in
*printer-is-shared=false*) echo "lpadmin: Cannot change printer-is-shared for remote queues." >&2; exit 1 ;;
esac
exit 0
`
	if err := os.WriteFile(filepath.Join(dir, "lpadmin"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := AddOSQueue(context.Background(), "h0-pdf", "ipp://127.0.0.1:631/printers/h0-pdf", "pdf on h0", "h0"); err != nil {
		t.Fatalf("AddOSQueue over a remote queue: %v", err)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "printer-is-shared=false") || strings.Contains(lines[1], "printer-is-shared") ||
		!strings.Contains(lines[1], "-p h0-pdf -E -v ipp://127.0.0.1:631/printers/h0-pdf -m everywhere") {
		t.Errorf("lpadmin was asked:\n%s", b)
	}
	// Any other refusal is still an error.
	if err := os.WriteFile(filepath.Join(dir, "lpadmin"), []byte("#!/bin/sh\necho 'lpadmin: Forbidden' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := AddOSQueue(context.Background(), "h0-pdf", "ipp://127.0.0.1:631/printers/h0-pdf", "pdf on h0", "h0"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("a refusal for another reason: %v", err)
	}
}
