//go:build windows

package printing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/windows"
)

// WinspoolConfig configures the Windows backend. The zero value is safe: no
// extra raw formats, default timeouts.
type WinspoolConfig struct {
	// RawFormats lists, per queue name, document formats the printer itself
	// understands and can be sent unchanged, such as "application/pdf" for a
	// printer with PDF direct print. The key "*" applies to every queue.
	// peerdesk cannot learn this from Windows (see Winspool).
	RawFormats map[string][]string
	// CallTimeout bounds each spooler call but the one writing the document.
	// Zero: 10 s.
	CallTimeout time.Duration
	// SubmitTimeout bounds writing a document into the spooler. Zero: 5 min.
	SubmitTimeout time.Duration
	// Logger receives job events. Zero: slog.Default().
	Logger *slog.Logger
}

// Winspool is the Backend for the Windows print spooler (winspool.drv).
//
// Windows printer drivers render from GDI or XPS, not from document files,
// and peerdesk does not render documents. So Winspool sends the document
// unchanged and only where the printer path can take it:
//
//   - XPS and OpenXPS, with datatype XPS_PASS, to printers with a version 4
//     (XPS-based) driver, such as "Microsoft Print to PDF" and the IPP class
//     driver; the driver converts XPS to what the printer speaks.
//   - PostScript, with datatype RAW, to printers with a PostScript driver
//     (one whose data file is a PPD): the printer must interpret PostScript.
//   - Whatever WinspoolConfig.RawFormats lists for the queue, with datatype
//     RAW: the printer's firmware must understand that format itself (PDF
//     direct print, for instance). Windows cannot tell peerdesk whether it
//     does, so this is the administrator's statement.
//
// Anything else is refused with ErrUnsupportedFormat before any byte reaches
// the spooler; in particular PDF is only sent to printers listed in
// RawFormats. Copies above one are refused: a raw job is printed as sent, and
// the copy count lives inside the document.
//
// The requesting user cannot be set on a Windows job (the job belongs to the
// account peerdesk runs as); it is added to the document name instead.
//
// Windows drops a job from the queue once it has printed (unless the printer
// keeps printed documents), so Wait treats a job that disappears after the
// spooler said it was printing or printed as completed, and any other
// disappearance as ErrJobVanished.
type Winspool struct {
	rawFormats    map[string][]string
	callTimeout   time.Duration
	submitTimeout time.Duration
	log           *slog.Logger
	poll          pollSchedule
	// calls tracks spooler calls still running after their caller gave up:
	// Win32 spooler calls cannot be interrupted, so they finish on their own
	// goroutine, and Close waits for them.
	calls sync.WaitGroup
}

var _ Backend = (*Winspool)(nil)

// Spooler datatypes.
const (
	datatypeRaw     = "RAW"
	datatypeXPSPass = "XPS_PASS"
)

