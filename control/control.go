// Package control is the local control socket through which the CLI (and a
// second GUI start) talks to the running peer of a home: one JSON request
// line, one JSON response line per connection. The socket lives in the home
// directory (0700) and is itself 0600, so only the owner reaches it.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/transport"
)

// SocketName is the socket's file name inside the home.
const SocketName = "control.sock"

// maxLine bounds a request or response line.
const maxLine = 4 << 20

// ErrNotRunning: no peer is running for this home.
var ErrNotRunning = errors.New("no peerdesk peer is running for this home")

// ErrLost: the running peer hung up before answering (it stopped or
// crashed mid-request).
var ErrLost = errors.New("the running peer stopped before it answered")

// Request is one control request.
type Request struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response is one control response. Code classifies failures for exit
// codes ("denied", "not_found", "changed", "usage", "error"); Classes are
// the failure's classes, the same names the peer protocol carries
// (transport.RegisterClass).
type Response struct {
	// Event, when set, is a progress event that precedes the final
	// response line (see Emit); the other fields are then unset.
	Event   json.RawMessage `json:"event,omitempty"`
	OK      bool            `json:"ok"`
	Code    string          `json:"code,omitempty"`
	Classes []string        `json:"classes,omitempty"`
	Error   string          `json:"error,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
}

// Error is a failure the running peer reported. errors.Is matches the
// sentinel error of each of its classes, as for a peer's RemoteError.
type Error struct {
	Code    string
	Classes []string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is the sentinel of one of the classes.
func (e *Error) Is(target error) bool {
	for _, name := range e.Classes {
		if s, ok := transport.SentinelOf(name); ok && s == target {
			return true
		}
	}
	return false
}

// HandlerFunc answers one control request.
type HandlerFunc func(ctx context.Context, op string, args json.RawMessage) (any, error)

// Server serves the control socket.
type Server struct {
	ln       net.Listener
	path     string
	handle   HandlerFunc
	classify func(error) (string, []string)
	log      *slog.Logger
	wg       sync.WaitGroup
}

// Listen creates the socket in home. classify maps handler errors to response
// codes. The caller must hold the home's instance lock: a stale socket left
// by a crash is removed here.
func Listen(home string, handle HandlerFunc, classify func(error) (string, []string), log *slog.Logger) (*Server, error) {
	path := filepath.Join(home, SocketName)
	_ = os.Remove(path)
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{ln: ln, path: path, handle: handle, classify: classify, log: log}, nil
}

// Serve answers requests until ctx ends or Close.
func (s *Server) Serve(ctx context.Context) {
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
	s.wg.Wait()
}

type emitterKey struct{}

// emitter writes a request's progress events ahead of its response.
type emitter struct {
	mu     sync.Mutex
	c      net.Conn
	closed bool
}

func (e *emitter) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(Response{Event: b})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return net.ErrClosed
	}
	_ = e.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = e.c.Write(append(line, '\n'))
	return err
}

func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
}

// Emit sends a progress event (any JSON value) to the client of the
// control request ctx belongs to, ahead of the final answer. Outside a
// control request it does nothing. Clients that use Call skip events;
// CallEvents hands them over.
func Emit(ctx context.Context, v any) error {
	e, _ := ctx.Value(emitterKey{}).(*emitter)
	if e == nil {
		return nil
	}
	return e.emit(v)
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(c, 64<<10)
	line, err := readLine(r)
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	resp := Response{OK: true}
	req, err := decodeRequest(line)
	if err != nil {
		resp = Response{Code: "usage", Error: err.Error()}
	} else {
		// The request ends when the client hangs up, e.g. on Ctrl-C.
		rctx, cancel := context.WithCancel(ctx)
		em := &emitter{c: c}
		rctx = context.WithValue(rctx, emitterKey{}, em)
		go func() {
			_, _ = r.ReadByte()
			cancel()
		}()
		result, herr := s.handle(rctx, req.Op, req.Args)
		cancel()
		em.close()
		if herr != nil {
			code, classes := s.classify(herr)
			resp = Response{Code: code, Classes: classes, Error: herr.Error()}
		} else if result != nil {
			b, merr := json.Marshal(result)
			if merr != nil {
				resp = Response{Code: "error", Error: merr.Error()}
			} else {
				resp.Result = b
			}
		}
	}
	b, _ := json.Marshal(resp)
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write(append(b, '\n'))
}

// decodeRequest parses one request line.
func decodeRequest(line []byte) (Request, error) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil || req.Op == "" || len(req.Op) > 64 {
		return Request{}, errors.New("malformed control request")
	}
	return req, nil
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, errors.New("control line too long")
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// Close stops the server and removes the socket.
func (s *Server) Close() error {
	err := s.ln.Close()
	_ = os.Remove(s.path)
	return err
}

// Call sends one request to the peer running for home and decodes its result
// into out (if non-nil). ErrNotRunning when nothing listens.
func Call(ctx context.Context, home, op string, args, out any) error {
	return CallEvents(ctx, home, op, args, out, nil)
}

// CallEvents is Call for long requests: onEvent receives each progress
// event the peer emits before its answer.
func CallEvents(ctx context.Context, home, op string, args, out any, onEvent func(json.RawMessage)) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(home, SocketName))
	if err != nil {
		return ErrNotRunning
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	req := Request{Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		req.Args = b
	}
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var resp Response
	for {
		line, err := readLine(r)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: %w", ErrLost, err)
		}
		resp = Response{}
		if err := json.Unmarshal(line, &resp); err != nil {
			return fmt.Errorf("control: malformed answer: %w", err)
		}
		if len(resp.Event) == 0 {
			break
		}
		if onEvent != nil {
			onEvent(resp.Event)
		}
	}
	if !resp.OK {
		return &Error{Code: resp.Code, Classes: resp.Classes, Message: resp.Error}
	}
	if out != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return fmt.Errorf("control: malformed result: %w", err)
		}
	}
	return nil
}
