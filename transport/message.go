package transport

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// Request is the JSON payload of a FrameRequest.
type Request struct {
	// Op names the service operation ("ping", "ls", ...).
	Op string `json:"op"`
	// Body is the operation's own JSON arguments.
	Body json.RawMessage `json:"body,omitempty"`
}

// Response is the JSON payload of a FrameResponse.
type Response struct {
	OK bool `json:"ok"`
	// Code classifies a failure: one of the Code* constants.
	Code string `json:"code,omitempty"`
	// Classes are the failure's specific classes (RegisterClass).
	Classes []string        `json:"classes,omitempty"`
	Message string          `json:"message,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// Failure codes carried in a Response.
const (
	CodeDenied     = "denied"
	CodeNotFound   = "not_found"
	CodeBadRequest = "bad_request"
	CodeInternal   = "internal"
)

var opPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,31}$`)

// DecodeRequest parses and validates a request payload.
func DecodeRequest(p []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(p, &r); err != nil {
		return Request{}, fmt.Errorf("%w: request: %v", ErrProtocol, err)
	}
	if !opPattern.MatchString(r.Op) {
		return Request{}, fmt.Errorf("%w: request op %q", ErrProtocol, r.Op)
	}
	return r, nil
}

// DecodeResponse parses and validates a response payload.
func DecodeResponse(p []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(p, &r); err != nil {
		return Response{}, fmt.Errorf("%w: response: %v", ErrProtocol, err)
	}
	if !r.OK && r.Code == "" {
		return Response{}, fmt.Errorf("%w: failed response without code", ErrProtocol)
	}
	if len(r.Classes) > maxClasses {
		return Response{}, fmt.Errorf("%w: response with %d failure classes", ErrProtocol, len(r.Classes))
	}
	for _, c := range r.Classes {
		if !classPattern.MatchString(c) {
			return Response{}, fmt.Errorf("%w: failure class %q", ErrProtocol, truncateString(c, 40))
		}
	}
	return r, nil
}

// RemoteError is a failure reported by the remote peer.
type RemoteError struct {
	Op      string
	Code    string
	Classes []string
	Message string
}

// remoteError builds the error of a failed response.
func remoteError(op string, resp Response) *RemoteError {
	return &RemoteError{Op: op, Code: resp.Code, Classes: resp.Classes, Message: resp.Message}
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: remote peer says %s", e.Op, e.Code)
	}
	return fmt.Sprintf("%s: remote peer says: %s", e.Op, e.Message)
}

// Is matches the sentinel errors of the failure's code and classes.
func (e *RemoteError) Is(target error) bool {
	if s := sentinelOfCode(e.Code); s != nil && s == target {
		return true
	}
	for _, name := range e.Classes {
		if s, ok := SentinelOf(name); ok && s == target {
			return true
		}
	}
	return false
}

// ErrorResponse builds the Response that reports err to the remote side.
// Only the classes and err's message travel; handlers must not put
// secrets into error messages.
func ErrorResponse(err error) Response {
	return Response{OK: false, Code: codeOf(err), Classes: ClassesOf(err), Message: err.Error()}
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
