package ippserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phin1x/go-ipp"
)

// job is one job of the endpoint. Fields are guarded by Server.mu.
type job struct {
	Job
	state     int8
	reasons   []string
	message   string
	doc       *os.File // nil once printed, canceled or dropped
	created   time.Time
	processed time.Time
	completed time.Time
	incoming  bool // Create-Job waiting for its document
	cancel    context.CancelFunc
	canceled  bool
}

func (j *job) done() bool { return j.state >= ipp.JobStateCanceled }

func (j *job) dropDocument() {
	if j.doc != nil {
		name := j.doc.Name()
		j.doc.Close()
		_ = os.Remove(name)
		j.doc = nil
	}
}

// template holds the job template attributes of a request, checked.
type template struct {
	copies     int
	pageRanges [][2]int
	media      string
	sides      string
	colorMode  string
	holdUntil  string
}

// errAttr is a refusal of a job attribute.
type errAttr struct {
	code int16
	msg  string
}

func (e *errAttr) Error() string { return e.msg }

func refuse(code int16, format string, a ...any) *errAttr {
	return &errAttr{code: code, msg: fmt.Sprintf(format, a...)}
}

// checkTemplate checks the operation and job attributes of a job creation
// request against what the printer offers. With ipp-attribute-fidelity
// false (the default) unsupported values are ignored, as RFC 8011 allows;
// with true they are refused.
func checkTemplate(req *request, d Description) (template, *errAttr) {
	op, jg := req.op1(), req.group(ipp.TagDelimiterJob)
	fidelity, _ := op.boolean("ipp-attribute-fidelity")
	t := template{copies: 1}
	bad := func(format string, a ...any) *errAttr {
		if fidelity {
			return refuse(ipp.StatusErrorAttributesOrValues, format, a...)
		}
		return nil
	}
	if c, ok := op.str("compression"); ok && c != "none" {
		return t, refuse(ipp.StatusErrorAttributesOrValues, "compression %q not supported", c)
	}
	if v, ok := jg.integer("copies"); ok {
		switch max := max(d.CopiesMax, 1); {
		case v >= 1 && v <= max:
			t.copies = v
		default:
			if e := bad("copies must be 1 to %d", max); e != nil {
				return t, e
			}
		}
	}
	if rs, ok := jg.ranges("page-ranges"); ok {
		valid := len(rs) > 0 && len(rs) <= 64
		for i, r := range rs {
			if r[0] < 1 || r[1] < r[0] || (i > 0 && r[0] <= rs[i-1][1]) {
				valid = false
			}
		}
		if !valid {
			return t, refuse(ipp.StatusErrorAttributesOrValues, "page-ranges must be ascending, 1-based, not overlapping")
		}
		t.pageRanges = rs
	}
	keyword := func(name string, supported []string, dst *string) *errAttr {
		v, ok := jg.str(name)
		if !ok {
			return nil
		}
		if slices.Contains(supported, v) {
			*dst = v
			return nil
		}
		return bad("%s %q not supported", name, v)
	}
	if e := keyword("media", media(d), &t.media); e != nil {
		return t, e
	}
	if mc, ok := jg.attrs["media-col"]; ok && t.media == "" && len(mc.values) > 0 {
		if col, ok := mc.values[0].(ipp.Collection); ok {
			if key := mediaFromCol(col, media(d)); key != "" {
				t.media = key
			} else if e := bad("media-col not supported"); e != nil {
				return t, e
			}
		}
	}
	if e := keyword("sides", sides(d), &t.sides); e != nil {
		return t, e
	}
	if e := keyword("print-color-mode", colorModes(d), &t.colorMode); e != nil {
		return t, e
	}
	if e := keyword("job-hold-until", []string{"no-hold"}, &t.holdUntil); e != nil {
		return t, e
	}
	return t, nil
}

