package ippserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phin1x/go-ipp"
)

// Limits of one endpoint.
const (
	// MaxDocumentBytes caps one document (as printing.MaxDocumentBytes).
	MaxDocumentBytes = 512 << 20
	// maxJobs caps the jobs remembered (finished ones are forgotten
	// oldest first); maxActive caps those not finished, whose documents
	// take disk space.
	maxJobs   = 100
	maxActive = 50
	// createTimeout is multiple-operation-time-out: a Create-Job whose
	// document does not come within it is aborted.
	createTimeout = 60 * time.Second
	// describeTimeout bounds one Printer.Describe.
	describeTimeout = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// Name is the printer's name in its URI (/printers/NAME): letters,
	// digits, '-', '_' and '.'.
	Name string
	// UUID is the printer's stable urn:uuid (printer-uuid).
	UUID string
	// Printer is what jobs are printed on.
	Printer Printer
	// SpoolDir holds documents until they are printed (0700; created).
	SpoolDir string
	Logger   *slog.Logger
}

// Server is one endpoint.
type Server struct {
	cfg     Config
	log     *slog.Logger
	started time.Time
	http    *http.Server
	ln      net.Listener
	uri     string

	mu      sync.Mutex
	jobs    []*job // by id, oldest first
	nextID  int
	queue   chan *job
	stateAt time.Time // last printer-state change
	lastDsc Description

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg and prepares the spool; Serve starts answering.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" || strings.Trim(cfg.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return nil, fmt.Errorf("ippserve: bad printer name %q", cfg.Name)
	}
	if cfg.Printer == nil || cfg.SpoolDir == "" {
		return nil, errors.New("ippserve: Printer and SpoolDir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("ippserve: spool: %w", err)
	}
	// Documents a crash left behind belong to jobs nobody follows.
	old, _ := filepath.Glob(filepath.Join(cfg.SpoolDir, "job-*"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	s := &Server{cfg: cfg, log: cfg.Logger.With("printer", cfg.Name), started: now.Add(-time.Second),
		nextID: 1, queue: make(chan *job, maxActive), stateAt: now, ctx: ctx, cancel: cancel}
	return s, nil
}

// Listen listens on 127.0.0.1:port (0: any free port) and serves in the
// background. The URI is then ipp://127.0.0.1:PORT/printers/NAME.
func (s *Server) Listen(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("ippserve: listen: %w", err)
	}
	s.ln = ln
	s.uri = fmt.Sprintf("ipp://%s/printers/%s", ln.Addr().String(), s.cfg.Name)
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("ipp endpoint stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.work()
	}()
	return nil
}

// URI is the printer's URI once listening.
func (s *Server) URI() string { return s.uri }

// Port is the TCP port it listens on.
func (s *Server) Port() int {
	if s.ln == nil {
		return 0
	}
	return s.ln.Addr().(*net.TCPAddr).Port
}

// Close stops answering, cancels what is printing here and drops the
// spool. Jobs already handed to the printer's owner are not canceled
// there: they print.
func (s *Server) Close() error {
	s.cancel()
	var err error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = s.http.Shutdown(ctx)
		cancel()
		if err != nil {
			err = s.http.Close()
		}
	}
	s.wg.Wait()
	s.mu.Lock()
	for _, j := range s.jobs {
		j.dropDocument()
	}
	s.mu.Unlock()
	return err
}

// Release sends every held job again (after the user signed in).
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.state == ipp.JobStateHeld && j.doc != nil {
			j.state, j.reasons, j.message = ipp.JobStatePending, []string{"none"}, ""
			s.enqueueLocked(j)
		}
	}
}

// DropHeld cancels every held job (their documents came again another
// way).
func (s *Server) DropHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.state == ipp.JobStateHeld {
			s.finishLocked(j, ipp.JobStateCanceled, "job-canceled-by-user", "sent again from the print queue")
		}
	}
}

// Held counts the jobs waiting for Release.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, j := range s.jobs {
		if j.state == ipp.JobStateHeld {
			n++
		}
	}
	return n
}

// describe asks the printer for its description, bounded in time, and
// notes when its state changed.
func (s *Server) describe(ctx context.Context) Description {
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	d := s.cfg.Printer.Describe(ctx)
	s.mu.Lock()
	if d.State != s.lastDsc.State || d.Message != s.lastDsc.Message || d.Accepting != s.lastDsc.Accepting {
		s.stateAt = time.Now()
	}
	s.lastDsc = d
	s.mu.Unlock()
	return d
}

