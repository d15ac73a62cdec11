package transport

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/identity"
)

// rawFrame builds a frame byte by byte, so tests can break any field.
func rawFrame(magic string, version, typ, flags, reserved byte, length uint32, payload []byte) []byte {
	b := []byte(magic)
	b = append(b, version, typ, flags, reserved)
	b = binary.BigEndian.AppendUint32(b, length)
	return append(b, payload...)
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestFrameRoundTrip(t *testing.T) {
	end := binary.BigEndian.AppendUint64(nil, 1<<40+5)
	tests := []struct {
		typ     FrameType
		payload []byte
	}{
		{FrameRequest, []byte(`{"op":"ping"}`)},
		{FrameRequest, nil},
		{FrameRequest, pattern(MaxRequestSize)},
		{FrameResponse, []byte(`{"ok":true}`)},
		{FrameResponse, pattern(MaxRequestSize)},
		{FrameData, nil},
		{FrameData, pattern(1)},
		{FrameData, pattern(MaxPayloadSize)},
		{FrameEnd, end},
		{FrameEnd, make([]byte, 8)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.typ, len(tt.payload)), func(t *testing.T) {
			// AppendFrame appends: a prefix already in dst stays.
			prefix := []byte("xyz")
			b, err := AppendFrame(append([]byte(nil), prefix...), tt.typ, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, prefix) {
				t.Fatal("AppendFrame overwrote dst")
			}
			msg := b[len(prefix):]
			if len(msg) != frameHeaderSize+len(tt.payload) || len(msg) > MaxFrameSize {
				t.Fatalf("frame of %d bytes for a %d-byte payload", len(msg), len(tt.payload))
			}
			f, err := DecodeFrame(msg)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != tt.typ || !bytes.Equal(f.Payload, tt.payload) {
				t.Fatalf("decoded %s/%d bytes, want %s/%d bytes", f.Type, len(f.Payload), tt.typ, len(tt.payload))
			}
		})
	}
}

func TestAppendFrameRefuses(t *testing.T) {
	tests := []struct {
		name    string
		typ     FrameType
		payload []byte
		want    error
	}{
		{"unknown type 0", 0, nil, ErrProtocol},
		{"unknown type 6", 6, nil, ErrProtocol},
		{"unknown type 255", 255, nil, ErrProtocol},
		{"request over limit", FrameRequest, make([]byte, MaxRequestSize+1), ErrFrameTooLarge},
		{"response over limit", FrameResponse, make([]byte, MaxRequestSize+1), ErrFrameTooLarge},
		{"data over limit", FrameData, make([]byte, MaxPayloadSize+1), ErrFrameTooLarge},
		{"end over 8 bytes", FrameEnd, make([]byte, 9), ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendFrame(dst, tt.typ, tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed to %q on error", got)
			}
		})
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	ok := func(typ FrameType, payload []byte) []byte {
		return rawFrame("PD", ProtocolVersion, byte(typ), 0, 0, uint32(len(payload)), payload)
	}
	eight := make([]byte, 8)
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"empty", nil, ErrProtocol},
		{"one byte", []byte("P"), ErrProtocol},
		{"header minus one", ok(FrameData, nil)[:frameHeaderSize-1], ErrProtocol},
		{"bad magic", rawFrame("XD", ProtocolVersion, byte(FrameData), 0, 0, 0, nil), ErrProtocol},
		{"bad magic second byte", rawFrame("Pd", ProtocolVersion, byte(FrameData), 0, 0, 0, nil), ErrProtocol},
		{"version 0", rawFrame("PD", 0, byte(FrameData), 0, 0, 0, nil), ErrProtocol},
		{"version 2", rawFrame("PD", ProtocolVersion+1, byte(FrameData), 0, 0, 0, nil), ErrProtocol},
		{"type 0", rawFrame("PD", ProtocolVersion, 0, 0, 0, 0, nil), ErrProtocol},
		{"type 6", rawFrame("PD", ProtocolVersion, 6, 0, 0, 0, nil), ErrProtocol},
		{"type 255", rawFrame("PD", ProtocolVersion, 255, 0, 0, 0, nil), ErrProtocol},
		{"flags set", rawFrame("PD", ProtocolVersion, byte(FrameData), 1, 0, 0, nil), ErrProtocol},
		{"high flag set", rawFrame("PD", ProtocolVersion, byte(FrameData), 0x80, 0, 0, nil), ErrProtocol},
		{"reserved byte set", rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 1, 0, nil), ErrProtocol},
		{"length longer than message", rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 0, 5, []byte("abcd")), ErrProtocol},
		{"length shorter than message", rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 0, 3, []byte("abcd")), ErrProtocol},
		{"length with no payload", rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 0, 1, nil), ErrProtocol},
		{"length 4 GiB-1", rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 0, 0xffffffff, nil), ErrFrameTooLarge},
		{"data over limit", ok(FrameData, make([]byte, MaxPayloadSize+1)), ErrFrameTooLarge},
		{"request over limit", ok(FrameRequest, make([]byte, MaxRequestSize+1)), ErrFrameTooLarge},
		{"response over limit", ok(FrameResponse, make([]byte, MaxRequestSize+1)), ErrFrameTooLarge},
		{"end over 8 bytes", ok(FrameEnd, make([]byte, 9)), ErrFrameTooLarge},
		{"end of 7 bytes", ok(FrameEnd, eight[:7]), ErrProtocol},
		{"end of 0 bytes", ok(FrameEnd, nil), ErrProtocol},
		{"end length 8 but 7 carried", rawFrame("PD", ProtocolVersion, byte(FrameEnd), 0, 0, 8, eight[:7]), ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFrame(tt.msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if f.Type != 0 || f.Payload != nil {
				t.Fatalf("frame %+v returned with an error", f)
			}
		})
	}
}

