package ippserve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phin1x/go-ipp"
)

// fakePrinter stands in for the remote printer: it records jobs and
// prints them when told to.
type fakePrinter struct {
	mu      sync.Mutex
	hold    bool
	printed []string
	release chan struct{} // Print waits for it when not nil
	ctxErr  chan error
	fail    error // Print reports the owner's job as pending, then fails with it
}

func (f *fakePrinter) Describe(context.Context) Description {
	return Description{Info: "pdf on h0", MakeModel: "Generic PDF", State: StateIdle, Accepting: true,
		Formats: []string{"application/pdf", "image/jpeg", "image/pwg-raster"}, Color: true, Duplex: true, CopiesMax: 99}
}

func (f *fakePrinter) Print(ctx context.Context, j *Job, report func(Status)) error {
	f.mu.Lock()
	hold, release := f.hold, f.release
	f.mu.Unlock()
	if hold {
		return fmt.Errorf("sign in to h0 in Peerdesk: %w", ErrHold)
	}
	if f.fail != nil {
		report(Status{State: JobPending, Message: "waiting on h0:pdf"})
		<-f.release
		return f.fail
	}
	report(Status{State: JobProcessing, Message: "printing on h0:pdf"})
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			f.ctxErr <- ctx.Err()
			return ctx.Err()
		}
	}
	b, err := os.ReadFile(j.Document.Name())
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.printed = append(f.printed, string(b))
	f.mu.Unlock()
	return nil
}

