//go:build !windows

package printing

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	osuser "os/user"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/phin1x/go-ipp"
)

// CUPSConfig configures the CUPS backend. The zero value talks to
// $CUPS_SERVER, else localhost:631, with the default timeouts.
type CUPSConfig struct {
	// Server is where cupsd listens: "host", "host:port", "[v6addr]:port",
	// or the path of its domain socket ("/run/cups/cups.sock"). Empty:
	// $CUPS_SERVER, else "localhost:631".
	Server string
	// CallTimeout bounds each IPP call but the one carrying the document.
	// Zero: 10 s.
	CallTimeout time.Duration
	// SubmitTimeout bounds the Print-Job call, which uploads the document.
	// Zero: 5 min.
	SubmitTimeout time.Duration
	// User is the requesting-user-name of calls made on nobody's behalf
	// (listing queues, reading job state). Zero: "peerdesk". Submit always
	// uses SubmitRequest.User.
	User string
	// Language is the natural language of every request, a lower-case
	// RFC 5646 tag ("en", "de-de"); CUPS writes its status messages in it
	// where it has them. Zero: the user's locale (LocaleLanguage). A value
	// that is not a valid tag is replaced by "en".
	Language string
	// Logger receives job events. Zero: slog.Default().
	Logger *slog.Logger
}

// CUPS is the Backend for CUPS, spoken to over IPP with
// github.com/phin1x/go-ipp's HTTP adapter. IPP calls are built here and sent
// through the adapter's SendRequestContext, because go-ipp's IPPClient
// (v1.7.0) drops the context, and so every deadline, on its way to the adapter.
type CUPS struct {
	adapter       *ipp.HttpAdapter
	server        string
	callTimeout   time.Duration
	submitTimeout time.Duration
	user          string
	language      string
	log           *slog.Logger
	poll          pollSchedule
	requestID     atomic.Int32
	owners        jobOwners
}

// jobOwners remembers who submitted the most recent jobs. cupsd shows a
// job's private attributes (job-originating-user-name among them, by the
// default JobPrivateValues) only to its owner, so Job asks as the owner when
// it knows them.
type jobOwners struct {
	mu    sync.Mutex
	users map[int]string
	order []int // oldest first, for eviction
}

const maxJobOwners = 4096

func (o *jobOwners) remember(id int, user string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.users == nil {
		o.users = make(map[int]string)
	}
	if _, ok := o.users[id]; !ok {
		o.order = append(o.order, id)
	}
	o.users[id] = user
	if len(o.order) > maxJobOwners {
		delete(o.users, o.order[0])
		o.order = o.order[1:]
	}
}

func (o *jobOwners) owner(id int) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, ok := o.users[id]
	return u, ok
}

var _ Backend = (*CUPS)(nil)

// NewCUPS returns a CUPS backend. It does not contact cupsd.
func NewCUPS(cfg CUPSConfig) (*CUPS, error) {
	server := cfg.Server
	if server == "" {
		server = os.Getenv("CUPS_SERVER")
	}
	if server == "" {
		server = systemSocket()
	}
	ep, err := parseCUPSServer(server)
	if err != nil {
		return nil, err
	}
	c := &CUPS{
		server:        ep.String(),
		callTimeout:   cmp.Or(cfg.CallTimeout, 10*time.Second),
		submitTimeout: cmp.Or(cfg.SubmitTimeout, 5*time.Minute),
		user:          cmp.Or(cfg.User, "peerdesk"),
		language:      LocaleLanguage(),
		log:           cfg.Logger,
		poll:          defaultPoll,
	}
	if cfg.Language != "" {
		c.language = ippLanguage(cfg.Language)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	host, port := ep.host, ep.port
	if ep.socket != "" {
		// HTTP over cupsd's domain socket. go-ipp's SocketAdapter is not
		// used: it authenticates with root's local certificate, which makes
		// cupsd record every job as root's instead of requesting-user-name.
		socket := ep.socket
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socket)
		}
		host, port = "localhost", 631
	}
	c.adapter = ipp.NewHttpAdapter(host, port, "", "", false, ipp.WithHttpClient(&http.Client{Transport: transport}))
	return c, nil
}