func TestFrameTypeString(t *testing.T) {
	tests := map[FrameType]string{
		FrameRequest:  "request",
		FrameResponse: "response",
		FrameData:     "data",
		FrameEnd:      "end",
		0:             "frame(0)",
		200:           "frame(200)",
	}
	for typ, want := range tests {
		if got := typ.String(); got != want {
			t.Errorf("FrameType(%d).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantOp  string
		wantErr bool
	}{
		{name: "op only", in: `{"op":"ping"}`, wantOp: "ping"},
		{name: "op with body", in: `{"op":"ls","body":{"path":"a/b"}}`, wantOp: "ls"},
		{name: "dotted op", in: `{"op":"bench.download"}`, wantOp: "bench.download"},
		{name: "op with digits, dash, underscore", in: `{"op":"a9_b-c.d"}`, wantOp: "a9_b-c.d"},
		{name: "op of 32 chars", in: `{"op":"` + strings.Repeat("a", 32) + `"}`, wantOp: strings.Repeat("a", 32)},
		{name: "unknown fields ignored", in: `{"op":"ping","extra":1}`, wantOp: "ping"},
		{name: "op of 33 chars", in: `{"op":"` + strings.Repeat("a", 33) + `"}`, wantErr: true},
		{name: "empty op", in: `{"op":""}`, wantErr: true},
		{name: "missing op", in: `{"body":{}}`, wantErr: true},
		{name: "upper case op", in: `{"op":"Ping"}`, wantErr: true},
		{name: "op starting with digit", in: `{"op":"1ping"}`, wantErr: true},
		{name: "op starting with dot", in: `{"op":".ping"}`, wantErr: true},
		{name: "op with space", in: `{"op":"ping pong"}`, wantErr: true},
		{name: "op with slash", in: `{"op":"../ping"}`, wantErr: true},
		{name: "op with trailing newline", in: `{"op":"ping\n"}`, wantErr: true},
		{name: "op with NUL", in: `{"op":"ping\u0000"}`, wantErr: true},
		{name: "op with non-ASCII", in: `{"op":"pïng"}`, wantErr: true},
		{name: "op not a string", in: `{"op":1}`, wantErr: true},
		{name: "empty payload", in: ``, wantErr: true},
		{name: "not json", in: `ping`, wantErr: true},
		{name: "array", in: `["ping"]`, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "truncated", in: `{"op":"ping"`, wantErr: true},
		{name: "trailing garbage", in: `{"op":"ping"}x`, wantErr: true},
		{name: "invalid body", in: `{"op":"ping","body":{]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("err = %v, want ErrProtocol", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Op != tt.wantOp {
				t.Fatalf("op %q, want %q", r.Op, tt.wantOp)
			}
		})
	}
}

func TestDecodeRequestKeepsBody(t *testing.T) {
	r, err := DecodeRequest([]byte(`{"op":"ls","body":{"path":"a/b","n":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Path string
		N    int
	}
	if err := DecodeBody(r, &body); err != nil {
		t.Fatal(err)
	}
	if body.Path != "a/b" || body.N != 3 {
		t.Fatalf("body %+v", body)
	}
	var wrong struct{ Path int }
	if err := DecodeBody(r, &wrong); !errors.Is(err, ErrProtocol) {
		t.Fatalf("mistyped body: err = %v, want ErrProtocol", err)
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantOK   bool
		wantCode string
		wantBody string
		wantErr  bool
	}{
		{name: "ok", in: `{"ok":true}`, wantOK: true},
		{name: "ok with body", in: `{"ok":true,"body":{"n":1}}`, wantOK: true, wantBody: `{"n":1}`},
		{name: "denied", in: `{"ok":false,"code":"denied","message":"no"}`, wantCode: CodeDenied},
		{name: "not found", in: `{"ok":false,"code":"not_found"}`, wantCode: CodeNotFound},
		{name: "unknown code still decodes", in: `{"ok":false,"code":"teapot"}`, wantCode: "teapot"},
		{name: "failed without code", in: `{"ok":false}`, wantErr: true},
		{name: "failed with empty code", in: `{"ok":false,"code":"","message":"x"}`, wantErr: true},
		{name: "empty object", in: `{}`, wantErr: true},
		{name: "ok not a bool", in: `{"ok":"true"}`, wantErr: true},
		{name: "empty payload", in: ``, wantErr: true},
		{name: "not json", in: `ok`, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "array", in: `[true]`, wantErr: true},
		{name: "truncated", in: `{"ok":true`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeResponse([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("err = %v, want ErrProtocol", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.OK != tt.wantOK || r.Code != tt.wantCode || string(r.Body) != tt.wantBody {
				t.Fatalf("got %+v (body %s)", r, r.Body)
			}
		})
	}
}

// TestFailureClassesTravel: a failure's classes go out with its response
// and the caller's error matches each class's sentinel, and its generic
// code's, whatever the message says.
func TestFailureClassesTravel(t *testing.T) {
	errBusyHere := errors.New("busy here")
	RegisterClass("test_busy_here", errBusyHere)
	sent := fmt.Errorf("%w: %w: whatever words", ErrAccessDenied, errBusyHere)
	resp := ErrorResponse(sent)
	if resp.Code != CodeDenied || !slices.Contains(resp.Classes, "test_busy_here") {
		t.Fatalf("response %+v", resp)
	}
	b, _ := json.Marshal(resp)
	got, err := DecodeResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	got.Message = "reworded entirely"
	remote := fmt.Errorf("call: %w", remoteError("op", got))
	for _, s := range []error{ErrAccessDenied, errBusyHere} {
		if !errors.Is(remote, s) {
			t.Errorf("the remote error does not match %v", s)
		}
	}
	if errors.Is(remote, ErrNotFound) {
		t.Error("the remote error matches a class it does not have")
	}
	for _, bad := range []string{
		`{"ok":false,"code":"denied","classes":["a","b","c","d","e","f","g","h","i"]}`,
		`{"ok":false,"code":"denied","classes":["Bad Class"]}`,
	} {
		if _, err := DecodeResponse([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestRemoteErrorIs(t *testing.T) {
	sentinels := []error{ErrAccessDenied, ErrNotFound, ErrProtocol, identity.ErrIdentityChanged}
	tests := []struct {
		code string
		is   error // the one sentinel it must match, nil for none
	}{
		{CodeDenied, ErrAccessDenied},
		{CodeNotFound, ErrNotFound},
		{CodeBadRequest, nil},
		{CodeInternal, nil},
		{"teapot", nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			var err error = &RemoteError{Op: "ls", Code: tt.code, Message: "because"}
			wrapped := fmt.Errorf("list share docs on peer X: %w", err)
			for _, s := range sentinels {
				want := s == tt.is
				if got := errors.Is(err, s); got != want {
					t.Errorf("errors.Is(%s, %v) = %v, want %v", tt.code, s, got, want)
				}
				if got := errors.Is(wrapped, s); got != want {
					t.Errorf("wrapped: errors.Is(%s, %v) = %v, want %v", tt.code, s, got, want)
				}
			}
			var re *RemoteError
			if !errors.As(wrapped, &re) || re.Code != tt.code {
				t.Errorf("errors.As lost the remote error: %v", re)
			}
		})
	}
}

func TestRemoteErrorMessage(t *testing.T) {
	tests := []struct {
		err  RemoteError
		want string
	}{
		{RemoteError{Op: "ls", Code: CodeDenied}, "ls: remote peer says denied"},
		{RemoteError{Op: "ls", Code: CodeDenied, Message: "no access to docs"}, "ls: remote peer says: no access to docs"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorResponseCarriesTheClass(t *testing.T) {
	tests := []struct {
		err      error
		wantCode string
		wantIs   error
	}{
		{fmt.Errorf("share docs: %w", ErrAccessDenied), CodeDenied, ErrAccessDenied},
		{fmt.Errorf("file x: %w", ErrNotFound), CodeNotFound, ErrNotFound},
		{fmt.Errorf("%w: bad path", ErrProtocol), CodeBadRequest, nil},
		{errors.New("disk on fire"), CodeInternal, nil},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode, func(t *testing.T) {
			resp := ErrorResponse(tt.err)
			if resp.OK || resp.Code != tt.wantCode || resp.Message != tt.err.Error() {
				t.Fatalf("ErrorResponse = %+v", resp)
			}
			// Through the wire and back: the class survives.
			b, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			remote := &RemoteError{Op: "op", Code: got.Code, Message: got.Message}
			if tt.wantIs != nil && !errors.Is(remote, tt.wantIs) {
				t.Fatalf("remote error %v is not %v", remote, tt.wantIs)
			}
		})
	}
}
