// Package printing owns the local print queues a peer can share: listing them
// with their state and the document formats they take, submitting a document
// on behalf of a (remote) account, and following the job until it completed,
// failed or was canceled.
//
// The spooler is reached through a Backend: CUPS over IPP on Linux, macOS and
// the other Unixes (cups.go), winspool on Windows (winspool_windows.go).
// Default picks the one for the running OS; tests use the real spooler.
//
// On top of it: the printer-share service that answers other peers
// (service.go, behind the access checks of package access) and its Client
// (client.go); the print options a job may carry (options.go); and the
// operating system queues that print on another peer's printer through a
// local IPP endpoint (osqueue*.go, package ippserve).
package printing

import (
	"context"
	"errors"
	"fmt"
	"github.com/peerdesk/peerdesk/transport"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors callers branch on with errors.Is (exit codes, messages to
// the sending peer). Backend errors wrap one of them plus the spooler's own
// error, so errors.As still reaches an ipp.IPPError or a windows.Errno.
var (
	// ErrQueueNotFound: no queue of that name on this machine.
	ErrQueueNotFound = errors.New("print queue not found")
	// ErrQueueRejecting: the queue exists but refuses new jobs (cupsreject,
	// a printer being deleted).
	ErrQueueRejecting = errors.New("print queue is not accepting jobs")
	// ErrUnsupportedFormat: the document is not in a format this printer
	// takes. Returned before any byte is sent to the spooler.
	ErrUnsupportedFormat = errors.New("document format not supported by the printer")
	// ErrJobVanished: the spooler no longer knows the job (the queue was
	// deleted and its jobs purged). Always reported as a failure, never as
	// success. Errors carrying it also carry ErrJobFailed.
	ErrJobVanished = errors.New("print job vanished from the spooler")
	// ErrJobFailed: the job ended without being printed (aborted, vanished).
	ErrJobFailed = errors.New("print job failed")
	// ErrJobCanceled: someone canceled the job.
	ErrJobCanceled = errors.New("print job canceled")
	// ErrUnsupportedOption: the job asks for something the printer does
	// not offer (media, two-sided, color, page ranges on Windows).
	ErrUnsupportedOption = errors.New("print option not supported by the printer")
	// ErrUnavailable: the spooler (cupsd, the Windows spooler service) does
	// not answer.
	ErrUnavailable = errors.New("print spooler unavailable")
	// ErrNotAuthorized: the spooler refused the operation for this user.
	ErrNotAuthorized = errors.New("print spooler refused the user")
	// ErrRefused: the spooler answered with an error no other sentinel
	// covers (a bad request, an operation not possible, an internal error).
	// The error is a *SpoolerError carrying the spooler's own message.
	ErrRefused = errors.New("print spooler refused the request")
)

// SpoolerError is an answer of the spooler that refused a call: its status
// in words and its own message for people. errors.Is finds Sentinel,
// errors.As finds the spooler library's error (an ipp.IPPError,
// ipp.HTTPError or windows.Errno) in Err.
type SpoolerError struct {
	// Sentinel is the package's class of the refusal: ErrRefused when no
	// more specific one (ErrQueueNotFound, ErrUnavailable, ...) fits.
	Sentinel error
	// Status is the status in words: "bad request", "not possible".
	Status string
	// Message is what the spooler said, as it said it (CUPS localizes it
	// to the request's natural language). May be empty.
	Message string
	// Err is the spooler library's error.
	Err error
}

// Said is the spooler's answer for people: "bad request: Bad value".
func (e *SpoolerError) Said() string {
	if e.Message == "" {
		return e.Status
	}
	return e.Status + ": " + strings.TrimSpace(e.Message)
}

func (e *SpoolerError) Error() string {
	return e.Sentinel.Error() + ": the spooler answered " + e.Said()
}

func (e *SpoolerError) Unwrap() []error { return []error{e.Sentinel, e.Err} }

// spoolerSaid is what the spooler answered in err, if it answered at all.
func spoolerSaid(err error) (string, bool) {
	var se *SpoolerError
	if errors.As(err, &se) {
		return se.Said(), true
	}
	return "", false
}

// Backend is a machine's print spooler as peerdesk uses it. Every method takes
// a context; every call into the spooler is additionally bounded by the
// backend's own per-call timeout, so a hung spooler cannot hang a caller that
// passed a context without deadline.
type Backend interface {
	// Queues lists the local print queues.
	Queues(ctx context.Context) ([]Queue, error)
	// Submit checks the document's format against the queue and submits it.
	// It returns the spooler's job id. Errors: ErrQueueNotFound,
	// ErrQueueRejecting, ErrUnsupportedFormat, ErrUnavailable.
	Submit(ctx context.Context, req SubmitRequest) (int, error)
	// Job reports a job's current state. A job the spooler no longer knows
	// gives ErrJobVanished.
	Job(ctx context.Context, queue string, id int) (JobStatus, error)
	// Wait follows a job until it is completed (nil error), aborted or
	// vanished (ErrJobFailed, plus ErrJobVanished), canceled
	// (ErrJobCanceled), or ctx is done (ctx.Err(), with the last status
	// seen, whose Message says what the printer is waiting for). onChange,
	// if not nil, is called with the first status and with every change.
	// A job on a paused queue waits for as long as ctx allows.
	Wait(ctx context.Context, queue string, id int, onChange func(JobStatus)) (JobStatus, error)
	// Cancel cancels a job that is not over yet. A job the spooler no
	// longer knows gives ErrJobVanished; one that is already over is left
	// as it is (the spooler's refusal, ErrRefused).
	Cancel(ctx context.Context, queue string, id int) error
}

// QueueState is a queue's printer state.
type QueueState string

// Queue states, after IPP's printer-state.
const (
	QueueIdle       QueueState = "idle"
	QueueProcessing QueueState = "processing"
	QueueStopped    QueueState = "stopped"
)

// Queue is a local print queue.
type Queue struct {
	Name  string     `json:"name"`
	State QueueState `json:"state"`
	// Message is the printer's state message and its state reasons, for
	// people ("Paused", "The printer may not exist or is unavailable at this
	// time."). Empty when there is nothing to say.
	Message string `json:"message"`
	// Accepting is false when the queue refuses new jobs.
	Accepting bool `json:"accepting"`
	// Formats are the MIME types the queue takes (IPP
	// document-format-supported, or what the Windows driver accepts raw).
	Formats []string `json:"formats"`
	// Caps is what it can do besides (media, color, two-sided, copies).
	Caps Capabilities `json:"caps"`
}

// SubmitRequest is a document to print. The zero values of the optional
// fields are safe.
type SubmitRequest struct {
	// Queue is the local queue name.
	Queue string
	// JobName is the job's title as the spooler shows it; printer shares
	// name the file and the sending peer. Empty: "peerdesk job".
	JobName string
	// User is the requesting user recorded on the job, e.g.
	// "alice@desk-2" for account alice on peer desk-2. Required.
	User string
	// Copies to print; 0 means 1. At most MaxCopies.
	Copies int
	// Format is a MIME type. Empty (what printer shares should send): taken
	// from the content with DetectFormat. A caller that sets it vouches for
	// the content; it is still checked against the queue's formats.
	Format string
	// FileName is the document's file name, if known. It only helps
	// DetectFormat tell ZIP-based formats (XPS) apart.
	FileName string
	// Document is read once, to its end.
	Document io.Reader
	// Options are the job's page ranges, media, sides and color mode,
	// checked against the queue's capabilities.
	Options JobOptions
	// Size is the number of bytes Document yields, if known; 0 means unknown
	// (the backend then spools the document to a temporary file first,
	// unless Document is an io.Seeker).
	Size int64
}

// MaxCopies bounds SubmitRequest.Copies.
const MaxCopies = 999

// validate checks the parts of a request every backend needs.
func (r *SubmitRequest) validate() error {
	switch {
	case r.Queue == "":
		return fmt.Errorf("submit: no queue named: %w", ErrQueueNotFound)
	case r.User == "":
		return errors.New("submit: no requesting user")
	case len(r.User) > 255 || !utf8.ValidString(r.User) || strings.ContainsFunc(r.User, unicode.IsControl):
		return fmt.Errorf("submit: requesting user %q is not a valid name", r.User)
	case r.Document == nil:
		return errors.New("submit: no document")
	case r.Copies < 0 || r.Copies > MaxCopies:
		return fmt.Errorf("submit: copies must be between 1 and %d, not %d", MaxCopies, r.Copies)
	case r.Size < 0:
		return fmt.Errorf("submit: negative document size %d", r.Size)
	}
	return nil
}

// opTarget says what a spooler call was about, which decides what "not
// found" means: a missing queue, or a job that vanished.
type opTarget int

const (
	targetServer opTarget = iota
	targetQueue
	targetJob
)

// JobState is a job's state, after IPP's job-state.
type JobState string

// Job states. Pending, held, processing and stopped jobs are still alive;
// canceled, aborted and completed ones are over.
const (
	JobPending    JobState = "pending"
	JobHeld       JobState = "held"
	JobProcessing JobState = "processing"
	JobStopped    JobState = "stopped"
	JobCanceled   JobState = "canceled"
	JobAborted    JobState = "aborted"
	JobCompleted  JobState = "completed"
)

// Done reports whether the job is over.
func (s JobState) Done() bool {
	return s == JobCanceled || s == JobAborted || s == JobCompleted
}

// JobStatus is a job's state as the spooler reports it.
type JobStatus struct {
	ID    int      `json:"id"`
	Queue string   `json:"queue"`
	State JobState `json:"state"`
	// Paused is true while the job waits on a stopped queue (cupsdisable,
	// a paused Windows printer): the job is kept and prints once someone
	// resumes the queue.
	Paused bool `json:"paused"`
	// Message says, for people, why the job is where it is: the printer's
	// state message while it waits or prints, the failure reason once
	// aborted.
	Message string `json:"message"`
	// Reasons are the spooler's machine-readable reasons (IPP
	// job-state-reasons and printer-state-reasons), "none" left out.
	Reasons []string `json:"reasons,omitempty"`
	// User is the job's owner as the spooler recorded it. Empty when the
	// spooler keeps it private: cupsd tells only the owner, so the CUPS
	// backend knows it for the jobs it submitted itself.
	User string `json:"user,omitempty"`
}

// String gives the status for logs and CLI output, e.g.
// "job 12 on PDF: pending, paused (Paused)".
func (s JobStatus) String() string {
	out := fmt.Sprintf("job %d on %s: %s", s.ID, s.Queue, s.State)
	if s.Paused {
		out += ", paused"
	}
	if s.Message != "" {
		out += " (" + s.Message + ")"
	}
	return out
}

func (s JobStatus) sameAs(o JobStatus) bool {
	return s.State == o.State && s.Paused == o.Paused && s.Message == o.Message &&
		slices.Equal(s.Reasons, o.Reasons)
}

// pollSchedule is how often a waiter asks the spooler: every `first` during
// the `fast` period, where most jobs end (a one-page PDF on cups-pdf takes
// half a second to a second, and the target is submit→completed ≤ 2 s, so a coarse poll
// would show as latency), then backing off to `max` so a job waiting on a
// paused queue costs next to nothing.
type pollSchedule struct {
	first, fast, max time.Duration
}

var defaultPoll = pollSchedule{first: 50 * time.Millisecond, fast: 5 * time.Second, max: time.Second}

// followJob polls job until it is over or ctx is done; it implements
// Backend.Wait for every backend. vanished, if not nil, decides what a job
// the spooler no longer knows means, given the last status seen and the
// ErrJobVanished error (the Windows spooler forgets printed jobs, so there it
// may be a success); by default it is a failure.
func followJob(ctx context.Context, queue string, id int, poll pollSchedule,
	job func(context.Context) (JobStatus, error), onChange func(JobStatus),
	vanished func(last JobStatus, seen bool, err error) (JobStatus, error),
) (JobStatus, error) {
	var last JobStatus
	seen := false
	start := time.Now()
	delay := poll.first
	for {
		st, err := job(ctx)
		switch {
		case err == nil:
		case errors.Is(err, ErrJobVanished):
			if vanished != nil {
				st, err = vanished(last, seen, err)
			} else {
				st = JobStatus{ID: id, Queue: queue, State: JobAborted,
					Message: "the job vanished from the spooler (was the queue deleted?)"}
				err = fmt.Errorf("%w: %w", ErrJobFailed, err)
			}
			if onChange != nil && (!seen || !st.sameAs(last)) {
				onChange(st)
			}
			return st, err
		case ctx.Err() != nil:
			return last, waitExpired(last, seen, queue, id, ctx.Err())
		case errors.Is(err, ErrUnavailable):
			// The spooler may be restarting; keep asking until ctx says stop.
		default:
			return last, fmt.Errorf("follow job %d on %s: %w", id, queue, err)
		}
		if err == nil {
			if onChange != nil && (!seen || !st.sameAs(last)) {
				onChange(st)
			}
			last, seen = st, true
			switch st.State {
			case JobCompleted:
				return st, nil
			case JobCanceled:
				return st, fmt.Errorf("%s: %w", st, ErrJobCanceled)
			case JobAborted:
				return st, fmt.Errorf("%s: %w", st, ErrJobFailed)
			}
		}
		select {
		case <-ctx.Done():
			return last, waitExpired(last, seen, queue, id, ctx.Err())
		case <-time.After(delay):
		}
		if time.Since(start) >= poll.fast {
			delay = min(delay*3/2, poll.max)
		}
	}
}

// parenthesized gives " (s)" for messages, or nothing when s is empty.
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func waitExpired(last JobStatus, seen bool, queue string, id int, err error) error {
	if !seen {
		return fmt.Errorf("wait for job %d on %s: %w", id, queue, err)
	}
	return fmt.Errorf("wait for %s: %w", last, err)
}

// The failure classes of printer sharing on the wire.
func init() {
	transport.RegisterClass("queue_not_found", ErrQueueNotFound)
	transport.RegisterClass("queue_rejecting", ErrQueueRejecting)
	transport.RegisterClass("unsupported_format", ErrUnsupportedFormat)
	transport.RegisterClass("job_vanished", ErrJobVanished)
	transport.RegisterClass("job_failed", ErrJobFailed)
	transport.RegisterClass("job_canceled", ErrJobCanceled)
	transport.RegisterClass("spooler_unavailable", ErrUnavailable)
	transport.RegisterClass("spooler_not_authorized", ErrNotAuthorized)
	transport.RegisterClass("spooler_refused", ErrRefused)
}
