//go:build !windows

package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/transport"
)

var (
	cupsOnce sync.Once
	cupsErr  error
)

// needCUPS starts (or reuses) the real cupsd with its PDF queue
// (scripts/cups.sh); without it the test skips, except under CI=true.
func needCUPS(t *testing.T) {
	t.Helper()
	cupsOnce.Do(func() {
		if _, err := exec.LookPath("cupsd"); err != nil {
			cupsErr = fmt.Errorf("cupsd not installed (scripts/deps.sh): %w", err)
			return
		}
		if os.Geteuid() != 0 {
			cupsErr = errors.New("starting cupsd needs root")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "../scripts/cups.sh", "start").CombinedOutput(); err != nil {
			cupsErr = fmt.Errorf("scripts/cups.sh start: %w\n%s", err, out)
		}
	})
	if cupsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs a real cupsd: %v", cupsErr)
		}
		t.Skipf("no cupsd: %v", cupsErr)
	}
}

// TestPrintAPI drives the API the GUI uses, Printers and Print, between two
// peers on loopback and the real cupsd.
func TestPrintAPI(t *testing.T) {
	needCUPS(t)
	dir := t.TempDir()
	pa, pb := freePort(t), freePort(t)
	a := startNode(t, filepath.Join(dir, "a"), "desk-a", pa)
	b := startNode(t, filepath.Join(dir, "b"), "desk-b", pb)
	if err := b.Accounts.Add("alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddPrinterShare(PrinterShareArgs{Name: "office", Queue: "PDF", Allow: []string{"alice"}, Password: "ink"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, "127.0.0.1:"+strconv.Itoa(pb)); err != nil {
		t.Fatal(err)
	}
	alice := Creds{User: "alice", Password: "alice-pw", SharePassword: "ink"}

	list, err := a.Printers(ctx, "desk-b", alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "office" || !slices.Contains(list[0].Formats, printing.FormatPDF) {
		t.Fatalf("printers: %+v", list)
	}

	pdf, err := os.ReadFile(filepath.Join("..", "printing", "testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(doc, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	var seen []string
	job, err := a.Print(ctx, remote.Path{Peer: "desk-b", Share: "office"}, doc, alice, PrintOptions{Wait: true},
		func(j PrintJob) { seen = append(seen, j.State) })
	if err != nil {
		t.Fatal(err)
	}
	if job.State != "completed" || job.JobID <= 0 || job.Peer != "desk-b" || job.Printer != "office" || !job.Done() {
		t.Fatalf("job %+v", job)
	}
	if len(seen) == 0 || seen[len(seen)-1] != "completed" {
		t.Errorf("progress saw %v", seen)
	}

	// What the GUI maps to messages.
	blob := filepath.Join(dir, "blob.bin")
	os.WriteFile(blob, []byte{0, 1, 2, 3, 0xfe}, 0o644)
	for _, c := range []struct {
		name  string
		rp    remote.Path
		file  string
		creds Creds
		want  error
	}{
		{"unsupported format", remote.Path{Peer: "desk-b", Share: "office"}, blob, alice, ErrUnsupportedFormat},
		{"wrong printer password", remote.Path{Peer: "desk-b", Share: "office"}, doc, Creds{User: "alice", Password: "alice-pw", SharePassword: "x"}, transport.ErrAccessDenied},
		{"no such printer", remote.Path{Peer: "desk-b", Share: "nosuch"}, doc, alice, transport.ErrNotFound},
		{"no such peer", remote.Path{Peer: "nobody", Share: "office"}, doc, alice, ErrPeerNotFound},
		{"a path is no printer", remote.Path{Peer: "desk-b", Share: "office", Path: "x"}, doc, alice, ErrUsage},
		{"missing file", remote.Path{Peer: "desk-b", Share: "office"}, filepath.Join(dir, "none.pdf"), alice, os.ErrNotExist},
	} {
		if _, err := a.Print(ctx, c.rp, c.file, c.creds, PrintOptions{}, nil); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if code := Code(func() error {
		_, err := a.Print(ctx, remote.Path{Peer: "desk-b", Share: "office"}, doc, Creds{User: "alice", Password: "nope"}, PrintOptions{}, nil)
		return err
	}()); code != "denied" {
		t.Errorf("a refused login is %q, want denied (exit 3)", code)
	}
}

func TestJobErr(t *testing.T) {
	for _, c := range []struct {
		state string
		want  error
	}{
		{"completed", nil},
		{"paused", nil},
		{"failed", ErrJobFailed},
		{"canceled", ErrJobCanceled},
	} {
		err := jobErr(PrintJob{JobID: 1, State: c.state, Message: "m"}, "desk:pdf")
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("jobErr(%s) = %v, want %v", c.state, err, c.want)
		}
	}
}
