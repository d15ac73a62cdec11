package printing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// Client calls the printer-sharing ops of other peers. Errors keep the
// remote classes: errors.Is(err, transport.ErrAccessDenied /
// transport.ErrNotFound) as the transport maps them, plus
// ErrUnsupportedFormat, ErrQueueRejecting, ErrQueueNotFound, ErrUnavailable,
// ErrNotAuthorized, ErrRefused and access.ErrBusy recognised from the
// remote message, which carries the owner's spooler's own words.
type Client struct{ access.Caller }

func (c Client) open(ctx context.Context, t access.Target, op string, body any) (*transport.Stream, func(), error) {
	st, err := c.Caller.Open(ctx, t.ID, t.Addrs, op, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	stop := st.Watch(ctx)
	return st, func() { stop(); st.Close() }, nil
}

func (c Client) call(ctx context.Context, t access.Target, op string, in, out any) error {
	st, done, err := c.open(ctx, t, op, in)
	if err != nil {
		return err
	}
	defer done()
	if err := st.ReadResponse(op, out); err != nil {
		return clientErr(ctx, op, err)
	}
	return nil
}

// clientErr adds the context's end, if that is why the call failed; the
// remote error matches its classes itself (transport.RegisterClass).
func clientErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	return err
}

// Printers lists the printers of t its credentials may print on.
func (c Client) Printers(ctx context.Context, t access.Target) ([]RemotePrinter, error) {
	var out []RemotePrinter
	if err := c.call(ctx, t, OpPrintersList, authRequest{Auth: t.Auth}, &out); err != nil {
		return nil, err
	}
	if err := validatePrinters(out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []RemotePrinter{}
	}
	return out, nil
}

// SubmitOptions describe a document sent to a remote printer.
type SubmitOptions struct {
	// Name is the document's file name, shown in the job name.
	Name string
	// Copies: 0 means 1.
	Copies int
	// Options are the page ranges, media, sides and color mode.
	Options JobOptions
	// Progress, if set, hears how many bytes have been sent.
	Progress func(sent int64)
}

// Submit sends the document in f (size bytes, from its start) to printer
// on t and returns the job's first state. The document's format is
// detected here and checked by the owner against its queue before a byte
// of the document travels.
func (c Client) Submit(ctx context.Context, t access.Target, printer string, f io.ReaderAt, size int64, opt SubmitOptions) (RemoteJob, error) {
	if size <= 0 {
		return RemoteJob{}, fmt.Errorf("%s: the document is empty: %w", OpPrintSubmit, ErrUnsupportedFormat)
	}
	if size > MaxDocumentBytes {
		return RemoteJob{}, fmt.Errorf("%s: the document has %d bytes, more than the %d a remote print may have", OpPrintSubmit, size, MaxDocumentBytes)
	}
	head := make([]byte, min(size, DetectHeadSize))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return RemoteJob{}, fmt.Errorf("read document: %w", err)
	}
	req := submitRequest{Auth: t.Auth, Printer: printer, Name: DocumentName(opt.Name), Size: size,
		Format: DetectFormat(head, opt.Name), Copies: opt.Copies, PageRanges: FormatPageRanges(opt.Options.PageRanges),
		Media: opt.Options.Media, Sides: opt.Options.Sides, ColorMode: opt.Options.ColorMode}
	if err := req.validate(); err != nil {
		return RemoteJob{}, err
	}
	st, done, err := c.open(ctx, t, OpPrintSubmit, req)
	if err != nil {
		return RemoteJob{}, err
	}
	defer done()
	if err := st.ReadResponse(OpPrintSubmit, nil); err != nil {
		return RemoteJob{}, clientErr(ctx, OpPrintSubmit, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		r := io.Reader(io.NewSectionReader(f, 0, size))
		if opt.Progress != nil {
			r = &countingReader{r: r, fn: opt.Progress}
		}
		_, err := st.SendBody(sctx, r)
		if err != nil && sctx.Err() == nil {
			_ = st.Fail(fmt.Errorf("%w: the sender stopped sending the document", transport.ErrTruncated))
		}
		sent <- err
	}()
	var job RemoteJob
	rerr := st.ReadResponse(OpPrintSubmit, &job)
	if rerr != nil {
		cancel()
	}
	serr := <-sent
	if rerr != nil {
		if serr != nil && !errors.Is(serr, context.Canceled) && ctx.Err() == nil {
			return job, fmt.Errorf("%s: send document: %w", OpPrintSubmit, serr)
		}
		return job, clientErr(ctx, OpPrintSubmit, rerr)
	}
	if err := job.validate(OpPrintSubmit); err != nil {
		return RemoteJob{}, err
	}
	return job, nil
}

// Job asks for a job's state, waiting up to wait for it to differ from
// known.
func (c Client) Job(ctx context.Context, t access.Target, printer string, known RemoteJob, wait time.Duration) (RemoteJob, error) {
	ms := int(min(wait, MaxJobWait*time.Millisecond) / time.Millisecond)
	var job RemoteJob
	err := c.call(ctx, t, OpPrintJob, jobRequest{Auth: t.Auth, Printer: printer, JobID: known.JobID, Known: known, WaitMS: max(ms, 0)}, &job)
	if err != nil {
		return known, err
	}
	if job.JobID != known.JobID {
		return known, fmt.Errorf("%s: %w: answer about job %d, asked about %d", OpPrintJob, transport.ErrProtocol, job.JobID, known.JobID)
	}
	if err := job.validate(OpPrintJob); err != nil {
		return known, err
	}
	return job, nil
}

// Cancel cancels a job this peer submitted and returns its state after.
func (c Client) Cancel(ctx context.Context, t access.Target, printer string, id int) (RemoteJob, error) {
	var job RemoteJob
	if err := c.call(ctx, t, OpPrintCancel, jobRequest{Auth: t.Auth, Printer: printer, JobID: id}, &job); err != nil {
		return RemoteJob{JobID: id}, err
	}
	if job.JobID != id {
		return RemoteJob{JobID: id}, fmt.Errorf("%s: %w: answer about job %d, asked about %d", OpPrintCancel, transport.ErrProtocol, job.JobID, id)
	}
	if err := job.validate(OpPrintCancel); err != nil {
		return RemoteJob{JobID: id}, err
	}
	return job, nil
}

type countingReader struct {
	r    io.Reader
	n    int64
	fn   func(int64)
	last time.Time
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 && (err != nil || time.Since(c.last) > 200*time.Millisecond) {
		c.last = time.Now()
		c.fn(c.n)
	}
	return n, err
}

// OpenDocument opens a local file to print: a regular, non-empty file.
func OpenDocument(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file", path)
	}
	return f, fi.Size(), nil
}