func start(t *testing.T, p Printer) *Server {
	t.Helper()
	s, err := New(Config{Name: "h0-pdf", UUID: "urn:uuid:3f49960e-8ae3-4c94-b449-1e351671d130", Printer: p, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// answer is a decoded response: the framing is a request's, with the
// status code where the operation is (go-ipp v1.7.0's response decoder
// stops at EOF on responses with several groups).
type answer struct {
	StatusCode int16
	job        *group
}

func decodeAnswer(t *testing.T, r io.Reader) *answer {
	t.Helper()
	req, err := readRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	return &answer{StatusCode: req.op, job: req.group(ipp.TagDelimiterJob)}
}

// call sends an IPP request with go-ipp's encoder and decodes the answer.
func call(t *testing.T, s *Server, op int16, job int, doc []byte) *answer {
	t.Helper()
	req := ipp.NewRequest(op, 1)
	req.OperationAttributes[ipp.AttributePrinterURI] = s.URI()
	req.OperationAttributes[ipp.AttributeRequestingUserName] = "alice"
	if job > 0 {
		req.OperationAttributes[ipp.AttributeJobID] = job
	}
	if doc != nil {
		req.OperationAttributes[ipp.AttributeDocumentFormat] = "application/pdf"
		req.File = bytes.NewReader(doc)
		req.FileSize = len(doc)
	}
	body, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if doc != nil {
		body = append(body, doc...)
	}
	resp, err := http.Post("http://127.0.0.1:"+itoa(s.Port())+"/printers/h0-pdf", "application/ipp", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeAnswer(t, resp.Body)
}

func itoa(i int) string { return strconv.Itoa(i) }

func jobState(t *testing.T, s *Server, id int) int {
	t.Helper()
	r := call(t, s, ipp.OperationGetJobAttributes, id, nil)
	st, ok := r.job.integer("job-state")
	if !ok {
		t.Fatalf("no job-state for job %d: status %#x", id, r.StatusCode)
	}
	return st
}

func waitState(t *testing.T, s *Server, id, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for jobState(t, s, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("job %d in state %d, want %d", id, jobState(t, s, id), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHeldJobPrintsOnRelease(t *testing.T) {
	f := &fakePrinter{hold: true}
	s := start(t, f)
	r := call(t, s, ipp.OperationPrintJob, 0, []byte("%PDF-1.4 held"))
	if r.StatusCode != ipp.StatusOk {
		t.Fatalf("Print-Job: %#x", r.StatusCode)
	}
	waitState(t, s, 1, int(ipp.JobStateHeld))
	if s.Held() != 1 {
		t.Fatalf("Held() = %d", s.Held())
	}
	f.mu.Lock()
	f.hold = false
	f.mu.Unlock()
	s.Release()
	waitState(t, s, 1, int(ipp.JobStateCompleted))
	if len(f.printed) != 1 || f.printed[0] != "%PDF-1.4 held" {
		t.Fatalf("printed %q", f.printed)
	}
}

func TestDropHeldPrintsNothing(t *testing.T) {
	f := &fakePrinter{hold: true}
	s := start(t, f)
	call(t, s, ipp.OperationPrintJob, 0, []byte("%PDF-1.4 dropped"))
	waitState(t, s, 1, int(ipp.JobStateHeld))
	s.DropHeld()
	s.Release()
	waitState(t, s, 1, int(ipp.JobStateCanceled))
	if len(f.printed) != 0 {
		t.Fatalf("printed %q", f.printed)
	}
}

func TestCancelReachesThePrinter(t *testing.T) {
	f := &fakePrinter{release: make(chan struct{}), ctxErr: make(chan error, 1)}
	s := start(t, f)
	call(t, s, ipp.OperationPrintJob, 0, []byte("%PDF-1.4 cancel me"))
	waitState(t, s, 1, int(ipp.JobStateProcessing))
	if r := call(t, s, ipp.OperationCancelJob, 1, nil); r.StatusCode != ipp.StatusOk {
		t.Fatalf("Cancel-Job: %#x", r.StatusCode)
	}
	select {
	case err := <-f.ctxErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("printer's ctx: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the printer never heard of the cancel")
	}
	waitState(t, s, 1, int(ipp.JobStateCanceled))
	if r := call(t, s, ipp.OperationCancelJob, 1, nil); r.StatusCode != ipp.StatusErrorNotPossible {
		t.Fatalf("second Cancel-Job: %#x, want not-possible", r.StatusCode)
	}
}

// The owner's job state flows back: waiting at the owner shows as
// processing (job-queued) with its message, a job the owner's printer
// failed ends aborted with the reason, as lpstat then shows it.
func TestOwnerFailureAbortsTheJob(t *testing.T) {
	f := &fakePrinter{release: make(chan struct{}), fail: errors.New("h0:pdf: the printer is out of paper")}
	s := start(t, f)
	call(t, s, ipp.OperationPrintJob, 0, []byte("%PDF-1.4 fails"))
	waitState(t, s, 1, int(ipp.JobStateProcessing))
	r := call(t, s, ipp.OperationGetJobAttributes, 1, nil)
	if msg, _ := r.job.str("job-state-message"); msg != "waiting on h0:pdf" {
		t.Errorf("job-state-message while the owner holds it = %q", msg)
	}
	close(f.release)
	waitState(t, s, 1, int(ipp.JobStateAborted))
	r = call(t, s, ipp.OperationGetJobAttributes, 1, nil)
	if msg, _ := r.job.str("job-state-message"); !strings.Contains(msg, "out of paper") {
		t.Errorf("job-state-message after the failure = %q", msg)
	}
	if len(f.printed) != 0 {
		t.Errorf("printed %q", f.printed)
	}
}

func TestRefusals(t *testing.T) {
	s := start(t, &fakePrinter{})
	post := func(host string, body []byte) (int, *answer) {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+itoa(s.Port())+"/printers/h0-pdf", bytes.NewReader(body))
		req.Host = host
		req.Header.Set("Content-Type", "application/ipp")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		return resp.StatusCode, decodeAnswer(t, resp.Body)
	}
	good := ipp.NewRequest(ipp.OperationGetPrinterAttributes, 7)
	good.OperationAttributes[ipp.AttributePrinterURI] = s.URI()
	body, _ := good.Encode()
	host := "127.0.0.1:" + itoa(s.Port())
	if code, r := post(host, body); code != 200 || r.StatusCode != ipp.StatusOk {
		t.Fatalf("good request: %d %+v", code, r)
	}
	// A web page that rebound its name to 127.0.0.1.
	if code, _ := post("evil.example:"+itoa(s.Port()), body); code != http.StatusForbidden {
		t.Errorf("foreign Host header: HTTP %d, want 403", code)
	}
	tests := []struct {
		name string
		body []byte
		want int16
	}{
		{"version 0.0", append([]byte{0, 0}, body[2:]...), ipp.StatusErrorVersionNotSupported},
		{"request id 0", append(append([]byte{}, body[:4]...), append([]byte{0, 0, 0, 0}, body[8:]...)...), ipp.StatusErrorBadRequest},
		{"no attributes", append(append([]byte{}, body[:8]...), 0x01, 0x03), ipp.StatusErrorBadRequest},
		{"truncated", body[:len(body)-3], ipp.StatusErrorBadRequest},
		{"negative length", append(append([]byte{}, body[:9]...), 0x47, 0xff, 0xff), ipp.StatusErrorBadRequest},
	}
	for _, tt := range tests {
		if code, r := post(host, tt.body); code != 200 || r.StatusCode != tt.want {
			status := int16(-1)
			if r != nil {
				status = r.StatusCode
			}
			t.Errorf("%s: HTTP %d status %#x, want %#x", tt.name, code, status, tt.want)
		}
	}
}

func FuzzReadRequest(f *testing.F) {
	good := ipp.NewRequest(ipp.OperationPrintJob, 1)
	good.OperationAttributes[ipp.AttributePrinterURI] = "ipp://127.0.0.1:631/printers/x"
	good.JobAttributes[ipp.AttributeCopies] = 2
	b, _ := good.Encode()
	f.Add(b)
	f.Add([]byte{2, 0, 0, 11, 0, 0, 0, 1, 1, 0x47, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := readRequest(bytes.NewReader(data))
		if err == nil && req == nil {
			t.Fatal("nil request without error")
		}
	})
}
