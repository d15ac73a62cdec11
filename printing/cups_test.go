//go:build !windows

package printing

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phin1x/go-ipp"
)

// These tests talk to a real cupsd with a cups-pdf queue named PDF, started
// by scripts/cups.sh (root, packages cups cups-client printer-driver-cups-pdf).
// Without them the tests skip, except under CI=true where they fail.

const testUser = "alice@desk-2"

var (
	cupsOnce sync.Once
	cupsErr  error
)

// needCUPS starts (or reuses) the scheduler once per test binary.
func needCUPS(t testing.TB) {
	t.Helper()
	cupsOnce.Do(func() {
		for _, tool := range []string{"cupsd", "lpadmin", "lpstat", "cupsdisable", "cupsreject"} {
			if _, err := exec.LookPath(tool); err != nil {
				cupsErr = fmt.Errorf("%s not installed (apt-get install cups cups-client printer-driver-cups-pdf): %w", tool, err)
				return
			}
		}
		if os.Geteuid() != 0 {
			cupsErr = errors.New("starting cupsd needs root")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "../scripts/cups.sh", "start").CombinedOutput()
		if err != nil {
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

func newTestCUPS(t *testing.T) *CUPS {
	t.Helper()
	needCUPS(t)
	c, err := NewCUPS(CUPSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cupsTool runs a CUPS command-line tool, bounded, in the C locale.
func cupsTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LANG=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tempQueue creates a throwaway cups-pdf queue with the given device URI, so
// tests that stop, reject or delete queues never disturb PDF, which other
// test binaries may be printing on.
func tempQueue(t *testing.T, purpose, device string) string {
	t.Helper()
	name := fmt.Sprintf("peerdesk-test-%s-%d", purpose, os.Getpid())
	args := []string{"-p", name, "-E", "-v", device}
	// Copying PDF's PPD is much faster than resolving a driver with -m.
	if _, err := os.Stat("/etc/cups/ppd/PDF.ppd"); err == nil {
		args = append(args, "-P", "/etc/cups/ppd/PDF.ppd")
	} else {
		args = append(args, "-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd")
	}
	cupsTool(t, "lpadmin", args...)
	t.Cleanup(func() {
		// Deleting the queue also purges its jobs. It may already be gone.
		_ = exec.Command("lpadmin", "-x", name).Run()
	})
	return name
}

func testPDF(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func submitPDF(t *testing.T, c *CUPS, queue string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.Submit(ctx, SubmitRequest{
		Queue: queue, JobName: "onepage.pdf from desk-2", User: testUser,
		FileName: "onepage.pdf", Document: bytes.NewReader(testPDF(t)),
	})
	if err != nil {
		t.Fatalf("submit to %s: %v", queue, err)
	}
	return id
}

// cupsPDFOutDir is where cups-pdf puts jobs of users without a local
// account, which every peerdesk user ("alice@desk-2") is.
func cupsPDFOutDir() string {
	dir := "/var/spool/cups-pdf/ANONYMOUS"
	f, err := os.Open("/etc/cups/cups-pdf.conf")
	if err != nil {
		return dir
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "AnonDirName" {
			dir = fields[1]
		}
	}
	return dir
}

// waitFor polls cond every 50 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCUPSQueuesListsPDF(t *testing.T) {
	c := newTestCUPS(t)
	queues, err := c.Queues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(queues, func(q Queue) bool { return q.Name == "PDF" })
	if i < 0 {
		t.Fatalf("no queue PDF in %+v", queues)
	}
	q := queues[i]
	t.Logf("PDF: state %s, accepting %v, message %q, %d formats", q.State, q.Accepting, q.Message, len(q.Formats))
	if !q.Accepting || q.State == QueueStopped {
		t.Errorf("PDF should be enabled and accepting: %+v", q)
	}
	for _, f := range []string{FormatPDF, FormatPostScript, FormatText, FormatPNG, FormatJPEG} {
		if !slices.Contains(q.Formats, f) {
			t.Errorf("PDF formats lack %s: %v", f, q.Formats)
		}
	}
	one, err := c.Queue(t.Context(), "PDF")
	if err != nil || one.Name != "PDF" || !slices.Equal(one.Formats, q.Formats) {
		t.Errorf("Queue(PDF) = %+v, %v; want the listed queue", one, err)
	}
}

// printAndWait prints the fixture on queue and follows it to the end,
// returning how long submit→completed took.
func printAndWait(t *testing.T, c *CUPS, queue string) (int, JobStatus, time.Duration) {
	t.Helper()
	start := time.Now()
	id := submitPDF(t, c, queue)
	submitted := time.Since(start)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var seen []JobStatus
	st, err := c.Wait(ctx, queue, id, func(s JobStatus) { seen = append(seen, s) })
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("wait: %v (states %v)", err, seen)
	}
	if st.State != JobCompleted {
		t.Fatalf("state %s, want completed", st.State)
	}
	t.Logf("job %d: submit→completed %s (submit %s), states %v", id, elapsed.Round(time.Millisecond), submitted.Round(time.Millisecond), seen)
	return id, st, elapsed
}

func TestCUPSPrintPDFCompletesAsRequestingUser(t *testing.T) {
	c := newTestCUPS(t)
	outDir := cupsPDFOutDir()
	start := time.Now()
	id, st, elapsed := printAndWait(t, c, "PDF")

	// The target is submit→completed ≤ 2 s. Most of it is cups-pdf running
	// Ghostscript, which a loaded machine slows down; so a slow run is
	// retried, and the best of three must meet the target.
	best := elapsed
	for try := 2; best > 2*time.Second && try <= 3; try++ {
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("over the 2 s target (load average %s); again", strings.TrimSpace(string(load)))
		_, _, d := printAndWait(t, c, "PDF")
		best = min(best, d)
	}
	t.Logf("submit→completed: best %s", best.Round(time.Millisecond))
	if best > 2*time.Second {
		t.Errorf("submit→completed took %s at best; the target is ≤ 2 s", best)
	}

	if st.User != testUser {
		t.Errorf("job-originating-user-name %q, want %q", st.User, testUser)
	}
	// The same, as the spooler's own tool reports it.
	if out := cupsTool(t, "lpstat", "-W", "completed", "-o", "PDF"); !regexpJobLine(id, testUser).MatchString(out) {
		t.Errorf("lpstat does not list PDF-%d by %s:\n%s", id, testUser, out)
	}

	// cups-pdf names its output after the title and the job id.
	suffix := fmt.Sprintf("job_%d.pdf", id)
	var out string
	waitFor(t, 5*time.Second, "cups-pdf output in "+outDir, func() bool {
		entries, _ := os.ReadDir(outDir)
		for _, e := range entries {
			info, err := e.Info()
			if err == nil && strings.HasSuffix(e.Name(), suffix) && !info.ModTime().Before(start.Add(-time.Second)) {
				out = filepath.Join(outDir, e.Name())
				return true
			}
		}
		return false
	})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("%s is not a PDF: %q", out, b[:min(len(b), 16)])
	}
	t.Logf("cups-pdf wrote %s (%d bytes)", out, len(b))
}

func TestCUPSDisabledQueueHoldsJobAsPaused(t *testing.T) {
	c := newTestCUPS(t)
	q := tempQueue(t, "disabled", "cups-pdf:/")
	cupsTool(t, "cupsdisable", "-r", "peerdesk test: out of paper", q)
	t.Cleanup(func() { _ = exec.Command("cupsenable", q).Run() })

	id := submitPDF(t, c, q)
	st, err := c.Job(t.Context(), q, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("on a disabled queue: %s", st)
	if !st.Paused || st.State.Done() || !strings.Contains(st.Message, "paused") || !strings.Contains(st.Message, "out of paper") {
		t.Errorf("status %+v: want a live job, paused, with the queue's message", st)
	}

	// Wait keeps following the held job and stops at the caller's deadline,
	// with the paused status.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var changes []JobStatus
	last, err := c.Wait(ctx, q, id, func(s JobStatus) { changes = append(changes, s) })
	if !errors.Is(err, context.DeadlineExceeded) || !last.Paused {
		t.Errorf("Wait on a paused queue = %s, %v; want the paused status and a deadline error", last, err)
	}
	if len(changes) == 0 || !changes[0].Paused {
		t.Errorf("onChange got %v; want the paused status first", changes)
	}

	// Resumed, the held job prints.
	cupsTool(t, "cupsenable", q)
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if st, err := c.Wait(ctx, q, id, nil); err != nil || st.State != JobCompleted {
		t.Errorf("after cupsenable: %s, %v; want completed", st, err)
	}
}

func TestCUPSRejectingQueue(t *testing.T) {
	c := newTestCUPS(t)
	q := tempQueue(t, "rejecting", "cups-pdf:/")
	cupsTool(t, "cupsreject", "-r", "peerdesk test: closed", q)
	t.Cleanup(func() { _ = exec.Command("cupsaccept", q).Run() })

	_, err := c.Submit(t.Context(), SubmitRequest{Queue: q, User: testUser, Document: bytes.NewReader(testPDF(t))})
	if !errors.Is(err, ErrQueueRejecting) {
		t.Fatalf("submit to a rejecting queue: %v; want ErrQueueRejecting", err)
	}
	t.Logf("rejecting: %v", err)

	// Print-Job itself, past Submit's early check: cupsd answers 0x0506.
	req := c.newRequest(ipp.OperationPrintJob, testUser)
	req.OperationAttributes[ipp.AttributePrinterURI] = printerURI(q)
	req.OperationAttributes[ipp.AttributeDocumentFormat] = FormatPDF
	pdf := testPDF(t)
	req.File, req.FileSize = bytes.NewReader(pdf), len(pdf)
	_, err = c.send(t.Context(), c.callTimeout, targetQueue, "printers", q, req)
	var status ipp.IPPError
	if !errors.Is(err, ErrQueueRejecting) || !errors.As(err, &status) || status.Status != ipp.StatusErrorNotAcceptingJobs {
		t.Errorf("Print-Job on a rejecting queue: %v; want ErrQueueRejecting from IPP status 0x0506", err)
	}
}

func TestCUPSDeletedQueueJobVanishes(t *testing.T) {
	c := newTestCUPS(t)
	q := tempQueue(t, "deleted", "cups-pdf:/")
	// Disabled, so the job is still held when the queue goes.
	cupsTool(t, "cupsdisable", q)
	id := submitPDF(t, c, q)
	if st, err := c.Job(t.Context(), q, id); err != nil || !st.Paused {
		t.Fatalf("before deletion: %s, %v; want a paused job", st, err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	type result struct {
		st  JobStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := c.Wait(ctx, q, id, nil)
		done <- result{st, err}
	}()
	cupsTool(t, "lpadmin", "-x", q)
	r := <-done
	t.Logf("after deleting the queue: %s: %v", r.st, r.err)
	if !errors.Is(r.err, ErrJobVanished) || !errors.Is(r.err, ErrJobFailed) {
		t.Errorf("Wait = %v; want ErrJobVanished and ErrJobFailed", r.err)
	}
	if r.st.State == JobCompleted || !r.st.State.Done() {
		t.Errorf("state %s; want a failed end state, never completed", r.st.State)
	}
}

func TestCUPSUnsupportedFormatRefusedBeforeSubmission(t *testing.T) {
	c := newTestCUPS(t)
	q := tempQueue(t, "format", "cups-pdf:/")

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("report.txt")
	_, _ = w.Write([]byte("not for printing"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Submit(t.Context(), SubmitRequest{Queue: q, User: testUser, FileName: "report.zip", Document: &buf})
	if !errors.Is(err, ErrUnsupportedFormat) {
		t.Fatalf("submit a ZIP: %v; want ErrUnsupportedFormat", err)
	}
	if !strings.Contains(err.Error(), "PDF") {
		t.Errorf("message %q should say what the printer takes", err)
	}
	t.Logf("ZIP refused: %v", err)
	if out := cupsTool(t, "lpstat", "-W", "all", "-o", q); strings.TrimSpace(out) != "" {
		t.Errorf("a job reached the spooler:\n%s", out)
	}
}

func TestCUPSUnknownQueueAndJob(t *testing.T) {
	c := newTestCUPS(t)
	const missing = "peerdesk-no-such-queue"
	_, err := c.Submit(t.Context(), SubmitRequest{Queue: missing, User: testUser, Document: bytes.NewReader(testPDF(t))})
	var status ipp.IPPError
	if !errors.Is(err, ErrQueueNotFound) || !errors.As(err, &status) || status.Status != ipp.StatusErrorNotFound {
		t.Errorf("submit to a missing queue: %v; want ErrQueueNotFound from IPP client-error-not-found", err)
	}
	if _, err := c.Queue(t.Context(), missing); !errors.Is(err, ErrQueueNotFound) {
		t.Errorf("Queue(%s): %v; want ErrQueueNotFound", missing, err)
	}
	if _, err := c.Queue(t.Context(), "../admin"); !errors.Is(err, ErrQueueNotFound) {
		t.Errorf("Queue(../admin): %v; want ErrQueueNotFound", err)
	}
	if _, err := c.Job(t.Context(), "PDF", 1<<30); !errors.Is(err, ErrJobVanished) || !errors.As(err, &status) {
		t.Errorf("Job(no such id): %v; want ErrJobVanished from an IPP status", err)
	}
}

// An unreachable printer leaves its job processing: Wait reports the
// printer's message and gives up at the caller's deadline.
func TestCUPSUnreachableDeviceRespectsDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("waits several seconds for the socket backend to give up a connection")
	}
	c := newTestCUPS(t)
	// Nothing listens on the discard port of the loopback.
	q := tempQueue(t, "unreachable", "socket://127.0.0.1:9")
	id := submitPDF(t, c, q)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	start := time.Now()
	st, err := c.Wait(ctx, q, id, func(s JobStatus) { t.Logf("%s", s) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %s, %v; want the deadline", st, err)
	}
	if over := time.Since(start) - 8*time.Second; over > time.Second {
		t.Errorf("Wait overran its deadline by %s", over)
	}
	if st.State != JobProcessing || st.Message == "" {
		t.Errorf("last status %+v; want processing with the printer's message", st)
	}
	if !strings.Contains(err.Error(), st.Message) {
		t.Errorf("error %q should carry the printer's message %q", err, st.Message)
	}
}

// Over cupsd's domain socket the job must still be the requesting user's,
// not root's (which is what go-ipp's socket adapter would make it).
func TestCUPSDomainSocketKeepsRequestingUser(t *testing.T) {
	needCUPS(t)
	const sock = "/run/cups/cups.sock"
	if _, err := os.Stat(sock); err != nil {
		t.Skipf("no %s: %v", sock, err)
	}
	c, err := NewCUPS(CUPSConfig{Server: sock})
	if err != nil {
		t.Fatal(err)
	}
	id := submitPDF(t, c, "PDF")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	st, err := c.Wait(ctx, "PDF", id, nil)
	if err != nil || st.User != testUser {
		t.Errorf("over %s: %+v, %v; want completed as %s", sock, st, err, testUser)
	}
}

// deadTCPAddr is a loopback address nothing listens on.
func deadTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestCUPSUnavailable(t *testing.T) {
	for _, server := range []string{deadTCPAddr(t), filepath.Join(t.TempDir(), "no.sock")} {
		c, err := NewCUPS(CUPSConfig{Server: server})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Queues(t.Context()); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Queues at %s: %v; want ErrUnavailable", server, err)
		}
	}
}

// Every IPP call is bounded: a cupsd that accepts the connection and never
// answers costs CallTimeout, and the caller's own deadline is reported as
// the caller's.
func TestCUPSCallTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn) // read nothing, answer nothing
		}
	}()

	c, err := NewCUPS(CUPSConfig{Server: l.Addr().String(), CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Queues(t.Context())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Queues against a silent server: %v; want ErrUnavailable after the call timeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s with a 200ms call timeout", took)
	}

	c, _ = NewCUPS(CUPSConfig{Server: l.Addr().String(), CallTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Job(ctx, "PDF", 1); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Errorf("Job with the caller's deadline: %v; want the caller's DeadlineExceeded", err)
	}
}

// regexpJobLine matches lpstat -o's line for job id owned by user.
func regexpJobLine(id int, user string) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(?m)^\S+-%d\s+%s\s`, id, regexp.QuoteMeta(user)))
}
