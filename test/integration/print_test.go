package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// Printing on the namespace bed: a real cupsd with cups-pdf queues runs
// inside the owner's namespace (scripts/cups.sh start NETNS), so the
// owner's daemon reaches it at localhost:631 as it would on a desk; the
// other peer prints through the real binary over mDNS + DTLS.

const printerPW = "printer-secret"

// cupsAnonDir is where cups-pdf writes jobs of users without a local
// account, which every account@peer is.
const cupsAnonDir = "/var/spool/cups-pdf/ANONYMOUS"

// nsCUPS is the cupsd of one namespace (netns.StartCUPS).
type nsCUPS struct{ *netns.CUPS }

// startCUPS starts cupsd and its PDF queue in h's namespace (netns.StartCUPS).
func startCUPS(t *testing.T, h *netns.Host) *nsCUPS { return &nsCUPS{netns.StartCUPS(t, h)} }

func (c *nsCUPS) tool(name string, args ...string) (string, error) { return c.Tool(name, args...) }
func (c *nsCUPS) must(name string, args ...string) string          { return c.Must(name, args...) }
func (c *nsCUPS) queue(name string)                                { c.Queue(name) }
func (c *nsCUPS) jobs() []string                                   { return c.Jobs() }

// printJob is `print --json`.
type printJob struct {
	Peer    string `json:"peer"`
	Printer string `json:"printer"`
	JobID   int    `json:"job_id"`
	State   string `json:"state"`
	Message string `json:"message"`
}

type remotePrinter struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Message string   `json:"message"`
	Formats []string `json:"formats"`
}

