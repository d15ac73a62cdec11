//go:build !windows

package printing

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/testlog"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

// The service tests run the owner's Service and a Client on two real
// transport endpoints on loopback, printing on the real cupsd (see
// cups_test.go).

func testEndpoint(t testing.TB, mux *transport.Mux) (*transport.Endpoint, string) {
	t.Helper()
	id, _, _, err := identity.NewIdentity(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	trust, err := identity.OpenTrustStore(filepath.Join(t.TempDir(), "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := transport.Config{Identity: id, Trust: trust, Logger: testlog.Logger(), HandshakeTimeout: 3 * time.Second}
	if mux != nil {
		cfg.Handler = mux
	}
	ep, err := transport.Listen(context.Background(), "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep, id.ID.String()
}

// printEnv is an owning peer serving printer shares and a sending peer.
type printEnv struct {
	t        testing.TB
	files    *shares.Service
	server   *transport.Endpoint
	serverID string
	client   Client
	clientID string
}

func newPrintEnv(t testing.TB, backend Backend) *printEnv {
	t.Helper()
	return newPrintEnvWith(t, backend, nil)
}

func newPrintEnvWith(t testing.TB, backend Backend, configure func(*ServiceConfig)) *printEnv {
	t.Helper()
	files, err := shares.NewService(shares.ServiceConfig{
		Home: t.TempDir(), Name: "owner", Logger: testlog.Logger(),
		PeerName: func(id string) string { return "desk-2" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	cfg := ServiceConfig{Backend: backend, Access: files.Access(), Shares: files.Shares(), Logger: testlog.Logger(), TempDir: t.TempDir()}
	if configure != nil {
		configure(&cfg)
	}
	svc, err := NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := transport.NewMux()
	svc.Register(mux)
	e := &printEnv{t: t, files: files}
	e.server, e.serverID = testEndpoint(t, mux)
	clientEP, clientID := testEndpoint(t, nil)
	e.client, e.clientID = Client{Caller: clientEP}, clientID
	return e
}

func (e *printEnv) target(c access.Credentials) access.Target {
	return access.Target{ID: e.serverID, Addrs: []string{e.server.Addr().String()}, Auth: c}
}

func (e *printEnv) share(name, queue string, guest bool, users ...string) {
	e.t.Helper()
	sh := access.Share{Name: name, Kind: access.KindPrinter, Queue: queue, Access: map[string]access.Right{}}
	for _, u := range users {
		if !e.files.Accounts().Exists(u) {
			if err := e.files.Accounts().Add(u, u+"-pw"); err != nil {
				e.t.Fatal(err)
			}
		}
		sh.Access[u] = access.RightPrint
	}
	if guest {
		sh.Guest = access.RightPrint
	}
	if _, err := e.files.Shares().Add(sh, ""); err != nil {
		e.t.Fatal(err)
	}
}

func user(name string) access.Credentials {
	return access.Credentials{User: name, Password: name + "-pw"}
}

func (e *printEnv) submit(c access.Credentials, printer, name string, doc []byte, copies int) (RemoteJob, error) {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		e.t.Fatal(err)
	}
	f, size, err := OpenDocument(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.client.Submit(ctx, e.target(c), printer, f, size, SubmitOptions{Name: name, Copies: copies})
}

// follow long-polls a job to its end.
func (e *printEnv) follow(c access.Credentials, printer string, j RemoteJob) RemoteJob {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !j.Done {
		next, err := e.client.Job(ctx, e.target(c), printer, j, 5*time.Second)
		if err != nil {
			e.t.Fatalf("follow job %d: %v", j.JobID, err)
		}
		j = next
	}
	return j
}

func TestServiceGuestPrintsTextWithCopies(t *testing.T) {
	c := newTestCUPS(t)
	e := newPrintEnv(t, c)
	e.share("office", "PDF", true)
	job, err := e.submit(access.Credentials{}, "office", "notes.txt", []byte("minutes of the meeting\n"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if job = e.follow(access.Credentials{}, "office", job); job.State != StateCompleted {
		t.Fatalf("job %+v", job)
	}
	// The job belongs to guest@<sending peer's name>~<its id's start>
	// (the name alone only for verified peers: any peer may pick any
	// name), with two copies.
	out := cupsTool(t, "lpstat", "-W", "completed", "-o", "PDF")
	owner := "guest@desk-2~" + e.clientID[:8]
	if !strings.Contains(out, "PDF-"+strconv.Itoa(job.JobID)+" ") || !strings.Contains(out, owner) {
		t.Errorf("lpstat lacks job %d of %s:\n%s", job.JobID, owner, out)
	}
}

func TestServiceRefusesBeforeTheDocumentTravels(t *testing.T) {
	c := newTestCUPS(t)
	rejecting := tempQueue(t, "svc-reject", "cups-pdf:/")
	cupsTool(t, "cupsreject", rejecting)
	e := newPrintEnv(t, c)
	e.share("pdf", "PDF", false, "alice")
	e.share("closed", rejecting, false, "alice")
	e.share("ghost", "peerdesk-test-no-such-queue", false, "alice")
	tests := []struct {
		name    string
		creds   access.Credentials
		printer string
		doc     []byte
		want    error
	}{
		{"unknown format", user("alice"), "pdf", []byte{0, 1, 2, 3, 0xfe, 0xff}, ErrUnsupportedFormat},
		{"rejecting queue", user("alice"), "closed", testPDF(t), ErrQueueRejecting},
		{"queue gone", user("alice"), "ghost", testPDF(t), ErrQueueNotFound},
		{"guest not let in", access.Credentials{}, "pdf", testPDF(t), transport.ErrAccessDenied},
		{"wrong password", access.Credentials{User: "alice", Password: "nope"}, "pdf", testPDF(t), transport.ErrAccessDenied},
		{"no such printer", user("alice"), "nosuch", testPDF(t), transport.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.submit(tt.creds, tt.printer, "doc", tt.doc, 1)
			if !errors.Is(err, tt.want) {
				t.Fatalf("submit: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestServiceJobFollowing(t *testing.T) {
	c := newTestCUPS(t)
	paused := tempQueue(t, "svc-paused", "cups-pdf:/")
	cupsTool(t, "cupsdisable", "-r", "toner low", paused)
	e := newPrintEnv(t, c)
	e.share("slow", paused, false, "alice", "bob")
	job, err := e.submit(user("alice"), "slow", "a.pdf", testPDF(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != StatePaused || !strings.Contains(job.Message, "toner low") {
		t.Fatalf("job on a disabled queue: %+v", job)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Only the account and peer that submitted a job may follow it.
	if _, err := e.client.Job(ctx, e.target(user("bob")), "slow", job, 0); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("bob follows alice's job: %v", err)
	}

	// Nothing changes: the long poll answers with the same state after
	// its wait.
	start := time.Now()
	same, err := e.client.Job(ctx, e.target(user("alice")), "slow", job, 300*time.Millisecond)
	if err != nil || same != job {
		t.Fatalf("unchanged job: %+v, %v", same, err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("long poll answered after %v, before its wait", waited)
	}

	// Enabling the queue lets the job print; the follower hears it.
	cupsTool(t, "cupsenable", paused)
	if job = e.follow(user("alice"), "slow", job); job.State != StateCompleted {
		t.Fatalf("job after cupsenable: %+v", job)
	}
}

func TestServiceListsPrintersWithState(t *testing.T) {
	c := newTestCUPS(t)
	paused := tempQueue(t, "svc-list", "cups-pdf:/")
	cupsTool(t, "cupsdisable", "-r", "jammed", paused)
	e := newPrintEnv(t, c)
	e.share("pdf", "PDF", false, "alice")
	e.share("jammed", paused, false, "alice")
	e.share("ghost", "peerdesk-test-no-such-queue", false, "alice")
	e.share("guests", "PDF", true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := e.client.Printers(ctx, e.target(user("alice")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RemotePrinter{}
	for _, p := range list {
		got[p.Name] = p
	}
	if len(got) != 4 {
		t.Errorf("alice sees %+v", list)
	}
	if p := got["pdf"]; p.State != PrinterIdle && p.State != PrinterProcessing || !strings.Contains(strings.Join(p.Formats, ","), FormatPDF) {
		t.Errorf("pdf: %+v", p)
	}
	if p := got["jammed"]; p.State != PrinterPaused || !strings.Contains(p.Message, "jammed") {
		t.Errorf("jammed: %+v", p)
	}
	if p := got["ghost"]; p.State != PrinterUnavailable {
		t.Errorf("ghost: %+v", p)
	}
	// A guest sees only what guests may use.
	list, err = e.client.Printers(ctx, e.target(access.Credentials{}))
	if err != nil || len(list) != 1 || list[0].Name != "guests" {
		t.Errorf("guest sees %+v, %v", list, err)
	}
}

func TestServiceWithoutSpooler(t *testing.T) {
	e := newPrintEnv(t, nil)
	e.share("pdf", "PDF", true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := e.client.Printers(ctx, e.target(access.Credentials{}))
	if err != nil || len(list) != 1 || list[0].State != PrinterUnavailable {
		t.Fatalf("printers without a spooler: %+v, %v", list, err)
	}
	if _, err := e.submit(access.Credentials{}, "pdf", "a.txt", []byte("hello\n"), 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("submit without a spooler: %v", err)
	}
}

// TestServiceSaysWhatTheSpoolerAnswered: a spooler that answers with an
// error reaches the sender as that answer (class, status in words, the
// spooler's own message), and "does not answer" is kept for a spooler that
// does not answer at all.
func TestServiceSaysWhatTheSpoolerAnswered(t *testing.T) {
	refusing := refusingCUPS(t)
	silent, err := NewCUPS(CUPSConfig{Server: deadTCPAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		backend   Backend
		class     error
		message   string
		said      string // what must also appear of the spooler's own words
		notSaying string
	}{
		// CUPS' own wording differs between versions; each names the charset.
		{"spooler refuses", refusing, ErrRefused, "answered charset not supported: ", "x-bog", "does not answer"},
		{"spooler does not answer", silent, ErrUnavailable, "the print spooler of the printer's peer does not answer", "", "answered"},
	}
	says := func(msg, want, said, notSaying string) bool {
		return strings.Contains(msg, want) && strings.Contains(msg, said) && !strings.Contains(msg, notSaying)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPrintEnv(t, tt.backend)
			e.share("pdf", "PDF", true)
			list, err := e.client.Printers(t.Context(), e.target(access.Credentials{}))
			if err != nil || len(list) != 1 || list[0].State != PrinterUnavailable {
				t.Fatalf("printers: %+v, %v", list, err)
			}
			if msg := list[0].Message; !says(msg, strings.Replace(tt.message, "the printer's peer", "this peer", 1), tt.said, tt.notSaying) {
				t.Errorf("printer state message %q, want it to say %q", msg, tt.message)
			}
			_, err = e.submit(access.Credentials{}, "pdf", "a.pdf", testPDF(t), 1)
			if !errors.Is(err, tt.class) || !says(err.Error(), tt.message, tt.said, tt.notSaying) {
				t.Fatalf("submit: %v; want %v saying %q", err, tt.class, tt.message)
			}
			t.Logf("the sender reads: %v", err)
		})
	}
}

// BenchmarkRemotePrint prints the one-page PDF on the real cupsd's PDF queue
// directly through the backend (the baseline) and through a printer share
// over loopback DTLS (upload, submit, long-poll follow), alternating, and
// reports each submit→completed time and their ratio measured in the same
// run. Target (SPEC): remote submit→completed ≤ 2 s.
func BenchmarkRemotePrint(b *testing.B) {
	needCUPS(b)
	c, err := NewCUPS(CUPSConfig{})
	if err != nil {
		b.Fatal(err)
	}
	e := newPrintEnv(b, c)
	e.share("bench", "PDF", true)
	pdf, err := os.ReadFile(filepath.Join("testdata", "onepage.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		b.Fatal(err)
	}
	var direct, remote time.Duration
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		id, err := c.Submit(ctx, SubmitRequest{Queue: "PDF", JobName: "bench.pdf direct", User: "bench@local", FileName: "bench.pdf", Document: bytes.NewReader(pdf)})
		if err == nil {
			_, err = c.Wait(ctx, "PDF", id, nil)
		}
		direct += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}

		start = time.Now()
		f, size, err := OpenDocument(path)
		if err != nil {
			b.Fatal(err)
		}
		job, err := e.client.Submit(ctx, e.target(access.Credentials{}), "bench", f, size, SubmitOptions{Name: "bench.pdf"})
		f.Close()
		for err == nil && !job.Done {
			job, err = e.client.Job(ctx, e.target(access.Credentials{}), "bench", job, 5*time.Second)
		}
		remote += time.Since(start)
		cancel()
		if err != nil || job.State != StateCompleted {
			b.Fatalf("remote job %+v: %v", job, err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Milliseconds())/n, "direct-ms")
	b.ReportMetric(float64(remote.Milliseconds())/n, "remote-ms")
	b.ReportMetric(float64(remote)/float64(direct), "remote/direct")
}

// TestServiceCopiesQuota: copies per peer account and hour are bounded
// before the document travels, with a message saying when more can print;
// a job the spooler refused does not count.
func TestServiceCopiesQuota(t *testing.T) {
	c := newTestCUPS(t)
	e := newPrintEnvWith(t, c, func(cfg *ServiceConfig) { cfg.CopiesPerHour = 5 })
	e.share("office", "PDF", true)
	e.share("ghost", "peerdesk-test-no-such-queue", true)
	if _, err := e.submit(access.Credentials{}, "office", "big.txt", []byte("x\n"), 6); !errors.Is(err, access.ErrBusy) || !strings.Contains(err.Error(), "allows 5 an hour") {
		t.Fatalf("6 copies with a quota of 5: %v", err)
	}
	if _, err := e.submit(access.Credentials{}, "ghost", "a.txt", []byte("x\n"), 4); !errors.Is(err, ErrQueueNotFound) {
		t.Fatalf("a job for a missing queue: %v", err)
	}
	job, err := e.submit(access.Credentials{}, "office", "a.txt", []byte("x\n"), 4)
	if err != nil {
		t.Fatalf("4 copies (the refused job did not count): %v", err)
	}
	e.follow(access.Credentials{}, "office", job)
	_, err = e.submit(access.Credentials{}, "office", "b.txt", []byte("x\n"), 2)
	if !errors.Is(err, access.ErrBusy) || !strings.Contains(err.Error(), "4 copies printed in the last hour, 5 allowed") {
		t.Fatalf("2 more copies over the quota: %v", err)
	}
	t.Logf("the sender reads: %v", err)
	if _, err := e.submit(access.Credentials{}, "office", "c.txt", []byte("x\n"), 1); err != nil {
		t.Fatalf("the last copy of the quota: %v", err)
	}
}

func TestServiceCancelBySender(t *testing.T) {
	c := newTestCUPS(t)
	paused := tempQueue(t, "svc-cancel", "cups-pdf:/")
	cupsTool(t, "cupsdisable", paused)
	e := newPrintEnv(t, c)
	e.share("held", paused, false, "alice", "bob")
	job, err := e.submit(user("alice"), "held", "a.pdf", testPDF(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Someone else's job cannot be canceled, nor told apart from none.
	if _, err := e.client.Cancel(ctx, e.target(user("bob")), "held", job.JobID); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("bob cancels alice's job: %v", err)
	}
	got, err := e.client.Cancel(ctx, e.target(user("alice")), "held", job.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateCanceled || !got.Done {
		t.Fatalf("after cancel: %+v", got)
	}
	// Canceling a job that is over leaves it as it is.
	if again, err := e.client.Cancel(ctx, e.target(user("alice")), "held", job.JobID); err != nil || again.State != StateCanceled {
		t.Errorf("second cancel: %+v, %v", again, err)
	}
}
