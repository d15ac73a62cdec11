package transport

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
)

func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []struct {
		typ     FrameType
		payload []byte
	}{
		{FrameRequest, []byte(`{"op":"ping"}`)},
		{FrameResponse, []byte(`{"ok":false,"code":"denied"}`)},
		{FrameData, []byte("some body bytes")},
		{FrameData, nil},
		{FrameEnd, binary.BigEndian.AppendUint64(nil, 12345)},
	} {
		b, err := AppendFrame(nil, seed.typ, seed.payload)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("PD"))
	f.Add(rawFrame("PD", ProtocolVersion, byte(FrameEnd), 0, 0, 4, []byte("abcd")))
	f.Add(rawFrame("PD", ProtocolVersion, byte(FrameData), 0, 0, 0xffffffff, nil))
	f.Add(rawFrame("PD", 2, 9, 1, 1, 3, []byte("abc")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		fr, err := DecodeFrame(msg)
		if err != nil {
			if !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("error %v is neither ErrProtocol nor ErrFrameTooLarge", err)
			}
			return
		}
		if max := fr.Type.maxPayload(); max < 0 || len(fr.Payload) > max {
			t.Fatalf("accepted %s frame with %d-byte payload", fr.Type, len(fr.Payload))
		}
		if fr.Type == FrameEnd && len(fr.Payload) != 8 {
			t.Fatalf("accepted end frame of %d bytes", len(fr.Payload))
		}
		// The encoding is canonical: re-encoding gives the same bytes.
		again, err := AppendFrame(nil, fr.Type, fr.Payload)
		if err != nil {
			t.Fatalf("re-encode accepted frame: %v", err)
		}
		if !bytes.Equal(again, msg) {
			t.Fatalf("round trip changed the frame:\n in  %x\n out %x", msg, again)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"ping"}`,
		`{"op":"ls","body":{"path":"a/b"}}`,
		`{"op":"bench.download","body":{"n":1048576}}`,
		`{"op":"x","body":null}`,
		`{"OP":"ping","Body":[1, 2 ,3]}`,
		`{"op":"Ping"}`,
		`{"op":""}`,
		`null`,
		`{"op":"a","body":"<&>\u2028"}`,
		`{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeRequest(p)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if !opPattern.MatchString(r.Op) {
			t.Fatalf("accepted op %q", r.Op)
		}
		// Encoding normalises (compacts the body, escapes HTML); after one
		// pass, encode and decode must agree.
		b1, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode accepted request: %v", err)
		}
		r2, err := DecodeRequest(b1)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b1, err)
		}
		if r2.Op != r.Op {
			t.Fatalf("op %q became %q", r.Op, r2.Op)
		}
		b2, err := json.Marshal(r2)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("round trip not stable:\n %s\n %s", b1, b2)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"ok":true}`,
		`{"ok":true,"body":{"n":1}}`,
		`{"ok":false,"code":"denied","message":"no"}`,
		`{"ok":false,"code":"not_found"}`,
		`{"ok":false}`,
		`{"OK":true,"Body":  [ ]}`,
		`{"ok":false,"code":"x","message":"\ud800"}`,
		`{}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeResponse(p)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if !r.OK && r.Code == "" {
			t.Fatalf("accepted failed response without code: %+v", r)
		}
		b1, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encode accepted response: %v", err)
		}
		r2, err := DecodeResponse(b1)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b1, err)
		}
		if r2.OK != r.OK {
			t.Fatalf("ok %v became %v", r.OK, r2.OK)
		}
		b2, err := json.Marshal(r2)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("round trip not stable:\n %s\n %s", b1, b2)
		}
		if !r.OK {
			// Whatever code a peer sends, the error it becomes must not panic.
			_ = (&RemoteError{Op: "fuzz", Code: r.Code, Message: r.Message}).Error()
		}
	})
}
