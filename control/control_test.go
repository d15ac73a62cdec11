package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var errDenied = errors.New("denied")

func startServer(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	handle := func(ctx context.Context, op string, args json.RawMessage) (any, error) {
		switch op {
		case "echo":
			var v map[string]any
			if err := json.Unmarshal(args, &v); err != nil {
				return nil, err
			}
			return v, nil
		case "deny":
			return nil, errDenied
		}
		return nil, errors.New("unknown op")
	}
	code := func(err error) (string, []string) {
		if errors.Is(err, errDenied) {
			return "denied", []string{"denied"}
		}
		return "error", nil
	}
	s, err := Listen(home, handle, code, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); s.Close(); <-done })
	return home
}

func TestCallRoundTrip(t *testing.T) {
	home := startServer(t)
	info, err := os.Stat(filepath.Join(home, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket mode %v, want private", info.Mode().Perm())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out map[string]any
	if err := Call(ctx, home, "echo", map[string]any{"a": "b"}, &out); err != nil || out["a"] != "b" {
		t.Fatalf("echo: %v %v", out, err)
	}
	err = Call(ctx, home, "deny", nil, nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != "denied" {
		t.Fatalf("deny: %v", err)
	}
	if err := Call(ctx, t.TempDir(), "echo", nil, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no server: %v", err)
	}
}

func TestMalformedRequestGetsUsageError(t *testing.T) {
	home := startServer(t)
	for _, line := range []string{"not json", `{"op":""}`, `{"args":1}`, strings.Repeat("x", 100)} {
		c, err := net.Dial("unix", filepath.Join(home, SocketName))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, line+"\n")
		resp, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		var r Response
		if err := json.Unmarshal([]byte(resp), &r); err != nil || r.OK || r.Code != "usage" {
			t.Fatalf("%q: response %q", line, resp)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"op":"id"}`, `{"op":"peer.add","args":{"addr":"1.2.3.4:5"}}`, `{}`, `[]`, `{"op":1}`, "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := decodeRequest(line)
		if err != nil {
			return
		}
		if req.Op == "" || len(req.Op) > 64 {
			t.Fatalf("accepted op %q", req.Op)
		}
		r := bufio.NewReader(strings.NewReader(string(line) + "\n"))
		if _, err := readLine(r); err != nil {
			t.Fatalf("readLine: %v", err)
		}
	})
}

func TestCallEventsDeliversProgressBeforeAnswer(t *testing.T) {
	home := t.TempDir()
	handle := func(ctx context.Context, op string, args json.RawMessage) (any, error) {
		for i := range 3 {
			if err := Emit(ctx, map[string]int{"n": i}); err != nil {
				return nil, err
			}
		}
		return "done", nil
	}
	s, err := Listen(home, handle, func(error) (string, []string) { return "error", nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	defer func() { cancel(); s.Close(); <-done }()

	var events []string
	var out string
	err = CallEvents(context.Background(), home, "long", nil, &out, func(e json.RawMessage) { events = append(events, string(e)) })
	if err != nil || out != "done" {
		t.Fatalf("%q %v", out, err)
	}
	if strings.Join(events, " ") != `{"n":0} {"n":1} {"n":2}` {
		t.Fatalf("events %v", events)
	}
	// Plain Call skips them.
	if err := Call(context.Background(), home, "long", nil, &out); err != nil || out != "done" {
		t.Fatalf("%q %v", out, err)
	}
}