// cupsEndpoint is a parsed CUPS_SERVER.
type cupsEndpoint struct {
	host   string // bracketed if IPv6, for URLs
	port   int
	socket string
}

func (e cupsEndpoint) String() string {
	if e.socket != "" {
		return e.socket
	}
	return e.host + ":" + strconv.Itoa(e.port)
}

// parseCUPSServer understands CUPS_SERVER as libcups does: a domain socket
// path, or host[:port], optionally followed by "/version=N.N", which only
// matters to libcups and is dropped.
func parseCUPSServer(s string) (cupsEndpoint, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return cupsEndpoint{host: "localhost", port: 631}, nil
	}
	if strings.HasPrefix(s, "/") {
		return cupsEndpoint{socket: s}, nil
	}
	if i := strings.Index(s, "/version="); i > 0 {
		s = s[:i]
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a name, an IPv4 address, or a bare IPv6 address.
		host, portStr = strings.Trim(s, "[]"), "631"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 || host == "" || strings.ContainsAny(host, "/ ") {
		return cupsEndpoint{}, fmt.Errorf("CUPS server %q: want host[:port] or a socket path", s)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return cupsEndpoint{host: host, port: port}, nil
}

// IPP attributes peerdesk asks for.
const (
	attrDocumentFormatSupported = "document-format-supported"
	attrPrinterIsAccepting      = "printer-is-accepting-jobs"
)

var queueAttributes = []string{
	ipp.AttributePrinterName, ipp.AttributePrinterState, ipp.AttributePrinterStateMessage,
	ipp.AttributePrinterStateReasons, attrPrinterIsAccepting, attrDocumentFormatSupported,
	"printer-make-and-model", "media-supported", "media-default", "color-supported",
	"sides-supported", "copies-supported", "pages-per-minute",
}

var jobAttributes = []string{
	ipp.AttributeJobID, ipp.AttributeJobState, ipp.AttributeJobStateReasons, ipp.AttributeJobStateMessage,
	ipp.AttributeJobPrinterStateMessage, ipp.AttributeJobPrinterURI, ipp.AttributeJobOriginatingUserName,
}

// newRequest starts every IPP request the backend makes, so each carries
// the backend's natural language instead of go-ipp's "en-US", which CUPS
// 2.4.2-3+deb12u10 refuses (see LocaleLanguage).
func (c *CUPS) newRequest(op int16, user string) *ipp.Request {
	// IPP request ids are 1..2^31-1.
	id := c.requestID.Add(1) & 0x7fffffff
	req := ipp.NewRequest(op, max(id, 1))
	req.OperationAttributes[ipp.AttributeNaturalLanguage] = c.language
	req.OperationAttributes[ipp.AttributeRequestingUserName] = user
	return req
}

// send makes one IPP call, bounded by timeout, and maps its errors to the
// package's sentinels.
func (c *CUPS) send(ctx context.Context, timeout time.Duration, target opTarget, namespace string, object any, req *ipp.Request) (*ipp.Response, error) {
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.adapter.SendRequestContext(callCtx, c.adapter.GetHttpUri(namespace, object), req, nil)
	if err == nil {
		return resp, nil
	}
	if ctx.Err() != nil {
		// The caller's own deadline or cancellation, not cupsd's fault.
		return nil, fmt.Errorf("cupsd at %s: %w", c.server, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("cupsd at %s did not answer within %s: %w: %w", c.server, timeout, ErrUnavailable, err)
	}
	return nil, mapIPPError(c.server, target, err)
}

// Queues lists cupsd's printers (CUPS-Get-Printers).
func (c *CUPS) Queues(ctx context.Context) ([]Queue, error) {
	req := c.newRequest(ipp.OperationCupsGetPrinters, c.user)
	req.OperationAttributes[ipp.AttributeRequestedAttributes] = queueAttributes
	resp, err := c.send(ctx, c.callTimeout, targetServer, "", nil, req)
	if err != nil {
		return nil, fmt.Errorf("list print queues: %w", err)
	}
	queues := make([]Queue, 0, len(resp.PrinterAttributes))
	for _, attrs := range resp.PrinterAttributes {
		if q := queueFrom(attrs); q.Name != "" {
			queues = append(queues, q)
		}
	}
	slices.SortFunc(queues, func(a, b Queue) int { return strings.Compare(a.Name, b.Name) })
	return queues, nil
}

// Queue returns one queue (Get-Printer-Attributes); ErrQueueNotFound if
// cupsd has none of that name.
func (c *CUPS) Queue(ctx context.Context, name string) (Queue, error) {
	attrs, err := c.printerAttributes(ctx, name)
	if err != nil {
		return Queue{}, err
	}
	return queueFrom(attrs), nil
}

func (c *CUPS) printerAttributes(ctx context.Context, name string) (ipp.Attributes, error) {
	if err := checkQueueName(name); err != nil {
		return nil, err
	}
	req := c.newRequest(ipp.OperationGetPrinterAttributes, c.user)
	req.OperationAttributes[ipp.AttributePrinterURI] = printerURI(name)
	req.OperationAttributes[ipp.AttributeRequestedAttributes] = queueAttributes
	resp, err := c.send(ctx, c.callTimeout, targetQueue, "printers", url.PathEscape(name), req)
	if err != nil {
		return nil, fmt.Errorf("print queue %q: %w", name, err)
	}
	if len(resp.PrinterAttributes) == 0 {
		return nil, fmt.Errorf("print queue %q: cupsd returned no printer attributes", name)
	}
	return resp.PrinterAttributes[0], nil
}

func printerURI(name string) string {
	return "ipp://localhost/printers/" + url.PathEscape(name)
}

func jobURI(id int) string {
	return "ipp://localhost/jobs/" + strconv.Itoa(id)
}

func queueFrom(a ipp.Attributes) Queue {
	q := Queue{
		Name:      attrString(a, ipp.AttributePrinterName),
		State:     queueState(attrInt(a, ipp.AttributePrinterState)),
		Message:   stateMessage(attrString(a, ipp.AttributePrinterStateMessage), attrStrings(a, ipp.AttributePrinterStateReasons)),
		Accepting: attrBool(a, attrPrinterIsAccepting),
		Formats:   attrStrings(a, attrDocumentFormatSupported),
		Caps:      capabilitiesFrom(a),
	}
	return q
}

func queueState(v int) QueueState {
	switch int8(v) {
	case ipp.PrinterStateProcessing:
		return QueueProcessing
	case ipp.PrinterStateStopped:
		return QueueStopped
	}
	return QueueIdle
}

// stateMessage joins a state message and its reasons for people: "toner low
// (paused)"; a reason that only repeats the message ("Paused", "paused") is
// left out, and so is "none".
func stateMessage(msg string, reasons []string) string {
	var extra []string
	for _, r := range realReasons(reasons) {
		if !strings.EqualFold(r, msg) {
			extra = append(extra, r)
		}
	}
	switch {
	case len(extra) == 0:
		return msg
	case msg == "":
		return strings.Join(extra, ", ")
	}
	return msg + " (" + strings.Join(extra, ", ") + ")"
}

func realReasons(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		if r != "" && r != "none" {
			out = append(out, r)
		}
	}
	return out
}

// Submit checks the document against the queue (it must exist, accept jobs
// and take the document's format) and prints it with Print-Job as req.User.
func (c *CUPS) Submit(ctx context.Context, req SubmitRequest) (int, error) {
	if err := req.validate(); err != nil {
		return 0, err
	}
	attrs, err := c.printerAttributes(ctx, req.Queue)
	if err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	queue := queueFrom(attrs)
	if !queue.Accepting {
		// Checked before the upload so a rejecting queue costs no bytes;
		// Print-Job would answer 0x0506 anyway.
		return 0, fmt.Errorf("submit: print queue %q: %w%s", req.Queue, ErrQueueRejecting, parenthesized(queue.Message))
	}
	if err := req.Options.check(req.Queue, queue.Caps); err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	format, doc, headLen, err := documentFormat(&req, queue.Formats)
	if err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	size, doc, cleanup, err := documentSize(req.Document, doc, headLen, req.Size)
	if err != nil {
		return 0, fmt.Errorf("submit to %q: %w", req.Queue, err)
	}
	defer cleanup()

	copies := max(req.Copies, 1)
	ippReq := c.newRequest(ipp.OperationPrintJob, req.User)
	ippReq.OperationAttributes[ipp.AttributePrinterURI] = printerURI(req.Queue)
	ippReq.OperationAttributes[ipp.AttributeJobName] = ippName(cmp.Or(req.JobName, "peerdesk job"))
	ippReq.OperationAttributes[ipp.AttributeDocumentFormat] = format
	ippReq.JobAttributes[ipp.AttributeCopies] = copies
	setJobOptions(ippReq.JobAttributes, req.Options)
	ippReq.File = doc
	ippReq.FileSize = int(size)

	start := time.Now()
	resp, err := c.send(ctx, c.submitTimeout, targetQueue, "printers", url.PathEscape(req.Queue), ippReq)
	if err != nil {
		return 0, fmt.Errorf("submit to print queue %q: %w", req.Queue, err)
	}
	id := 0
	if len(resp.JobAttributes) > 0 {
		id = attrInt(resp.JobAttributes[0], ipp.AttributeJobID)
	}
	if id <= 0 {
		return 0, fmt.Errorf("submit to print queue %q: cupsd returned no job id", req.Queue)
	}
	c.owners.remember(id, req.User)
	c.log.Info("print job submitted", "queue", req.Queue, "job", id, "user", req.User,
		"format", format, "copies", copies, "bytes", size, "took", time.Since(start))
	return id, nil
}

// documentSize learns the document's size, which go-ipp's adapter wants to
// send a document at all: given by the caller, found by seeking, or else by
// spooling the rest of the document to a temporary file. The returned
// cleanup removes that file.
func documentSize(orig io.Reader, whole io.Reader, headLen int, given int64) (int64, io.Reader, func(), error) {
	noop := func() {}
	if given > 0 {
		return given, whole, noop, nil
	}
	if s, ok := orig.(io.Seeker); ok {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := s.Seek(0, io.SeekEnd)
			if err == nil {
				if _, err := s.Seek(cur, io.SeekStart); err != nil {
					return 0, nil, noop, fmt.Errorf("seek document: %w", err)
				}
				return int64(headLen) + end - cur, whole, noop, nil
			}
		}
		// Not really seekable (a pipe behind *os.File): spool.
	}
	f, err := os.CreateTemp("", "peerdesk-print-*")
	if err != nil {
		return 0, nil, noop, fmt.Errorf("spool document: %w", err)
	}
	cleanup := func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	n, err := io.Copy(f, whole)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return 0, nil, noop, fmt.Errorf("spool document: %w", err)
	}
	return n, f, cleanup, nil
}

