//go:build !nogui

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/internal/logfile"
)

func TestQuitBound(t *testing.T) {
	const grace = 100 * time.Millisecond
	closed := func() chan struct{} { c := make(chan struct{}); close(c); return c }
	tests := []struct {
		name                string
		signalled, quitting chan struct{}
		finishAfter         time.Duration // <0: never
		wantStuck           bool
	}{
		{"signal, quit finishes in time", closed(), make(chan struct{}), 0, false},
		{"signal, quit hangs", closed(), make(chan struct{}), -1, true},
		{"app's own quit hangs", make(chan struct{}), closed(), -1, true},
		{"app's own quit finishes", make(chan struct{}), closed(), 0, false},
		{"still running", make(chan struct{}), make(chan struct{}), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stuck := make(chan struct{}, 1)
			done := bound(grace, tt.signalled, tt.quitting, func() { stuck <- struct{}{} })
			if tt.finishAfter >= 0 {
				time.Sleep(tt.finishAfter)
				done()
			}
			select {
			case <-stuck:
				if !tt.wantStuck {
					t.Error("called a quit stuck that was not")
				}
			case <-time.After(10 * grace):
				if tt.wantStuck {
					t.Error("a stuck quit went unnoticed")
				}
			}
		})
	}
}

// A detached app's standard error is the log file: its lines are written
// there once, not twice.
func TestLogWriterOnceWhenStderrIsTheLog(t *testing.T) {
	home := t.TempDir()
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(home, logfile.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		name   string
		stderr *os.File
		want   int
	}{
		{"stderr is the log", f, 1},
		{"stderr elsewhere", nil, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Truncate(f.Name(), 0); err != nil {
				t.Fatal(err)
			}
			var other bytes.Buffer
			c := &cli{home: home, stderr: &other}
			if tt.stderr != nil {
				c.stderr = tt.stderr
			}
			w, closeLog := c.logWriter()
			if _, err := w.Write([]byte("one line\n")); err != nil {
				t.Fatal(err)
			}
			closeLog()
			b, _ := os.ReadFile(f.Name())
			if got := strings.Count(string(b), "one line") + strings.Count(other.String(), "one line"); got != tt.want {
				t.Errorf("line written %d times, want %d (log %q, stderr %q)", got, tt.want, b, other.String())
			}
		})
	}
}
