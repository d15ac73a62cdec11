package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRotates(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenSized(dir, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 39)
	line = append(line, '\n')
	for range 10 { // 400 bytes: the log and two rotated ones, the rest dropped
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Name, Name + ".1", Name + ".2"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Size() > 100 || st.Size() == 0 {
			t.Errorf("%s: %d bytes, want 1-100", name, st.Size())
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, Name+".3")); !os.IsNotExist(err) {
		t.Errorf("a third rotated log was kept: %v", err)
	}
	// Reopening appends.
	l, err = OpenSized(dir, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(l.Path())
	l.Write([]byte("again\n"))
	l.Close()
	after, _ := os.ReadFile(filepath.Join(dir, Name))
	if !bytes.HasSuffix(after, []byte("again\n")) || (len(before)+6 <= 100 && !bytes.HasPrefix(after, before)) {
		t.Errorf("reopened log: %q after %q", after, before)
	}
}