func TestPrintOnSharedPrinter(t *testing.T) {
	var cups *nsCUPS
	ps, _ := officeBedWith(t, 2, func(ps []*peer) {
		owner := ps[0]
		cups = startCUPS(t, owner.host)
		for _, q := range []string{"QPAUSED", "QREJECT", "QGONE"} {
			cups.queue(q)
		}
		cups.must("cupsdisable", "-r", "out of paper", "QPAUSED")
		cups.must("cupsreject", "-r", "printer being serviced", "QREJECT")
		cups.must("cupsdisable", "QGONE")
		owner.must([]string{"PEERDESK_SHARE_PASSWORD=" + printerPW}, "share", "printer", "pdf", "PDF", "--allow", "alice", "--password")
		for share, q := range map[string]string{"paused": "QPAUSED", "reject": "QREJECT", "gone": "QGONE"} {
			owner.must(nil, "share", "printer", share, q, "--allow", "alice")
		}
	})
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, printerPW)
	pdf, err := os.ReadFile(filepath.Join("..", "..", "printing", "testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	// A name no other test or run uses, to find this job's PDF.
	token := "pd" + strings.ToLower(rand.Text()[:10])
	doc := client.data(token + ".pdf")
	if err := os.MkdirAll(filepath.Dir(doc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("list", func(t *testing.T) {
		var list []remotePrinter
		if err := json.Unmarshal([]byte(client.must(alice, "printers", target, "--json")), &list); err != nil {
			t.Fatal(err)
		}
		got := map[string]remotePrinter{}
		for _, p := range list {
			got[p.Name] = p
		}
		if p := got["pdf"]; p.State != "idle" || !contains(p.Formats, "application/pdf") || !contains(p.Formats, "text/plain") {
			t.Errorf("pdf: %+v", p)
		}
		if p := got["paused"]; p.State != "paused" || !strings.Contains(p.Message, "out of paper") {
			t.Errorf("paused: %+v", p)
		}
		if p := got["reject"]; p.State != "rejecting" {
			t.Errorf("reject: %+v", p)
		}
		// bob holds no right on any printer: he sees none.
		out := client.must(creds("bob", "bob-pass", ""), "printers", target, "--json")
		if strings.TrimSpace(out) != "[]" {
			t.Errorf("bob sees printers: %s", out)
		}
	})

	t.Run("print and wait", func(t *testing.T) {
		start := time.Now()
		out := client.must(alice, "print", target+":pdf", doc, "--wait", "--json")
		took := time.Since(start)
		var job printJob
		if err := json.Unmarshal([]byte(out), &job); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if job.State != "completed" || job.JobID <= 0 || job.Printer != "pdf" {
			t.Fatalf("job %+v", job)
		}
		t.Logf("MEASURED print --wait of a one-page PDF, %s → %s (CLI start, DTLS, upload, CUPS submit → completed): %v", client.host.Name, owner.host.Name, took.Round(time.Millisecond))
		// The CUPS job carries account@peer-name~id: the owner has not
		// verified the client, whose name alone proves nothing.
		want := fmt.Sprintf("PDF-%d alice@%s~%s", job.JobID, client.host.Name, client.id.ID[:8])
		if jobs := cups.jobs(); !contains(jobs, want) {
			t.Errorf("cupsd jobs %q lack %q", jobs, want)
		}
		// cups-pdf wrote the PDF, named after the job title (the file name
		// and the sending peer) and the job id.
		suffix := fmt.Sprintf("job_%d.pdf", job.JobID)
		netns.WaitFor(t, 5*time.Second, 25*time.Millisecond, func() (bool, string) {
			entries, _ := os.ReadDir(cupsAnonDir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				if strings.Contains(e.Name(), token) && strings.HasSuffix(e.Name(), suffix) {
					b, err := os.ReadFile(filepath.Join(cupsAnonDir, e.Name()))
					return err == nil && bytes.HasPrefix(b, []byte("%PDF-")), fmt.Sprintf("%s: %v", e.Name(), err)
				}
			}
			return false, fmt.Sprintf("no *%s*%s in %s: %v", token, suffix, cupsAnonDir, names)
		})
		if !hasAudit(owner, func(r auditRecord) bool {
			return r.Action == "print" && r.Allowed && r.Account == "alice" && r.Resource == "pdf" &&
				strings.Contains(r.Detail, fmt.Sprintf("job %d", job.JobID))
		}) {
			t.Errorf("no allowed print in the owner's audit log: %+v", owner.audit())
		}
	})

	t.Run("refusals", func(t *testing.T) {
		before := len(cups.jobs())
		cases := []struct {
			name     string
			env      []string
			printer  string
			file     string
			code     int
			stderr   string
			audit    func(auditRecord) bool
			auditMsg string
		}{
			{name: "wrong printer password", env: creds("alice", alicePW, "wrong"), printer: "pdf", file: doc, code: 3,
				stderr: "wrong password for share pdf",
				audit: func(r auditRecord) bool {
					return !r.Allowed && r.Account == "alice" && r.Action == "login" && r.Resource == "pdf"
				}},
			{name: "account not allowed", env: creds("bob", "bob-pass", printerPW), printer: "pdf", file: doc, code: 3,
				stderr: "bob may not print on share pdf",
				audit: func(r auditRecord) bool {
					return !r.Allowed && r.Account == "bob" && r.Action == "print" && r.Resource == "pdf"
				}},
			{name: "wrong account password", env: creds("alice", "nope", printerPW), printer: "pdf", file: doc, code: 3,
				stderr: "wrong account name or password",
				audit: func(r auditRecord) bool {
					return !r.Allowed && r.Account == "alice" && r.Action == "login" && r.Resource == ""
				}},
			{name: "unsupported format", env: alice, printer: "pdf", file: writeBinary(t, client.data("blob.bin")), code: 1,
				stderr: "printer pdf: the document is not PDF, PostScript, PNG, JPEG, PWG raster or UTF-8 text; the printer takes JPEG, PDF, PNG, PWG raster, PostScript, plain text",
				audit: func(r auditRecord) bool {
					return !r.Allowed && r.Account == "alice" && r.Action == "print" && r.Resource == "pdf" && strings.Contains(r.Detail, "format")
				}},
			{name: "rejecting queue", env: alice, printer: "reject", file: doc, code: 1,
				stderr: "not accepting jobs: printer reject (printer being serviced)",
				audit: func(r auditRecord) bool {
					return !r.Allowed && r.Action == "print" && r.Resource == "reject"
				}},
			{name: "no such printer", env: alice, printer: "nosuch", file: doc, code: 4, stderr: "no such share: nosuch"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				out, errOut, code := client.cli(tc.env, "print", target+":"+tc.printer, tc.file)
				if code != tc.code || !strings.Contains(errOut, tc.stderr) {
					t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, errOut, tc.stderr, out)
				}
				if tc.audit != nil && !hasAudit(owner, tc.audit) {
					t.Errorf("no such refusal in the owner's audit log: %+v", owner.audit())
				}
			})
		}
		// No refused request created a CUPS job.
		if after := cups.jobs(); len(after) != before {
			t.Errorf("cupsd has %d jobs after the refusals, %d before: %q", len(after), before, after)
		}
	})

	t.Run("paused queue", func(t *testing.T) {
		out := client.must(alice, "print", target+":paused", doc, "--json")
		var job printJob
		if err := json.Unmarshal([]byte(out), &job); err != nil {
			t.Fatal(err)
		}
		if job.State != "paused" && job.State != "held" {
			t.Fatalf("job on a disabled queue: %+v", job)
		}
		if !strings.Contains(job.Message, "out of paper") {
			t.Errorf("message %q does not say why", job.Message)
		}
		// --wait on a queue that stays paused ends at --timeout with the
		// job's state and the printer's message, exit 1.
		_, errOut, code := client.cli(alice, "print", target+":paused", doc, "--wait", "--timeout", "1s")
		if code != 1 || !strings.Contains(errOut, "still paused") || !strings.Contains(errOut, "out of paper") {
			t.Errorf("print --wait --timeout on a paused queue: exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("queue deleted during held job", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := client.host.Command(ctx, client.bin, "print", target+":gone", doc, "--wait", "--json")
		cmd.Env = append(cmd.Env, alice...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		netns.WaitFor(t, 10*time.Second, 25*time.Millisecond, func() (bool, string) {
			out, _ := cups.tool("lpstat", "-o", "QGONE")
			return strings.Contains(out, "QGONE-"), "no job on QGONE yet: " + out + stderr.String()
		})
		// The sender follows a paused job until the queue goes away.
		netns.WaitFor(t, 5*time.Second, 25*time.Millisecond, func() (bool, string) {
			return strings.Contains(stderr.String(), "paused"), "sender has not reported paused: " + stderr.String()
		})
		cups.must("lpadmin", "-x", "QGONE")
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("print --wait still running after the queue was deleted; stderr %s", stderr.String())
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("print --wait on a deleted queue: %v; stdout %s stderr %s", err, stdout.String(), stderr.String())
		}
		t.Logf("sender's stderr: %s", stderr.String())
		if !regexp.MustCompile(`failed.*vanished`).MatchString(stderr.String()) {
			t.Errorf("stderr does not report the job failed: %s", stderr.String())
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasAudit(p *peer, match func(auditRecord) bool) bool {
	for _, r := range p.audit() {
		if match(r) {
			return true
		}
	}
	return false
}

// writeBinary writes bytes no printer format starts with.
func writeBinary(t *testing.T, path string) string {
	t.Helper()
	b := append([]byte{0x00, 0x01, 0x02, 0x03, 0xfe}, []byte(strings.Repeat("x", 2000))...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