// ServeHTTP answers IPP over HTTP POST at the printer's path, and a short
// status page for people at GET /.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only loopback names: a web page that rebinds its own host name to
	// 127.0.0.1 must not reach the printer (application/ipp already
	// keeps cross-origin requests out, as it needs a CORS preflight).
	if h, _, err := net.SplitHostPort(r.Host); err != nil || (h != "127.0.0.1" && h != "localhost" && h != "::1") {
		http.Error(w, "forbidden host", http.StatusForbidden)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		s.statusPage(w)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/icon.png":
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(iconPNG())
		return
	case r.Method != http.MethodPost:
		http.Error(w, "IPP wants POST", http.StatusMethodNotAllowed)
		return
	case r.URL.Path != "/printers/"+s.cfg.Name && r.URL.Path != "/ipp/print":
		http.NotFound(w, r)
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/ipp"):
		http.Error(w, "Content-Type must be application/ipp", http.StatusBadRequest)
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxHeaderBytes+MaxDocumentBytes)
	req, err := readRequest(body)
	var resp *ipp.Response
	if err != nil {
		s.log.Debug("bad ipp request", "err", err)
		resp = status(&request{major: 1, minor: 1}, ipp.StatusErrorBadRequest, "malformed request")
	} else {
		resp = s.handle(r.Context(), req, body)
	}
	out, err := resp.Encode()
	if err != nil {
		s.log.Warn("encode ipp response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Whatever document the client still sends after an early refusal
	// is not read: drop the connection rather than drain it.
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	w.Header().Set("Content-Type", "application/ipp")
	_, _ = w.Write(out)
}

// statusPage is printer-more-info and printer-supply-info-uri: what the
// printer is and where its jobs go, for a person who follows the link from
// the print dialog.
func (s *Server) statusPage(w http.ResponseWriter) {
	d := s.describe(s.ctx)
	s.mu.Lock()
	n := 0
	for _, j := range s.jobs {
		if j.state < ipp.JobStateCanceled {
			n++
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s\nPrinted through Peerdesk.\nState: %s %s\nJobs not finished: %d\n", d.Info, d.State, d.Message, n)
}

// status builds a response to req.
func status(req *request, code int16, msg string) *ipp.Response {
	resp := ipp.NewResponse(code, req.id)
	if req.major >= 1 {
		resp.ProtocolVersionMajor, resp.ProtocolVersionMinor = req.major, req.minor
		if req.major > 2 {
			resp.ProtocolVersionMajor, resp.ProtocolVersionMinor = 2, 0
		}
	}
	// go-ipp's default, "en-US", is not a valid naturalLanguage value
	// (RFC 8011 section 5.1.10: lowercase).
	resp.OperationAttributes["attributes-natural-language"] = []ipp.Attribute{{Value: "en"}}
	if msg != "" {
		resp.OperationAttributes["status-message"] = []ipp.Attribute{{Value: msg}}
	}
	return resp
}

// handle checks what RFC 8011 section 4.1 asks of every request, then
// runs the operation.
func (s *Server) handle(ctx context.Context, req *request, doc io.Reader) *ipp.Response {
	if req.major < 1 || req.major > 2 {
		return status(req, ipp.StatusErrorVersionNotSupported, "IPP/1.1 and IPP/2.x only")
	}
	if req.id <= 0 {
		return status(req, ipp.StatusErrorBadRequest, "request-id must be greater than 0")
	}
	op := req.op1()
	if len(req.groups) == 0 || req.groups[0].tag != ipp.TagDelimiterOperation || len(op.names) < 2 ||
		op.names[0] != "attributes-charset" || op.names[1] != "attributes-natural-language" {
		return status(req, ipp.StatusErrorBadRequest, "attributes-charset and attributes-natural-language must come first")
	}
	if cs, _ := op.str("attributes-charset"); !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return status(req, ipp.StatusErrorCharset, "charset utf-8 only")
	}
	uri, ok := op.str("printer-uri")
	if !ok {
		if _, hasJobURI := op.str("job-uri"); !hasJobURI {
			return status(req, ipp.StatusErrorBadRequest, "missing printer-uri")
		}
	} else if !s.ownURI(uri) {
		return status(req, ipp.StatusErrorNotFound, "no such printer")
	}
	switch req.op {
	case ipp.OperationPrintJob:
		return s.printJob(ctx, req, doc)
	case ipp.OperationValidateJob:
		return s.validateJob(ctx, req)
	case ipp.OperationCreateJob:
		return s.createJob(ctx, req)
	case ipp.OperationSendDocument:
		return s.sendDocument(ctx, req, doc)
	case ipp.OperationCloseJob:
		return s.closeJob(req)
	case ipp.OperationCancelJob:
		return s.cancelJob(req)
	case ipp.OperationCancelMyJobs:
		return s.cancelMyJobs(req)
	case ipp.OperationGetJobAttributes:
		return s.getJobAttributes(req)
	case ipp.OperationGetJobs:
		return s.getJobs(req)
	case ipp.OperationGetPrinterAttributes:
		return s.getPrinterAttributes(ctx, req)
	case ipp.OperationIdentifyPrinter:
		return s.identify(ctx, req)
	}
	return status(req, ipp.StatusErrorOperationNotSupported, "operation not supported")
}

// ownURI accepts the printer's URI under any host name the client used
// (localhost, 127.0.0.1) as long as the path is this printer's.
func (s *Server) ownURI(uri string) bool {
	rest, ok := strings.CutPrefix(uri, "ipp://")
	if !ok {
		rest, ok = strings.CutPrefix(uri, "ipps://")
	}
	if !ok {
		return false
	}
	_, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	return path == "/printers/"+s.cfg.Name || path == "/ipp/print"
}

// identify answers Identify-Printer: there is nothing at this desk to
// flash or beep, and the owner's printer cannot be asked; the request is
// logged so it is visible where the peer runs.
func (s *Server) identify(ctx context.Context, req *request) *ipp.Response {
	s.log.Info("identify-printer asked", "by", userOf(req))
	return status(req, ipp.StatusOk, "")
}

// userOf is the requesting-user-name, or "anonymous".
func userOf(req *request) string {
	if u, ok := req.op1().str("requesting-user-name"); ok && u != "" {
		return u
	}
	return "anonymous"
}
