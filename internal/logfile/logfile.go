// Package logfile keeps Peerdesk's log in the peer's home: peerdesk.log,
// private (0600), rotated when it reaches a size into peerdesk.log.1 up to
// peerdesk.log.N, the oldest dropped. The daemon and the desktop app write
// to it besides standard error, so that "the details are in Peerdesk's
// log" is true and Settings › Open log finds them.
package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Name is the log's file name in the home.
const Name = "peerdesk.log"

const (
	// DefaultMaxSize is the size at which the log is rotated.
	DefaultMaxSize = 1 << 20
	// DefaultKeep is how many rotated logs are kept.
	DefaultKeep = 3
)

// File is the rotating log; safe for concurrent use.
type File struct {
	path    string
	maxSize int64
	keep    int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appending) or creates the log in dir.
func Open(dir string) (*File, error) { return OpenSized(dir, DefaultMaxSize, DefaultKeep) }

// OpenSized is Open with a rotation size and number of logs kept.
func OpenSized(dir string, maxSize int64, keep int) (*File, error) {
	l := &File{path: filepath.Join(dir, Name), maxSize: maxSize, keep: max(keep, 1)}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Path is the current log's path.
func (l *File) Path() string { return l.path }

// Write appends p, rotating first if p would take the log over its size.
// A log that cannot be written loses the line, never the caller's work.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return len(p), nil
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return len(p), nil
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		return len(p), nil
	}
	return n, nil
}

// rotate moves peerdesk.log to .1, .1 to .2 and so on, dropping the
// oldest, and starts a new log.
func (l *File) rotate() error {
	l.f.Close()
	l.f = nil
	_ = os.Remove(l.path + "." + strconv.Itoa(l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		_ = os.Rename(l.path+"."+strconv.Itoa(i), l.path+"."+strconv.Itoa(i+1))
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil && !os.IsNotExist(err) {
		return err
	}
	return l.open()
}

// Close closes the log.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
