package printing

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/transport"
)

func TestRemoteJob(t *testing.T) {
	tests := []struct {
		in   JobStatus
		want RemoteJob
	}{
		{JobStatus{ID: 1, State: JobPending}, RemoteJob{JobID: 1, State: StatePending}},
		{JobStatus{ID: 1, State: JobPending, Paused: true, Message: "Paused"}, RemoteJob{JobID: 1, State: StatePaused, Message: "Paused"}},
		{JobStatus{ID: 2, State: JobHeld}, RemoteJob{JobID: 2, State: StateHeld}},
		{JobStatus{ID: 3, State: JobProcessing}, RemoteJob{JobID: 3, State: StateProcessing}},
		{JobStatus{ID: 3, State: JobProcessing, Paused: true}, RemoteJob{JobID: 3, State: StatePaused}},
		{JobStatus{ID: 4, State: JobStopped}, RemoteJob{JobID: 4, State: StatePaused}},
		{JobStatus{ID: 5, State: JobCompleted}, RemoteJob{JobID: 5, State: StateCompleted, Done: true}},
		{JobStatus{ID: 6, State: JobAborted, Message: "filter failed"}, RemoteJob{JobID: 6, State: StateFailed, Message: "filter failed", Done: true}},
		{JobStatus{ID: 7, State: JobCanceled}, RemoteJob{JobID: 7, State: StateCanceled, Done: true}},
	}
	for _, tt := range tests {
		if got := remoteJob(tt.in); got != tt.want {
			t.Errorf("remoteJob(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestPrinterState(t *testing.T) {
	tests := []struct {
		q    Queue
		want string
	}{
		{Queue{State: QueueIdle, Accepting: true}, PrinterIdle},
		{Queue{State: QueueProcessing, Accepting: true}, PrinterProcessing},
		{Queue{State: QueueStopped, Accepting: true}, PrinterPaused},
		// Rejecting wins: a job sent there fails at once, while a paused
		// queue keeps it.
		{Queue{State: QueueStopped, Accepting: false}, PrinterRejecting},
		{Queue{State: QueueIdle, Accepting: false}, PrinterRejecting},
	}
	for _, tt := range tests {
		if got := printerState(tt.q); got != tt.want {
			t.Errorf("printerState(%+v) = %s, want %s", tt.q, got, tt.want)
		}
	}
}

func TestSendableFormats(t *testing.T) {
	tests := []struct {
		name      string
		supported []string
		want      []string
	}{
		{"cups auto-typing", []string{"application/octet-stream", "application/pdf", "application/vnd.cups-raster"},
			[]string{FormatPDF, FormatPostScript, FormatText, FormatPNG, FormatJPEG, FormatPWGRaster}},
		{"windows xps driver", []string{FormatXPS, FormatOXPS}, []string{FormatXPS, FormatOXPS}},
		{"pdf only", []string{"application/pdf", "image/urf"}, []string{FormatPDF}},
		{"driverless raster printer", []string{"image/pwg-raster", "image/urf"}, []string{FormatPWGRaster}},
		{"nothing peerdesk sends", []string{"image/urf", "application/vnd.hp-pcl"}, []string{}},
		{"none", nil, []string{}},
	}
	for _, tt := range tests {
		got := sendableFormats(tt.supported)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: sendableFormats = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRequestingUser(t *testing.T) {
	tests := []struct {
		account, peerName, peerID, want string
	}{
		{"alice", "desk-2", "0123456789", "alice@desk-2"},
		{"", "desk-2", "0123456789", "guest@desk-2"},
		{"guest", "desk-2", "0123456789", "guest@desk-2"},
		{"alice", "", "0123456789abcdef", "alice@01234567"},
		{"alice", "  ", "", "alice@unknown-peer"},
		{"alice", "Anna's PC", "x", "alice@Anna's-PC"},
		{"alice", "evil@host\nX-Injected", "x", "alice@evil-host-X-Injected"},
		{"alice", strings.Repeat("é", 100), "x", "alice@" + strings.Repeat("é", 60)},
	}
	for _, tt := range tests {
		got := RequestingUser(tt.account, tt.peerName, tt.peerID)
		if got != tt.want {
			t.Errorf("RequestingUser(%q, %q, %q) = %q, want %q", tt.account, tt.peerName, tt.peerID, got, tt.want)
		}
		// Whatever it makes must pass the backend's own check.
		r := SubmitRequest{Queue: "q", User: got, Document: strings.NewReader("x")}
		if err := r.validate(); err != nil {
			t.Errorf("RequestingUser(%q, %q) = %q, refused by SubmitRequest: %v", tt.account, tt.peerName, got, err)
		}
	}
}

func TestDocumentName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"/home/anna/report.pdf", "report.pdf"},
		{`C:\Users\anna\report.pdf`, "report.pdf"},
		{"", "document"},
		{"..", "document"},
		{"a\x1b[2Jb.txt", "a?[2Jb.txt"},
		{"bad\xffutf8.txt", "bad?utf8.txt"},
		{strings.Repeat("ü", 150), strings.Repeat("ü", 100)},
	}
	for _, tt := range tests {
		if got := DocumentName(tt.in); got != tt.want {
			t.Errorf("DocumentName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSubmitRequestLimits(t *testing.T) {
	ok := submitRequest{Printer: "pdf", Name: "a.pdf", Size: 10, Format: FormatPDF}
	tests := []struct {
		name   string
		modify func(*submitRequest)
		ok     bool
	}{
		{"fine", func(*submitRequest) {}, true},
		{"no printer", func(r *submitRequest) { r.Printer = "" }, false},
		{"empty document", func(r *submitRequest) { r.Size = 0 }, false},
		{"too large", func(r *submitRequest) { r.Size = MaxDocumentBytes + 1 }, false},
		{"negative copies", func(r *submitRequest) { r.Copies = -1 }, false},
		{"too many copies", func(r *submitRequest) { r.Copies = MaxCopies + 1 }, false},
	}
	for _, tt := range tests {
		r := ok
		tt.modify(&r)
		err := r.validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, transport.ErrProtocol)) {
			t.Errorf("%s: validate = %v", tt.name, err)
		}
	}
	j := jobRequest{Printer: "pdf", JobID: 1, WaitMS: MaxJobWait + 1}
	if err := j.validateAs(OpPrintJob); !errors.Is(err, transport.ErrProtocol) {
		t.Errorf("wait over the cap: %v", err)
	}
}

// FuzzPrintRequests feeds print.submit and print.job bodies from a hostile
// peer through decoding and validation: errors are fine, panics and
// unbounded or unsafe job names are not.
func FuzzPrintRequests(f *testing.F) {
	f.Add([]byte(`{"auth":{"user":"alice"},"printer":"pdf","name":"a.pdf","size":10,"format":"application/pdf","copies":2}`))
	f.Add([]byte(`{"printer":"pdf","job_id":3,"known":{"job_id":3,"state":"pending"},"wait_ms":1000}`))
	f.Add([]byte(`{"printer":"","name":"../../etc/passwd\u0000","size":-1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := transport.Request{Body: body}
		var s submitRequest
		if transport.DecodeBody(req, &s) == nil && s.validate() == nil {
			if s.Size <= 0 || s.Size > MaxDocumentBytes || len(s.Name) > maxDocName || !utf8.ValidString(s.Name) ||
				strings.ContainsFunc(s.Name, unicode.IsControl) || strings.ContainsAny(s.Name, `/\`) {
				t.Fatalf("accepted %+v", s)
			}
		}
		var j jobRequest
		if transport.DecodeBody(req, &j) == nil && j.validateAs(OpPrintJob) == nil {
			if j.JobID <= 0 || j.WaitMS < 0 || j.WaitMS > MaxJobWait {
				t.Fatalf("accepted %+v", j)
			}
		}
		_ = json.Valid(body)
	})
}

func TestDisplayedPeer(t *testing.T) {
	id := "5c65a037-2af8-4511-844c-5e231b9d4b07"
	for _, tt := range []struct {
		name  string
		trust identity.TrustState
		want  string
	}{
		{"desk-2", identity.TrustVerified, "desk-2"},
		{"desk-2", identity.TrustPinned, "desk-2~5c65a037"},
		{"boss-pc", identity.TrustNew, "boss-pc~5c65a037"},
		{"", identity.TrustPinned, ""},
	} {
		if got := displayedPeer(tt.name, transport.PeerInfo{ID: id, Trust: tt.trust}); got != tt.want {
			t.Errorf("displayedPeer(%q, %s) = %q, want %q", tt.name, tt.trust, got, tt.want)
		}
	}
}

// FuzzPrintAnswers: whatever a printer's peer answers, what passes the
// checks has known states, bounded lists and bounded, valid text.
func FuzzPrintAnswers(f *testing.F) {
	f.Add([]byte(`[{"name":"office","state":"idle","message":"","formats":["application/pdf"]}]`))
	f.Add([]byte(`{"job_id":3,"state":"completed","message":"done","done":true}`))
	f.Add([]byte(`[{"name":"../x","state":"on fire"}]`))
	f.Add([]byte(`{"job_id":-1,"state":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var list []RemotePrinter
		if json.Unmarshal(body, &list) == nil && validatePrinters(list) == nil {
			for _, p := range list {
				if !slices.Contains(printerStates, p.State) || len(p.Message) > maxAnswerText || !utf8.ValidString(p.Message) || len(p.Formats) > maxAnswerFormats {
					t.Fatalf("printer %+v passed", p)
				}
			}
		}
		var j RemoteJob
		if json.Unmarshal(body, &j) == nil && j.validate(OpPrintJob) == nil {
			if j.JobID <= 0 || !slices.Contains(jobStates, j.State) || len(j.Message) > maxAnswerText {
				t.Fatalf("job %+v passed", j)
			}
		}
	})
}
