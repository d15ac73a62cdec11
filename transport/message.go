package transport

import (
	"encoding/json"
	"errors"
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
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// Failure codes carried in a Response.
const (
	CodeDenied     = "denied"
	CodeNotFound   = "not_found"
	CodeBadRequest = "bad_request"
	CodeInternal   = "internal"
	CodeBusy       = "busy"
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
	return r, nil
}

// RemoteError is a failure reported by the remote peer.
type RemoteError struct {
	Op      string
	Code    string
	Message string
}

func (e *RemoteError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: remote peer says %s", e.Op, e.Code)
	}
	return fmt.Sprintf("%s: remote peer says: %s", e.Op, e.Message)
}

// Is maps remote codes onto the package's sentinel errors.
func (e *RemoteError) Is(target error) bool {
	switch e.Code {
	case CodeDenied:
		return target == ErrAccessDenied
	case CodeNotFound:
		return target == ErrNotFound
	}
	return false
}

// ErrorResponse builds the Response that reports err to the remote side.
// Only the sentinel class and err's message travel; handlers must not put
// secrets into error messages.
func ErrorResponse(err error) Response {
	code := CodeInternal
	switch {
	case errors.Is(err, ErrAccessDenied):
		code = CodeDenied
	case errors.Is(err, ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, ErrProtocol):
		code = CodeBadRequest
	}
	return Response{OK: false, Code: code, Message: err.Error()}
}
