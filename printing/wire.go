package printing

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// Ops of printer sharing (JSON bodies; "auth" is access.Credentials):
//
//	printers.list {auth}                                    → [{"name","state","message","formats"}]
//	print.submit  {auth,printer,name,size,format,copies}    → {} (ready), then the document as a body of size bytes, → {job}
//	print.job     {auth,printer,job_id,known,wait_ms}       → {job}
//	print.cancel  {auth,printer,job_id}                     → {job}
//
// print.submit may also carry page_ranges ("1-3,5"), media, sides and
// color_mode, checked against the queue's capabilities (printers.list
// "caps") before a byte of the document travels. print.cancel cancels a
// job the same peer and account submitted; anybody else's job is "not
// found", as for print.job.
//
// {job} is {"job_id","state","message","done"}. print.submit refuses (before
// a byte of the document travels) a printer the credentials may not print
// on, a queue that rejects jobs and a format the queue does not take.
// print.job answers once the job's state differs from known, or after
// wait_ms (at most MaxJobWait), whichever comes first: a long poll, so a
// follower hears of a change at once without holding a stream open for a
// job that may wait on a paused queue for hours.
const (
	OpPrintersList = "printers.list"
	OpPrintSubmit  = "print.submit"
	OpPrintJob     = "print.job"
	OpPrintCancel  = "print.cancel"
)

// Limits of printer sharing.
const (
	// MaxDocumentBytes caps one remote print document (512 MiB).
	MaxDocumentBytes = 512 << 20
	// MaxJobWait caps how long print.job holds its answer.
	MaxJobWait = 20_000 // milliseconds
	// maxDocName caps the document name that goes into the job name.
	maxDocName = 200
)

// Remote job states, as the sending peer sees them.
const (
	StatePending    = "pending"
	StateHeld       = "held"
	StatePaused     = "paused"
	StateProcessing = "processing"
	StateCompleted  = "completed"
	StateFailed     = "failed"
	StateCanceled   = "canceled"
)

// Remote printer states, as printers.list tells them: the queue's own state
// (idle, processing), "paused" for a stopped queue (it keeps jobs),
// "rejecting" for one that refuses new jobs, "unavailable" when the owning
// peer's spooler or the queue itself is missing.
const (
	PrinterIdle        = "idle"
	PrinterProcessing  = "processing"
	PrinterPaused      = "paused"
	PrinterRejecting   = "rejecting"
	PrinterUnavailable = "unavailable"
)

// RemotePrinter is one printer share as printers.list tells it.
type RemotePrinter struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Message string   `json:"message"`
	Formats []string `json:"formats"`
	// Password is true when the printer needs its resource password.
	Password bool `json:"password,omitempty"`
	// Caps is what the printer can do besides; nil from peers before
	// printer capabilities were shared.
	Caps *Capabilities `json:"caps,omitempty"`
}

