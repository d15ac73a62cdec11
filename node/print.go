package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// Sentinel errors of remote printing the CLI and GUI branch on (besides
// transport.ErrAccessDenied, transport.ErrNotFound and ErrPeerNotFound).
var (
	// ErrUnsupportedFormat: the printer does not take the document's
	// format; refused before any byte was printed.
	ErrUnsupportedFormat = printing.ErrUnsupportedFormat
	// ErrPrinterRejecting: the printer's queue refuses new jobs.
	ErrPrinterRejecting = printing.ErrQueueRejecting
	// ErrPrinterUnavailable: the owning peer's spooler does not answer.
	ErrPrinterUnavailable = printing.ErrUnavailable
	// ErrJobFailed: the job ended without being printed (aborted, or it
	// vanished because its queue was deleted).
	ErrJobFailed = printing.ErrJobFailed
	// ErrJobCanceled: someone canceled the job.
	ErrJobCanceled = printing.ErrJobCanceled
)

// PrinterInfo is a shared printer of another peer as `printers PEER`
// shows it. State: idle, processing, paused (the queue is stopped and
// holds jobs), rejecting, unavailable.
type PrinterInfo struct {
	Name    string   `json:"name"`
	State   string   `json:"state"`
	Message string   `json:"message"`
	Formats []string `json:"formats"`
}

// PrintOptions tune Print. The zero value prints one copy and returns once
// the job is queued.
type PrintOptions struct {
	// Copies: 0 means 1.
	Copies int `json:"copies,omitempty"`
	// Wait follows the job until it is completed, failed or canceled (or
	// ctx ends).
	Wait bool `json:"wait,omitempty"`
}

// PrintJob is a remote print job. State: pending, held, paused,
// processing, completed, failed, canceled.
type PrintJob struct {
	Peer    string `json:"peer"`
	Printer string `json:"printer"`
	JobID   int    `json:"job_id"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
}

// Done reports whether the job is over.
func (j PrintJob) Done() bool {
	return j.State == printing.StateCompleted || j.State == printing.StateFailed || j.State == printing.StateCanceled
}

// startPrinting sets up the printer-sharing service on this peer's
// spooler. A machine without one still answers: its printers are
// "unavailable".
func (n *Node) startPrinting() error {
	backend, err := printing.Default()
	if err != nil {
		n.log.Warn("no print spooler; shared printers will be unavailable", "err", err)
		backend = nil
	}
	// Documents arriving for the spooler wait in the home, 0700, not in
	// the machine's shared temp folder; what a crash left there is
	// dropped (the sender was told the job failed).
	spool := filepath.Join(n.Home, "spool")
	_ = os.RemoveAll(spool)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("print spool: %w", err)
	}
	svc, err := printing.NewService(printing.ServiceConfig{
		Backend: backend,
		Access:  n.files.Access(),
		Shares:  n.files.Shares(),
		Logger:  n.log,
		TempDir: spool,
	})
	if err != nil {
		return err
	}
	svc.Register(n.services)
	n.printSvc = svc
	n.printClient = printing.Client{Caller: n.endpoint}
	return nil
}

// Printers lists the printers of a peer that creds may print on, with
// their state.
func (n *Node) Printers(ctx context.Context, ref string, creds Creds) ([]PrinterInfo, error) {
	p, t, err := n.target(ref, creds)
	if err != nil {
		return nil, err
	}
	list, err := n.printClient.Printers(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("printers of %s: %w", p.Name, err)
	}
	// Accepted credentials are what held jobs of added printers wait
	// for (printqueues.go): listing the printers is signing in.
	n.creds.Remember(p.ID, creds)
	out := make([]PrinterInfo, 0, len(list))
	for _, r := range list {
		formats := r.Formats
		if formats == nil {
			formats = []string{}
		}
		out = append(out, PrinterInfo{Name: r.Name, State: r.State, Message: r.Message, Formats: formats})
	}
	return out, nil
}

// followWait is how long one print.job long poll may wait.
const followWait = 15 * time.Second

// Print sends a local file to a peer's shared printer (rp.Share names the
// printer) and returns the job. With opt.Wait it follows the job to its
// end: a failed job gives ErrJobFailed, a canceled one ErrJobCanceled.
// progress, if set, hears the job's first state and every change.
func (n *Node) Print(ctx context.Context, rp remote.Path, file string, creds Creds, opt PrintOptions, progress func(PrintJob)) (PrintJob, error) {
	if rp.Share == "" || rp.Path != "" {
		return PrintJob{}, fmt.Errorf("%w: print needs PEER:PRINTER", ErrUsage)
	}
	if opt.Copies < 0 || opt.Copies > printing.MaxCopies {
		return PrintJob{}, fmt.Errorf("%w: copies must be between 1 and %d", ErrUsage, printing.MaxCopies)
	}
	peer, t, err := n.target(rp.Peer, creds)
	if err != nil {
		return PrintJob{}, err
	}
	f, size, err := printing.OpenDocument(file)
	if err != nil {
		return PrintJob{}, fmt.Errorf("print %s: %w", file, err)
	}
	defer f.Close()
	where := peer.Name + ":" + rp.Share
	job := PrintJob{Peer: peer.Name, Printer: rp.Share}
	update := func(r printing.RemoteJob) {
		changed := r.State != job.State || r.Message != job.Message || r.JobID != job.JobID
		job.JobID, job.State, job.Message = r.JobID, r.State, r.Message
		if changed && progress != nil {
			progress(job)
		}
	}
	start := time.Now()
	r, err := n.printClient.Submit(ctx, t, rp.Share, f, size, printing.SubmitOptions{Name: filepath.Base(file), Copies: opt.Copies})
	if err != nil {
		return job, fmt.Errorf("print %s on %s: %w", filepath.Base(file), where, err)
	}
	update(r)
	n.log.Info("print job submitted", "peer", peer.ID, "printer", rp.Share, "job", r.JobID, "bytes", size, "took", time.Since(start))
	for opt.Wait && !r.Done {
		next, err := n.printClient.Job(ctx, t, rp.Share, r, followWait)
		if err != nil {
			if ctx.Err() != nil {
				msg := ""
				if job.Message != "" {
					msg = " (" + job.Message + ")"
				}
				return job, fmt.Errorf("print job %d on %s still %s%s: %w", job.JobID, where, job.State, msg, ctx.Err())
			}
			return job, fmt.Errorf("follow print job %d on %s: %w", job.JobID, where, err)
		}
		r = next
		update(r)
	}
	return job, jobErr(job, where)
}

// jobErr is the error of a finished job: nil unless it failed or was
// canceled.
func jobErr(j PrintJob, where string) error {
	var class error
	switch j.State {
	case printing.StateFailed:
		class = ErrJobFailed
	case printing.StateCanceled:
		class = ErrJobCanceled
	default:
		return nil
	}
	msg := ""
	if j.Message != "" {
		msg = ": " + j.Message
	}
	return fmt.Errorf("print job %d on %s %s%s: %w", j.JobID, where, j.State, msg, class)
}

// LocalPrinters lists this machine's print queues (what `share printer`
// can share).
func LocalPrinters(ctx context.Context) ([]printing.Queue, error) {
	b, err := printing.Default()
	if err != nil {
		return nil, err
	}
	qs, err := b.Queues(ctx)
	if err != nil {
		return nil, err
	}
	if qs == nil {
		qs = []printing.Queue{}
	}
	return qs, nil
}
