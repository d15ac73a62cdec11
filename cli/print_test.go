package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
)

func TestPrintCommandLine(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	doc := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no arguments", []string{"print"}, exitUsage, "usage: peerdesk print PEER:PRINTER FILE"},
		{"no printer", []string{"print", "desk", doc}, exitUsage, "want PEER:PRINTER"},
		{"a path after the printer", []string{"print", "desk:pdf/x", doc}, exitUsage, "want PEER:PRINTER"},
		{"zero copies", []string{"print", "desk:pdf", doc, "--copies", "0"}, exitUsage, "--copies must be between 1 and 999"},
		{"too many copies", []string{"print", "desk:pdf", doc, "--copies", "1000"}, exitUsage, "--copies"},
		{"missing file", []string{"print", "desk:pdf", filepath.Join(t.TempDir(), "none.pdf")}, exitNotFound, "no such file"},
		{"timeout without wait", []string{"print", "desk:pdf", doc, "--timeout", "5s"}, exitUsage, "--timeout needs --wait"},
		{"no peer running", []string{"print", "desk:pdf", doc}, exitError, "peerdesk daemon"},
		{"printers of a peer, no peer running", []string{"printers", "desk"}, exitError, "peerdesk daemon"},
		{"printers takes one peer", []string{"printers", "a", "b"}, exitUsage, "usage: peerdesk printers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"--home", home}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, c.code, stderr, c.stderr)
			}
		})
	}
}

// TestPrintExitCodes: what print reports maps to the CLI contract's exit
// statuses.
func TestPrintExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("print: %w", node.ErrJobFailed), exitError},
		{fmt.Errorf("print: %w", node.ErrJobCanceled), exitError},
		{fmt.Errorf("print: %w", node.ErrUnsupportedFormat), exitError},
		{fmt.Errorf("print: %w", node.ErrPrinterRejecting), exitError},
		{errors.Join(printing.ErrQueueNotFound, fmt.Errorf("x: %w", os.ErrNotExist)), exitNotFound},
	} {
		cl := &cli{stdout: &strings.Builder{}, stderr: &strings.Builder{}}
		if got := cl.report(c.err); got != c.want {
			t.Errorf("%v: exit %d, want %d", c.err, got, c.want)
		}
	}
}

func TestFormatNames(t *testing.T) {
	got := formatNames([]string{printing.FormatPDF, printing.FormatText, printing.FormatXPS, "image/x-foo"})
	if got != "pdf,plain,ms-xpsdocument,foo" {
		t.Errorf("formatNames = %q", got)
	}
	if formatNames(nil) != "-" {
		t.Error("no formats should show as -")
	}
}