// mediaFromCol finds the media keyword whose size a media-col names.
func mediaFromCol(col ipp.Collection, supported []string) string {
	size, ok := col["media-size"]
	if !ok || len(size) == 0 {
		return ""
	}
	inner, ok := size[0].Value.(ipp.Collection)
	if !ok {
		return ""
	}
	num := func(name string) int {
		if a := inner[name]; len(a) > 0 {
			if v, ok := a[0].Value.(int); ok {
				return v
			}
		}
		return -1
	}
	x, y := num("x-dimension"), num("y-dimension")
	for _, m := range supported {
		if w, h, ok := mediaSize(m); ok && abs(w-x) <= 100 && abs(h-y) <= 100 {
			return m
		}
	}
	return ""
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// newJob checks that the printer takes jobs and makes room for one.
func (s *Server) newJob(req *request, d Description, t template) (*job, *errAttr) {
	if !d.Accepting {
		return nil, refuse(ipp.StatusErrorNotAcceptingJobs, "%s", orDefault(d.Message, "the printer is not accepting jobs"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	active := 0
	for _, j := range s.jobs {
		if !j.done() {
			active++
		}
	}
	if active >= maxActive {
		return nil, refuse(ipp.StatusErrorBusy, "too many jobs waiting; try again later")
	}
	for len(s.jobs) >= maxJobs {
		i := slices.IndexFunc(s.jobs, (*job).done)
		if i < 0 {
			return nil, refuse(ipp.StatusErrorBusy, "too many jobs waiting; try again later")
		}
		s.jobs = slices.Delete(s.jobs, i, i+1)
	}
	op := req.op1()
	name, _ := op.str("job-name")
	if name == "" {
		name, _ = op.str("document-name")
	}
	if name == "" {
		name = "Untitled"
	}
	j := &job{Job: Job{ID: s.nextID, Name: truncate(name, 255), User: truncate(userOf(req), 255),
		Copies: t.copies, PageRanges: t.pageRanges, Media: t.media, Sides: t.sides, ColorMode: t.colorMode},
		state: ipp.JobStatePending, reasons: []string{"none"}, created: time.Now()}
	s.nextID++
	s.jobs = append(s.jobs, j)
	return j, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkFormat settles the document-format of a job creation request: one
// the printer takes, or application/octet-stream (detected on arrival).
func checkFormat(req *request, d Description) (string, *errAttr) {
	f, ok := req.op1().str("document-format")
	if !ok || f == formatOctetStream {
		return formatOctetStream, nil
	}
	if !slices.Contains(formats(d), f) {
		return "", refuse(ipp.StatusErrorDocumentFormatNotSupported, "document-format %q not supported", f)
	}
	return f, nil
}

func (s *Server) validateJob(ctx context.Context, req *request) *ipp.Response {
	d := s.describe(ctx)
	if _, e := checkFormat(req, d); e != nil {
		return status(req, e.code, e.msg)
	}
	if _, e := checkTemplate(req, d); e != nil {
		return status(req, e.code, e.msg)
	}
	if !d.Accepting {
		return status(req, ipp.StatusErrorNotAcceptingJobs, orDefault(d.Message, "the printer is not accepting jobs"))
	}
	return status(req, ipp.StatusOk, "")
}

func (s *Server) printJob(ctx context.Context, req *request, doc io.Reader) *ipp.Response {
	d := s.describe(ctx)
	format, e := checkFormat(req, d)
	if e == nil {
		var t template
		if t, e = checkTemplate(req, d); e == nil {
			var j *job
			if j, e = s.newJob(req, d, t); e == nil {
				return s.takeDocument(req, j, format, doc, d)
			}
		}
	}
	return status(req, e.code, e.msg)
}

func (s *Server) createJob(ctx context.Context, req *request) *ipp.Response {
	d := s.describe(ctx)
	t, e := checkTemplate(req, d)
	if e == nil {
		var j *job
		if j, e = s.newJob(req, d, t); e == nil {
			s.mu.Lock()
			j.incoming = true
			j.reasons = []string{"job-incoming"}
			resp := status(req, ipp.StatusOk, "")
			resp.JobAttributes = []ipp.Attributes{s.jobAttrsLocked(j, jobCreationAttrs)}
			s.mu.Unlock()
			go s.abortIfNoDocument(j)
			return resp
		}
	}
	return status(req, e.code, e.msg)
}

// abortIfNoDocument aborts a Create-Job whose document did not come within
// multiple-operation-time-out.
func (s *Server) abortIfNoDocument(j *job) {
	select {
	case <-time.After(createTimeout):
	case <-s.ctx.Done():
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.incoming && !j.done() {
		j.incoming = false
		s.finishLocked(j, ipp.JobStateAborted, "aborted-by-system", "no document came within "+createTimeout.String())
	}
}

// findJob is the job a request names by job-id or job-uri.
func (s *Server) findJob(req *request) (*job, *errAttr) {
	op := req.op1()
	id, ok := op.integer("job-id")
	if !ok {
		uri, hasURI := op.str("job-uri")
		if !hasURI {
			return nil, refuse(ipp.StatusErrorBadRequest, "missing job-id")
		}
		n, err := strconv.Atoi(uri[strings.LastIndexByte(uri, '/')+1:])
		if err != nil || !strings.HasPrefix(uri, s.uri+"/jobs/") && !strings.Contains(uri, "/jobs/") {
			return nil, refuse(ipp.StatusErrorNotFound, "no such job")
		}
		id = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, refuse(ipp.StatusErrorNotFound, "no job %d", id)
}

func (s *Server) sendDocument(ctx context.Context, req *request, doc io.Reader) *ipp.Response {
	j, e := s.findJob(req)
	if e != nil {
		return status(req, e.code, e.msg)
	}
	last, ok := req.op1().boolean("last-document")
	if !ok {
		return status(req, ipp.StatusErrorBadRequest, "missing last-document")
	}
	s.mu.Lock()
	incoming := j.incoming && !j.done()
	s.mu.Unlock()
	if !incoming {
		return status(req, ipp.StatusErrorNotPossible, "job is not waiting for a document")
	}
	if !last {
		return status(req, ipp.StatusErrorMultipleJobsNotSupported, "one document per job")
	}
	d := s.describe(ctx)
	format, e := checkFormat(req, d)
	if e != nil {
		return status(req, e.code, e.msg)
	}
	s.mu.Lock()
	j.incoming = false
	s.mu.Unlock()
	return s.takeDocument(req, j, format, doc, d)
}

// closeJob answers Close-Job: a Create-Job without document is closed
// with nothing to print, so it is aborted.
func (s *Server) closeJob(req *request) *ipp.Response {
	j, e := s.findJob(req)
	if e != nil {
		return status(req, e.code, e.msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.incoming && !j.done() {
		j.incoming = false
		s.finishLocked(j, ipp.JobStateAborted, "aborted-by-system", "closed without a document")
	}
	return status(req, ipp.StatusOk, "")
}

// takeDocument spools the document (0600), detects its format when the
// client left that to the printer, and queues the job.
func (s *Server) takeDocument(req *request, j *job, format string, doc io.Reader, d Description) *ipp.Response {
	fail := func(code int16, reason, msg string) *ipp.Response {
		s.mu.Lock()
		s.finishLocked(j, ipp.JobStateAborted, reason, msg)
		s.mu.Unlock()
		return status(req, code, msg)
	}
	f, err := os.OpenFile(s.spoolPath(j.ID), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		s.log.Warn("spool document", "err", err)
		return fail(ipp.StatusErrorInternal, "aborted-by-system", "cannot spool the document")
	}
	n, err := io.Copy(f, io.LimitReader(doc, MaxDocumentBytes+1))
	if err == nil && n > MaxDocumentBytes {
		err = errTooLarge
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil || n == 0 {
		f.Close()
		_ = os.Remove(f.Name())
		switch {
		case errors.Is(err, errTooLarge):
			return fail(ipp.StatusErrorRequestEntity, "aborted-by-system", "document larger than 512 MiB")
		case err != nil:
			return fail(ipp.StatusErrorBadRequest, "aborted-by-system", "document not received: "+err.Error())
		}
		return fail(ipp.StatusErrorBadRequest, "aborted-by-system", "the document is empty")
	}
	head := make([]byte, 16)
	k, _ := f.ReadAt(head, 0)
	if format == formatOctetStream {
		format = detect(head[:k])
		if format == "" || !slices.Contains(formats(d), format) {
			f.Close()
			_ = os.Remove(f.Name())
			return fail(ipp.StatusErrorDocumentFormatNotSupported, "unsupported-document-format", "the document is not in a format the printer takes")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.done() { // canceled while the document arrived
		f.Close()
		_ = os.Remove(f.Name())
		return status(req, ipp.StatusErrorJobCanceled, "the job was canceled")
	}
	j.doc, j.Document, j.Size, j.Format = f, f, n, format
	j.reasons = []string{"none"}
	s.enqueueLocked(j)
	resp := status(req, ipp.StatusOk, "")
	resp.JobAttributes = []ipp.Attributes{s.jobAttrsLocked(j, jobCreationAttrs)}
	s.log.Info("job received", "job", j.ID, "bytes", n, "format", format)
	return resp
}

var errTooLarge = errors.New("document too large")

func (s *Server) spoolPath(id int) string {
	return fmt.Sprintf("%s/job-%d", s.cfg.SpoolDir, id)
}

// enqueueLocked hands a job to the worker; the channel holds maxActive,
// so it never blocks while at most maxActive jobs are unfinished.
func (s *Server) enqueueLocked(j *job) {
	select {
	case s.queue <- j:
	default:
		s.finishLocked(j, ipp.JobStateAborted, "aborted-by-system", "too many jobs waiting")
	}
}

// work prints queued jobs one at a time, in order.
func (s *Server) work() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case j := <-s.queue:
			s.run(j)
		}
	}
}

func (s *Server) run(j *job) {
	s.mu.Lock()
	if j.done() || j.doc == nil || j.state != ipp.JobStatePending {
		s.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	j.cancel = cancel
	j.state, j.processed = ipp.JobStateProcessing, time.Now()
	j.reasons = []string{"job-printing"}
	jj := j.Job // the Printer gets a copy, never the guarded fields
	s.mu.Unlock()
	defer cancel()

	err := s.cfg.Printer.Print(ctx, &jj, func(st Status) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if j.done() {
			return
		}
		j.message = st.Message
		switch st.State {
		case JobPending:
			j.state, j.reasons = ipp.JobStateProcessing, []string{"job-queued"}
		case JobHeld:
			j.state, j.reasons = ipp.JobStateProcessing, []string{"job-hold-until-specified"}
		default:
			j.state, j.reasons = ipp.JobStateProcessing, []string{"job-printing"}
		}
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	j.cancel = nil
	switch {
	case j.canceled || errors.Is(err, ErrJobCanceled):
		s.finishLocked(j, ipp.JobStateCanceled, "job-canceled-by-user", orDefault(errText(err), "canceled"))
	case errors.Is(err, ErrHold):
		j.state, j.reasons = ipp.JobStateHeld, []string{"job-hold-until-specified"}
		j.message = holdMessage(err)
		s.log.Info("job held", "job", j.ID, "why", j.message)
	case err != nil:
		s.finishLocked(j, ipp.JobStateAborted, "aborted-by-system", err.Error())
		s.log.Info("job failed", "job", j.ID, "err", err)
	default:
		s.finishLocked(j, ipp.JobStateCompleted, "job-completed-successfully", orDefault(j.message, "printed"))
	}
}

// holdMessage is what the user must do for a held job, from the Printer's
// error ("sign in to h0 in Peerdesk: job held").
func holdMessage(err error) string {
	msg := err.Error()
	msg, _ = strings.CutSuffix(msg, ": "+ErrHold.Error())
	return msg
}

func errText(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	return err.Error()
}

// finishLocked ends a job and drops its document.
func (s *Server) finishLocked(j *job, state int8, reason, msg string) {
	j.state, j.reasons, j.message = state, []string{reason}, msg
	j.completed = time.Now()
	j.dropDocument()
}

// cancelJob answers Cancel-Job: a job not over yet is canceled here and,
// when the printer has it, there (through ctx); one that is over cannot be.
func (s *Server) cancelJob(req *request) *ipp.Response {
	j, e := s.findJob(req)
	if e != nil {
		return status(req, e.code, e.msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.done() {
		return status(req, ipp.StatusErrorNotPossible, "the job is already "+stateWord(j.state))
	}
	s.cancelLocked(j)
	return status(req, ipp.StatusOk, "")
}

func (s *Server) cancelLocked(j *job) {
	j.canceled, j.incoming = true, false
	if j.cancel != nil {
		j.cancel() // run finishes it once the printer let go
		return
	}
	s.finishLocked(j, ipp.JobStateCanceled, "job-canceled-by-user", "canceled")
}

// cancelMyJobs cancels every unfinished job of the requesting user.
func (s *Server) cancelMyJobs(req *request) *ipp.Response {
	user := userOf(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if !j.done() && j.User == user {
			s.cancelLocked(j)
		}
	}
	return status(req, ipp.StatusOk, "")
}

func stateWord(state int8) string {
	switch state {
	case ipp.JobStatePending:
		return "pending"
	case ipp.JobStateHeld:
		return "held"
	case ipp.JobStateProcessing:
		return "processing"
	case ipp.JobStateStopped:
		return "stopped"
	case ipp.JobStateCanceled:
		return "canceled"
	case ipp.JobStateAborted:
		return "aborted"
	}
	return "completed"
}

func (s *Server) getJobAttributes(req *request) *ipp.Response {
	j, e := s.findJob(req)
	if e != nil {
		return status(req, e.code, e.msg)
	}
	want := requested(req, allJobAttrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := status(req, ipp.StatusOk, "")
	resp.JobAttributes = []ipp.Attributes{s.jobAttrsLocked(j, want)}
	return resp
}

// getJobs answers Get-Jobs: which-jobs not-completed (default), completed
// or all; my-jobs limits them to the requesting user; without
// requested-attributes only job-id and job-uri are returned.
func (s *Server) getJobs(req *request) *ipp.Response {
	op := req.op1()
	which, ok := op.str("which-jobs")
	if !ok {
		which = "not-completed"
	}
	if !slices.Contains(whichJobs, which) {
		return status(req, ipp.StatusErrorAttributesOrValues, "which-jobs "+which+" not supported")
	}
	mine, _ := op.boolean("my-jobs")
	limit, hasLimit := op.integer("limit")
	want := map[string]bool{"job-id": true, "job-uri": true}
	if _, ok := op.attrs["requested-attributes"]; ok {
		want = requested(req, allJobAttrs)
	}
	user := userOf(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := status(req, ipp.StatusOk, "")
	for i := len(s.jobs) - 1; i >= 0; i-- {
		j := s.jobs[i]
		if (which == "not-completed" && j.done()) || (which == "completed" && !j.done()) || (mine && j.User != user) {
			continue
		}
		if hasLimit && limit > 0 && len(resp.JobAttributes) >= limit {
			break
		}
		resp.JobAttributes = append(resp.JobAttributes, s.jobAttrsLocked(j, want))
	}
	return resp
}

var whichJobs = []string{"completed", "not-completed", "all"}