// ippName cuts s to the 255 octets an IPP name may have, on a rune boundary.
func ippName(s string) string {
	if len(s) <= 255 {
		return s
	}
	cut := 255
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Job reports a job's state (Get-Job-Attributes), and while the job is alive
// the state of the queue it waits on: a job on a disabled queue is "pending"
// to CUPS, and only the queue says it is paused and why.
func (c *CUPS) Job(ctx context.Context, queue string, id int) (JobStatus, error) {
	if id <= 0 {
		return JobStatus{}, fmt.Errorf("job %d on %s: not a job id: %w", id, queue, ErrJobVanished)
	}
	user, ok := c.owners.owner(id)
	if !ok {
		user = c.user
	}
	req := c.newRequest(ipp.OperationGetJobAttributes, user)
	req.OperationAttributes[ipp.AttributeJobURI] = jobURI(id)
	req.OperationAttributes[ipp.AttributeRequestedAttributes] = jobAttributes
	resp, err := c.send(ctx, c.callTimeout, targetJob, "jobs", id, req)
	if err != nil {
		return JobStatus{}, fmt.Errorf("job %d on %s: %w", id, queue, err)
	}
	if len(resp.JobAttributes) == 0 {
		return JobStatus{}, fmt.Errorf("job %d on %s: cupsd returned no job attributes", id, queue)
	}
	a := resp.JobAttributes[0]
	st := JobStatus{
		ID:      id,
		Queue:   queue,
		State:   jobState(attrInt(a, ipp.AttributeJobState)),
		Reasons: realReasons(attrStrings(a, ipp.AttributeJobStateReasons)),
		User:    attrString(a, ipp.AttributeJobOriginatingUserName),
	}
	if u := attrString(a, ipp.AttributeJobPrinterURI); u != "" {
		// lpmove may have moved the job; report where it is.
		st.Queue = path.Base(u)
	}
	jobMsg := cmp.Or(attrString(a, ipp.AttributeJobStateMessage), attrString(a, ipp.AttributeJobPrinterStateMessage))
	if st.State.Done() {
		st.Message = jobMsg
		if st.Message == "" && st.State != JobCompleted {
			st.Message = strings.Join(st.Reasons, ", ")
		}
		return st, nil
	}
	printer, err := c.printerAttributes(ctx, st.Queue)
	if errors.Is(err, ErrQueueNotFound) {
		// The queue went between the two calls; its jobs went with it.
		return JobStatus{}, fmt.Errorf("job %d on %s: %w: %w", id, st.Queue, ErrJobVanished, err)
	}
	if err != nil {
		return JobStatus{}, fmt.Errorf("job %d: %w", id, err)
	}
	pq := queueFrom(printer)
	st.Reasons = append(st.Reasons, realReasons(attrStrings(printer, ipp.AttributePrinterStateReasons))...)
	printerMsg := attrString(printer, ipp.AttributePrinterStateMessage)
	switch {
	case pq.State == QueueStopped:
		st.Paused = true
		st.Message = "queue " + st.Queue + " is paused"
		if printerMsg != "" && !strings.EqualFold(printerMsg, "paused") {
			st.Message += ": " + printerMsg
		}
	case st.State == JobHeld:
		st.Message = cmp.Or(jobMsg, "held until released")
	default:
		st.Message = cmp.Or(printerMsg, jobMsg)
	}
	return st, nil
}

func jobState(v int) JobState {
	switch int8(v) {
	case ipp.JobStateHeld:
		return JobHeld
	case ipp.JobStateProcessing:
		return JobProcessing
	case ipp.JobStateStopped:
		return JobStopped
	case ipp.JobStateCanceled:
		return JobCanceled
	case ipp.JobStateAborted:
		return JobAborted
	case ipp.JobStateCompleted:
		return JobCompleted
	}
	return JobPending
}

// Cancel cancels a job (Cancel-Job); see Backend.Cancel. It asks as the
// local account peerdesk runs as, never as the job's owner: CUPS
// 2.4.2-3+deb12u10 crashes (a NULL dereference, seen in dmesg) on a
// Cancel-Job whose requesting-user-name has no local account, which every
// peerdesk owner ("alice@desk-2") is. Root, or a member of cupsd's
// SystemGroup, may cancel any job; another account gets ErrNotAuthorized.
func (c *CUPS) Cancel(ctx context.Context, queue string, id int) error {
	if id <= 0 {
		return fmt.Errorf("cancel job %d on %s: not a job id: %w", id, queue, ErrJobVanished)
	}
	me, err := osuser.Current()
	if err != nil {
		return fmt.Errorf("cancel job %d on %s: no local account to ask as: %w", id, queue, err)
	}
	req := c.newRequest(ipp.OperationCancelJob, me.Username)
	req.OperationAttributes[ipp.AttributeJobURI] = jobURI(id)
	if _, err := c.send(ctx, c.callTimeout, targetJob, "jobs", id, req); err != nil {
		return fmt.Errorf("cancel job %d on %s: %w", id, queue, err)
	}
	c.log.Info("print job canceled", "queue", queue, "job", id)
	return nil
}

// Wait follows the job by polling Job; see Backend.Wait.
func (c *CUPS) Wait(ctx context.Context, queue string, id int, onChange func(JobStatus)) (JobStatus, error) {
	st, err := followJob(ctx, queue, id, c.poll, func(ctx context.Context) (JobStatus, error) {
		return c.Job(ctx, queue, id)
	}, onChange, nil)
	switch {
	case err == nil:
		c.log.Info("print job completed", "queue", st.Queue, "job", id)
	case errors.Is(err, ErrJobFailed), errors.Is(err, ErrJobCanceled):
		c.log.Warn("print job did not print", "queue", queue, "job", id, "err", err)
	}
	return st, err
}

// Attribute accessors: go-ipp decodes integers and enums as int, booleans as
// bool and everything textual as string.

func attrString(a ipp.Attributes, name string) string {
	if vs := a[name]; len(vs) > 0 {
		if s, ok := vs[0].Value.(string); ok {
			return s
		}
	}
	return ""
}

func attrStrings(a ipp.Attributes, name string) []string {
	var out []string
	for _, v := range a[name] {
		if s, ok := v.Value.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func attrInt(a ipp.Attributes, name string) int {
	if vs := a[name]; len(vs) > 0 {
		if i, ok := vs[0].Value.(int); ok {
			return i
		}
	}
	return 0
}

func attrBool(a ipp.Attributes, name string) bool {
	if vs := a[name]; len(vs) > 0 {
		if b, ok := vs[0].Value.(bool); ok {
			return b
		}
	}
	return false
}

// setJobOptions adds a job's options to a Print-Job's job attributes.
func setJobOptions(attrs map[string]any, o JobOptions) {
	if len(o.PageRanges) > 0 {
		rs := make([]string, len(o.PageRanges))
		for i, r := range o.PageRanges {
			rs[i] = ippRange(r[0], r[1])
		}
		attrs["page-ranges"] = rs
	}
	for name, v := range map[string]string{"media": o.Media, "sides": o.Sides, "print-color-mode": o.ColorMode} {
		if v != "" {
			attrs[name] = v
		}
	}
}

// ippRange is a rangeOfInteger value for go-ipp's encoder, which writes a
// string as length + bytes: exactly RFC 8010's encoding of a range.
func ippRange(lo, hi int) string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(int32(lo)))
	binary.BigEndian.PutUint32(b[4:], uint32(int32(hi)))
	return string(b[:])
}

// Job template attributes CUPS is sent, with their tags for go-ipp's
// encoder (it picks the tag by name).
func init() {
	for n, t := range map[string]int8{"page-ranges": ipp.TagRange, "sides": ipp.TagKeyword,
		"print-color-mode": ipp.TagKeyword, "media": ipp.TagKeyword} {
		ipp.AttributeTagMapping[n] = t
	}
}

// capabilitiesFrom reads a CUPS queue's capabilities.
func capabilitiesFrom(a ipp.Attributes) Capabilities {
	c := Capabilities{
		MakeModel:      truncate(attrString(a, "printer-make-and-model"), maxMakeModel),
		MediaDefault:   attrString(a, "media-default"),
		Color:          attrBool(a, "color-supported"),
		Duplex:         slices.Contains(attrStrings(a, "sides-supported"), "two-sided-long-edge"),
		PagesPerMinute: attrInt(a, "pages-per-minute"),
	}
	for _, m := range attrStrings(a, "media-supported") {
		if validKeyword(m) && len(c.Media) < maxMedia {
			c.Media = append(c.Media, m)
		}
	}
	if !slices.Contains(c.Media, c.MediaDefault) {
		c.MediaDefault = ""
	}
	if vs := a["copies-supported"]; len(vs) > 0 {
		if r, ok := vs[0].Value.([]int32); ok && len(r) == 2 {
			c.CopiesMax = min(int(r[1]), MaxCopies)
		}
	}
	c.MakeModel = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, c.MakeModel)
	return c
}

// systemSockets are where libcups finds the local scheduler's domain
// socket when CUPS_SERVER is unset (its CUPS_DEFAULT_DOMAINSOCKET: Debian
// and Ubuntu, other Linux, macOS).
var systemSockets = []string{"/run/cups/cups.sock", "/var/run/cups/cups.sock", "/private/var/run/cupsd"}

// systemSocket is the first of systemSockets that is a socket, or "" (then
// localhost:631, as libcups falls back to).
func systemSocket() string {
	for _, s := range systemSockets {
		if fi, err := os.Stat(s); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return s
		}
	}
	return ""
}