// RemoteJob is a remote print job's state.
type RemoteJob struct {
	JobID   int    `json:"job_id"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	// Done is true once the job is over (completed, failed, canceled).
	Done bool `json:"done"`
}

// Bounds on what a printer's peer answers: its words reach the user.
const (
	maxAnswerPrinters = 256
	maxAnswerFormats  = 32
	maxAnswerText     = 1024
)

var (
	printerStates = []string{PrinterIdle, PrinterProcessing, PrinterPaused, PrinterRejecting, PrinterUnavailable}
	jobStates     = []string{StatePending, StateHeld, StatePaused, StateProcessing, StateCompleted, StateFailed, StateCanceled}
)

// answerText checks a message or format of an answer.
func answerText(op, what, s string) error {
	if len(s) > maxAnswerText || !utf8.ValidString(s) {
		return protocolErr(op, "%s of %d bytes, or not UTF-8", what, len(s))
	}
	return nil
}

// validatePrinters checks a printers.list answer.
func validatePrinters(list []RemotePrinter) error {
	if len(list) > maxAnswerPrinters {
		return protocolErr(OpPrintersList, "%d printers", len(list))
	}
	for _, p := range list {
		if err := access.ValidShareName(p.Name); err != nil {
			return protocolErr(OpPrintersList, "printer name: %v", err)
		}
		if !slices.Contains(printerStates, p.State) {
			return protocolErr(OpPrintersList, "printer %s: state %q", p.Name, truncate(p.State, 32))
		}
		if err := answerText(OpPrintersList, "message", p.Message); err != nil {
			return err
		}
		if len(p.Formats) > maxAnswerFormats {
			return protocolErr(OpPrintersList, "printer %s: %d formats", p.Name, len(p.Formats))
		}
		for _, f := range p.Formats {
			if err := answerText(OpPrintersList, "format", f); err != nil {
				return err
			}
		}
		if p.Caps != nil {
			if err := p.Caps.check(); err != nil {
				return protocolErr(OpPrintersList, "printer %s: caps: %v", p.Name, err)
			}
		}
	}
	return nil
}

// validate checks a job answer.
func (j RemoteJob) validate(op string) error {
	if j.JobID <= 0 || !slices.Contains(jobStates, j.State) {
		return protocolErr(op, "job %d in state %q", j.JobID, truncate(j.State, 32))
	}
	return answerText(op, "message", j.Message)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

func (j RemoteJob) sameAs(o RemoteJob) bool {
	return j.State == o.State && j.Message == o.Message && j.Done == o.Done
}

// authRequest is the body of printers.list.
type authRequest struct {
	Auth access.Credentials `json:"auth"`
}

// submitRequest is the body of print.submit.
type submitRequest struct {
	Auth    access.Credentials `json:"auth"`
	Printer string             `json:"printer"`
	// Name is the document's file name (base name), for the job name.
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Format is the MIME type the sender detected; the owner checks it
	// against the queue before the body travels, and detects the format
	// of what arrives again before it reaches the spooler.
	Format string `json:"format"`
	Copies int    `json:"copies,omitempty"`
	// PageRanges ("1-3,5"), Media, Sides and ColorMode are JobOptions.
	PageRanges string `json:"page_ranges,omitempty"`
	Media      string `json:"media,omitempty"`
	Sides      string `json:"sides,omitempty"`
	ColorMode  string `json:"color_mode,omitempty"`
}

// options reads the job options of a checked request.
func (r *submitRequest) options() JobOptions {
	rs, _ := ParsePageRanges(r.PageRanges)
	return JobOptions{PageRanges: rs, Media: r.Media, Sides: r.Sides, ColorMode: r.ColorMode}
}

// jobRequest is the body of print.job.
type jobRequest struct {
	Auth    access.Credentials `json:"auth"`
	Printer string             `json:"printer"`
	JobID   int                `json:"job_id"`
	// Known is the state the follower has; the answer waits for another.
	Known  RemoteJob `json:"known"`
	WaitMS int       `json:"wait_ms,omitempty"`
}

func protocolErr(op, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", transport.ErrProtocol, op, fmt.Sprintf(format, a...))
}

func (r *submitRequest) validate() error {
	if r.Printer == "" || len(r.Printer) > 64 {
		return protocolErr(OpPrintSubmit, "printer name must have 1 to 64 bytes")
	}
	if r.Size <= 0 || r.Size > MaxDocumentBytes {
		return protocolErr(OpPrintSubmit, "document size %d (1 to %d bytes)", r.Size, MaxDocumentBytes)
	}
	if r.Copies < 0 || r.Copies > MaxCopies {
		return protocolErr(OpPrintSubmit, "copies %d (1 to %d)", r.Copies, MaxCopies)
	}
	if len(r.Format) > 128 {
		return protocolErr(OpPrintSubmit, "format too long")
	}
	if len(r.PageRanges) > 1024 {
		return protocolErr(OpPrintSubmit, "page_ranges too long")
	}
	if _, err := ParsePageRanges(r.PageRanges); err != nil {
		return protocolErr(OpPrintSubmit, "page_ranges: %v", err)
	}
	for _, k := range []string{r.Media, r.Sides, r.ColorMode} {
		if k != "" && !validKeyword(k) {
			return protocolErr(OpPrintSubmit, "option %q is not a keyword", truncate(k, 40))
		}
	}
	r.Name = DocumentName(r.Name)
	return nil
}

func (r *jobRequest) validateAs(op string) error {
	if r.Printer == "" || len(r.Printer) > 64 {
		return protocolErr(op, "printer name must have 1 to 64 bytes")
	}
	if r.JobID <= 0 {
		return protocolErr(op, "job id %d", r.JobID)
	}
	if r.WaitMS < 0 || r.WaitMS > MaxJobWait {
		return protocolErr(op, "wait_ms %d (0 to %d)", r.WaitMS, MaxJobWait)
	}
	return nil
}

// DocumentName reduces a file name sent by a peer to something fit for a
// job name: its base name, control characters replaced, at most 200 bytes
// of valid UTF-8. Empty: "document".
func DocumentName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "?")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if len(name) > maxDocName {
		cut := maxDocName
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	if name == "" || name == "." || name == ".." {
		return "document"
	}
	return name
}