// NewWinspool returns the Windows backend. It does not contact the spooler.
func NewWinspool(cfg WinspoolConfig) (*Winspool, error) {
	w := &Winspool{
		rawFormats:    cfg.RawFormats,
		callTimeout:   cmp.Or(cfg.CallTimeout, 10*time.Second),
		submitTimeout: cmp.Or(cfg.SubmitTimeout, 5*time.Minute),
		log:           cfg.Logger,
		poll:          defaultPoll,
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
}

// Close waits for spooler calls that outlived their callers' deadlines.
func (w *Winspool) Close() error {
	w.calls.Wait()
	return nil
}

// bounded runs fn, a sequence of blocking spooler calls, on its own
// goroutine and returns when fn does or when ctx, bounded by timeout, is
// done. fn gets the bounded context and must check it between calls.
func (w *Winspool) bounded(ctx context.Context, timeout time.Duration, fn func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	done := make(chan error, 1)
	w.calls.Add(1)
	go func() {
		defer w.calls.Done()
		defer cancel()
		done <- fn(callCtx)
	}()
	select {
	case err := <-done:
		return err
	case <-callCtx.Done():
		select {
		case err := <-done: // finished at the same moment
			return err
		default:
		}
		if ctx.Err() != nil {
			return fmt.Errorf("windows spooler: %w", ctx.Err())
		}
		return fmt.Errorf("windows spooler did not answer within %s: %w: %w", timeout, ErrUnavailable, callCtx.Err())
	}
}

// mapWinError maps a spooler error code to the package's sentinels; the
// windows.Errno stays in the chain for errors.As.
func mapWinError(err error, target opTarget) error {
	var errno windows.Errno
	if !errors.As(err, &errno) {
		return err
	}
	var sentinel error
	switch errno {
	case windows.ERROR_INVALID_PRINTER_NAME, windows.ERROR_PRINTER_NOT_FOUND, windows.ERROR_PRINTER_DELETED:
		sentinel = ErrQueueNotFound
		if target == targetJob {
			return fmt.Errorf("%w: %w: %w", ErrJobVanished, ErrQueueNotFound, err)
		}
	case windows.ERROR_INVALID_PARAMETER:
		if target != targetJob {
			return err
		}
		// GetJob's answer for a job id the queue no longer has.
		sentinel = ErrJobVanished
	case windows.ERROR_INVALID_DATATYPE:
		sentinel = ErrUnsupportedFormat
	case windows.ERROR_ACCESS_DENIED:
		sentinel = ErrNotAuthorized
	case windows.ERROR_PRINT_CANCELLED:
		sentinel = ErrJobCanceled
	case windows.RPC_S_SERVER_UNAVAILABLE, windows.RPC_S_CALL_FAILED:
		sentinel = ErrUnavailable
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// Queues lists local printers and printer connections (EnumPrintersW).
func (w *Winspool) Queues(ctx context.Context) ([]Queue, error) {
	var queues []Queue
	err := w.bounded(ctx, w.callTimeout, func(ctx context.Context) error {
		infos, err := enumPrinters()
		if err != nil {
			return mapWinError(err, targetServer)
		}
		for i := range infos {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			q := queueFromInfo(&infos[i])
			q.Formats = w.formats(q.Name)
			queues = append(queues, q)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list print queues: %w", err)
	}
	slices.SortFunc(queues, func(a, b Queue) int { return strings.Compare(a.Name, b.Name) })
	return queues, nil
}

func queueFromInfo(info *printerInfo2) Queue {
	q := Queue{
		Name:      windows.UTF16PtrToString(info.PrinterName),
		State:     QueueIdle,
		Accepting: info.Status&printerStatusPendingDeletion == 0,
		Message:   describePrinterStatus(info.Status, info.Attributes),
	}
	switch {
	case info.Status&(printerStatusPaused|printerStatusError|printerStatusOffline|printerStatusNotAvailable|
		printerStatusPaperJam|printerStatusPaperOut|printerStatusNoToner|printerStatusDoorOpen|
		printerStatusUserIntervention) != 0 || info.Attributes&printerAttributeWorkOffline != 0:
		q.State = QueueStopped
	case info.Status&(printerStatusPrinting|printerStatusProcessing|printerStatusBusy|printerStatusIOActive) != 0 || info.Jobs > 0:
		q.State = QueueProcessing
	}
	return q
}

var printerStatusText = []struct {
	bit  uint32
	text string
}{
	{printerStatusPaused, "paused"},
	{printerStatusError, "error"},
	{printerStatusPendingDeletion, "being deleted"},
	{printerStatusPaperJam, "paper jam"},
	{printerStatusPaperOut, "out of paper"},
	{printerStatusManualFeed, "waiting for manual feed"},
	{printerStatusPaperProblem, "paper problem"},
	{printerStatusOffline, "offline"},
	{printerStatusOutputBinFull, "output bin full"},
	{printerStatusNotAvailable, "not available"},
	{printerStatusWaiting, "waiting"},
	{printerStatusInitializing, "initializing"},
	{printerStatusWarmingUp, "warming up"},
	{printerStatusTonerLow, "toner low"},
	{printerStatusNoToner, "out of toner"},
	{printerStatusPagePunt, "page too complex"},
	{printerStatusUserIntervention, "needs attention"},
	{printerStatusOutOfMemory, "out of memory"},
	{printerStatusDoorOpen, "door open"},
	{printerStatusServerUnknown, "server unknown"},
	{printerStatusPowerSave, "power save"},
}

func describePrinterStatus(status, attributes uint32) string {
	var parts []string
	for _, s := range printerStatusText {
		if status&s.bit != 0 {
			parts = append(parts, s.text)
		}
	}
	if attributes&printerAttributeWorkOffline != 0 {
		parts = append(parts, "set to use the printer offline")
	}
	return strings.Join(parts, ", ")
}

// formats is what the queue takes, as Winspool's doc comment explains.
// Queues whose driver cannot be read still get their RawFormats.
func (w *Winspool) formats(queue string) []string {
	var out []string
	if h, err := openPrinter(queue); err == nil {
		version, dataFile, err := h.driver()
		_ = h.close()
		if err == nil {
			if version >= 4 {
				out = append(out, FormatXPS, FormatOXPS)
			}
			if strings.EqualFold(filepath.Ext(dataFile), ".ppd") {
				out = append(out, FormatPostScript)
			}
		}
	}
	out = append(out, w.rawFormats[queue]...)
	out = append(out, w.rawFormats["*"]...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Submit sends the document unchanged into a new job on the queue; see
// Winspool for which formats go where.
func (w *Winspool) Submit(ctx context.Context, req SubmitRequest) (int, error) {
	if err := req.validate(); err != nil {
		return 0, err
	}
	if o := req.Options; len(o.PageRanges) > 0 || o.Media != "" || (o.Sides != "" && o.Sides != "one-sided") || o.ColorMode == "color" {
		// The raw document goes to the driver as sent: page ranges,
		// media and sides would have to be set in it.
		return 0, fmt.Errorf("submit to %q: page ranges, media and two-sided printing are not applied to a raw Windows print job: %w", req.Queue, ErrUnsupportedOption)
	}
	if req.Copies > 1 {
		return 0, fmt.Errorf("submit to %q: %d copies: Windows prints a raw document as sent, so copies must be set in the document", req.Queue, req.Copies)
	}
	var id uint32
	var written int64
	err := w.bounded(ctx, w.submitTimeout, func(ctx context.Context) error {
		h, err := openPrinter(req.Queue)
		if err != nil {
			return fmt.Errorf("print queue %q: %w", req.Queue, mapWinError(err, targetQueue))
		}
		defer h.close()
		info, err := h.info()
		if err != nil {
			return fmt.Errorf("print queue %q: %w", req.Queue, mapWinError(err, targetQueue))
		}
		if q := queueFromInfo(info); !q.Accepting {
			return fmt.Errorf("print queue %q: %w%s", req.Queue, ErrQueueRejecting, parenthesized(q.Message))
		}
		format, doc, _, err := documentFormat(&req, w.formats(req.Queue))
		if err != nil {
			return err
		}
		datatype := datatypeRaw
		if format == FormatXPS || format == FormatOXPS {
			datatype = datatypeXPSPass
		}
		name := cmp.Or(req.JobName, "peerdesk job")
		if !strings.Contains(name, req.User) {
			name += " (" + req.User + ")"
		}
		id, err = h.startDoc(name, datatype)
		if err != nil {
			return fmt.Errorf("start job on %q: %w", req.Queue, mapWinError(err, targetQueue))
		}
		written, err = writeJob(ctx, h, doc, datatype == datatypeRaw)
		if err != nil {
			// Delete the half-written job rather than print part of it.
			_ = h.abort()
			return fmt.Errorf("write job %d on %q: %w", id, req.Queue, mapWinError(err, targetQueue))
		}
		if err := h.endDoc(); err != nil {
			return fmt.Errorf("finish job %d on %q: %w", id, req.Queue, mapWinError(err, targetQueue))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	w.log.Info("print job submitted", "queue", req.Queue, "job", id, "user", req.User, "bytes", written)
	return int(id), nil
}

// writeJob copies the document into the open job, checking ctx between
// chunks. RAW jobs are framed in one page, as the spooler expects.
func writeJob(ctx context.Context, h printerHandle, doc io.Reader, page bool) (int64, error) {
	if page {
		if err := h.startPage(); err != nil {
			return 0, err
		}
	}
	var n int64
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := doc.Read(buf)
		if k > 0 {
			if err := h.write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("read document: %w", rerr)
		}
	}
	if page {
		if err := h.endPage(); err != nil {
			return n, err
		}
	}
	// The last chance to give up: after EndDocPrinter the job prints.
	return n, ctx.Err()
}

// Job reports a job's state (GetJobW).
func (w *Winspool) Job(ctx context.Context, queue string, id int) (JobStatus, error) {
	if id <= 0 {
		return JobStatus{}, fmt.Errorf("job %d on %s: not a job id: %w", id, queue, ErrJobVanished)
	}
	var st JobStatus
	err := w.bounded(ctx, w.callTimeout, func(ctx context.Context) error {
		h, err := openPrinter(queue)
		if err != nil {
			return mapWinError(err, targetJob)
		}
		defer h.close()
		job, err := h.job(uint32(id))
		if err != nil {
			return mapWinError(err, targetJob)
		}
		st = jobStatusFrom(queue, id, job)
		if !st.State.Done() {
			if info, err := h.info(); err == nil {
				if info.Status&printerStatusPaused != 0 {
					st.Paused = true
					st.Message = "queue " + queue + " is paused"
				}
				if pm := describePrinterStatus(info.Status&^printerStatusPaused, info.Attributes); pm != "" {
					st.Message = strings.TrimPrefix(st.Message+"; "+pm, "; ")
				}
			}
		}
		return nil
	})
	if err != nil {
		return JobStatus{}, fmt.Errorf("job %d on %s: %w", id, queue, err)
	}
	return st, nil
}

// Cancel cancels a job (SetJobW, JOB_CONTROL_DELETE); see Backend.Cancel.
func (w *Winspool) Cancel(ctx context.Context, queue string, id int) error {
	if id <= 0 {
		return fmt.Errorf("cancel job %d on %s: not a job id: %w", id, queue, ErrJobVanished)
	}
	err := w.bounded(ctx, w.callTimeout, func(ctx context.Context) error {
		h, err := openPrinter(queue)
		if err != nil {
			return mapWinError(err, targetJob)
		}
		defer h.close()
		return mapWinError(h.deleteJob(uint32(id)), targetJob)
	})
	if err != nil {
		return fmt.Errorf("cancel job %d on %s: %w", id, queue, err)
	}
	w.log.Info("print job canceled", "queue", queue, "job", id)
	return nil
}

var jobStatusText = []struct {
	bit  uint32
	text string
}{
	{jobStatusPaused, "paused"},
	{jobStatusError, "error"},
	{jobStatusDeleting, "deleting"},
	{jobStatusSpooling, "spooling"},
	{jobStatusPrinting, "printing"},
	{jobStatusOffline, "printer offline"},
	{jobStatusPaperOut, "out of paper"},
	{jobStatusPrinted, "printed"},
	{jobStatusDeleted, "deleted"},
	{jobStatusBlockedDevQ, "blocked by the driver"},
	{jobStatusUserIntervention, "printer needs attention"},
	{jobStatusRestart, "restarting"},
	{jobStatusComplete, "sent to the printer"},
}

func jobStatusFrom(queue string, id int, job *jobInfo1) JobStatus {
	st := JobStatus{ID: id, Queue: queue, User: windows.UTF16PtrToString(job.UserName)}
	s := job.Status
	for _, t := range jobStatusText {
		if s&t.bit != 0 {
			st.Reasons = append(st.Reasons, t.text)
		}
	}
	switch {
	case s&(jobStatusPrinted|jobStatusComplete) != 0:
		st.State = JobCompleted
	case s&(jobStatusDeleted|jobStatusDeleting) != 0:
		st.State = JobCanceled
	case s&(jobStatusError|jobStatusOffline|jobStatusPaperOut|jobStatusBlockedDevQ|jobStatusUserIntervention) != 0:
		st.State = JobStopped
	case s&jobStatusPaused != 0:
		st.State = JobHeld
	case s&(jobStatusPrinting|jobStatusSpooling|jobStatusRestart) != 0:
		st.State = JobProcessing
	default:
		st.State = JobPending
	}
	st.Message = windows.UTF16PtrToString(job.StatusText)
	if st.Message == "" && st.State != JobCompleted {
		st.Message = strings.Join(st.Reasons, ", ")
	}
	return st
}

// Wait follows the job; see Backend.Wait and Winspool for what a job that
// leaves the queue means here.
func (w *Winspool) Wait(ctx context.Context, queue string, id int, onChange func(JobStatus)) (JobStatus, error) {
	st, err := followJob(ctx, queue, id, w.poll, func(ctx context.Context) (JobStatus, error) {
		return w.Job(ctx, queue, id)
	}, onChange, func(last JobStatus, seen bool, err error) (JobStatus, error) {
		printing := seen && (last.State == JobCompleted || slices.Contains(last.Reasons, "printing") || slices.Contains(last.Reasons, "printed"))
		if printing && !errors.Is(err, ErrQueueNotFound) {
			// Printed and dropped from the queue, as Windows does.
			last.State, last.Message = JobCompleted, ""
			return last, nil
		}
		st := JobStatus{ID: id, Queue: queue, State: JobAborted,
			Message: "the job left the queue before the spooler reported it printing (deleted, or the queue was removed)"}
		return st, fmt.Errorf("job %d on %s: %w: %w", id, queue, ErrJobFailed, err)
	})
	switch {
	case err == nil:
		w.log.Info("print job completed", "queue", queue, "job", id)
	case errors.Is(err, ErrJobFailed), errors.Is(err, ErrJobCanceled):
		w.log.Warn("print job did not print", "queue", queue, "job", id, "err", err)
	}
	return st, err
}
